/**
 * The frozen part of the base as a float32 .tflite file the farm runs in LiteRT.js: the folded extraction graph
 * (client/farm/extractor.ts builds it: image -> the fine-tune cut tensors, then the bottleneck) with the batch
 * dimension of the caller's choice, and outputs that are exactly what the feature cache stores: each cut tensor
 * as the layers model makes it, then the bottleneck's MEAN over height and width (GlobalAveragePooling2D, the
 * pooled features). Input: preprocessed float32 images [batch, S, S, 3]. No DOM, no tfjs.
 */
import type { FoldedGraph } from '../engine/fold';
import { TfliteGraph, bytesOf, writeOp } from './graph-writer';
import * as schema from './schema';
import { BuiltinOperator, TensorType } from './schema';

/** Output names of the file, in its signature's order: `cut_0`, `cut_1`, ..., then `pooled`. */
export const POOLED_OUTPUT = 'pooled';
export const cutOutputName = (index: number) => `cut_${index}`;

/**
 * Writes `graph` (one input [1, S, S, C]; outputs: the cut tensors, then the bottleneck [1, h, w, channels]) as a
 * float32 file whose every activation has batch `batch`. Every op is one fold-model.ts makes; a layer it cannot express
 * failed earlier, in foldModel, with the layer's name.
 */
export function writeBaseTflite(graph: FoldedGraph, batch: number): Uint8Array {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a whole number >= 1, got ${batch}`);
  const bottleneck = graph.outputs.at(-1);
  if (bottleneck === undefined || graph.tensors[bottleneck].shape.length !== 4) {
    throw new Error('the base graph must end in a bottleneck of shape [1, h, w, channels]');
  }
  const g = new TfliteGraph('float32');
  const batched = (shape: number[]) => [batch, ...shape.slice(1)];
  /** Graph tensor index -> TFLite tensor index. */
  const mapped = new Map<number, number>();
  const declare = (index: number): number => {
    const t = graph.tensors[index];
    const id = g.addTensor({ name: t.name, shape: batched(t.shape), type: TensorType.FLOAT32 });
    mapped.set(index, id);
    return id;
  };
  const tfliteOf = (index: number) => {
    const id = mapped.get(index);
    if (id === undefined) throw new Error(`'${graph.tensors[index].name}' is read before it is written`);
    return id;
  };
  const input = declare(graph.input);
  for (const op of graph.ops) writeOp(g, graph, op, { kind: 'float32', quantizationOf: () => undefined, declare, tfliteOf });

  const channels = graph.tensors[bottleneck].shape[3];
  const pooled = g.addTensor({ name: POOLED_OUTPUT, shape: [batch, channels], type: TensorType.FLOAT32 });
  const axes = g.addTensor({ name: `${POOLED_OUTPUT}/axes`, shape: [2], type: TensorType.INT32 }, bytesOf(Int32Array.from([1, 2])));
  g.addOp(BuiltinOperator.MEAN, [tfliteOf(bottleneck), axes], [pooled], (b) => schema.reducerOptions(b, false));

  const cut = graph.outputs.slice(0, -1).map((index, i): [string, number] => [cutOutputName(i), tfliteOf(index)]);
  return g.finish({ inputs: [['image', input]], outputs: [...cut, [POOLED_OUTPUT, pooled]] }, `Graft frozen base (float32, batch ${batch})`);
}
