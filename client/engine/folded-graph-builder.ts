/**
 * A folded graph (fold.ts) under construction, as foldModel() (fold-model.ts) walks a layers model: the tensors
 * and ops so far, which graph tensor each symbolic tensor of the model became, and which op makes each tensor,
 * so that a BatchNorm or an activation can fold into the op before it.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { FoldError, type FoldedGraph, type FoldedOp, type FusedActivation, type GraphTensor } from './fold';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

export class FoldedGraphBuilder {
  readonly #tensors: GraphTensor[] = [];
  readonly #ops: FoldedOp[] = [];
  /** Symbolic tensor id -> graph tensor index. */
  readonly #indexOf = new Map<number, number>();
  /** Graph tensor index -> the op that makes it. */
  readonly #producer = new Map<number, FoldedOp>();

  /** `readers`: symbolic tensor id -> how many layers read it, plus one for each model output it is. */
  constructor(private readonly readers: ReadonlyMap<number, number>) {}

  /** A new graph tensor for `symbolic` (batch dimension 1), named after the layer that makes it. */
  addTensor(symbolic: SymbolicTensor, name: string): number {
    const shape = symbolic.shape.map((d, i) => (i === 0 ? 1 : d));
    if (shape.some((d) => d === null)) throw new Error(`the output of '${name}' has an undefined size: ${JSON.stringify(symbolic.shape)}`);
    this.#tensors.push({ name, shape: shape as number[] });
    this.#indexOf.set(symbolic.id, this.#tensors.length - 1);
    return this.#tensors.length - 1;
  }

  /** The graph tensor `layer` reads as `t`. */
  inputIndex(t: SymbolicTensor, layer: Layer): number {
    const index = this.#indexOf.get(t.id);
    if (index === undefined) throw new FoldError(layer.name, layer.getClassName(), 'reads a tensor the graph does not have');
    return index;
  }

  /** Makes `layer`'s output the very tensor it reads (an identity at inference). */
  passThrough(layer: Layer, input: SymbolicTensor, output: SymbolicTensor): void {
    this.#indexOf.set(output.id, this.inputIndex(input, layer));
  }

  /** Appends `op`, its output a new tensor for `layer`'s output. */
  emit(op: Omit<FoldedOp, 'output'> & { kind: FoldedOp['kind'] }, output: SymbolicTensor, layer: Layer): FoldedOp {
    const full = { ...op, output: this.addTensor(output, layer.name) } as FoldedOp;
    this.#ops.push(full);
    this.#producer.set(full.output, full);
    return full;
  }

  /** Renames a graph tensor (a dense op's logits, when the layer's output is their softmax). */
  rename(index: number, name: string): void {
    this.#tensors[index] = { ...this.#tensors[index], name };
  }

  /**
   * The op a BatchNorm or activation reading `input` folds into: its producer when this layer is the only reader
   * of `input`. When the unfolded tensor is needed too (a model output such as a fine-tune cut tensor, or another
   * layer's input), a copy of a conv, dense or add producer computes the folded tensor beside it. Else null.
   */
  foldTarget(input: SymbolicTensor): FoldedOp | null {
    const index = this.#indexOf.get(input.id);
    const op = index === undefined ? undefined : this.#producer.get(index);
    if (!op) return null;
    if (this.readers.get(input.id) === 1) return op;
    if (op.kind !== 'conv2d' && op.kind !== 'depthwise' && op.kind !== 'dense' && op.kind !== 'add') return null;
    this.#tensors.push({ ...this.#tensors[op.output] });
    const copy = { ...op, layers: [...op.layers], output: this.#tensors.length - 1 };
    this.#ops.push(copy);
    this.#producer.set(copy.output, copy);
    return copy;
  }

  /** Makes `layer`'s output the folded op's output (same shape), renamed after the layer. */
  rebind(op: FoldedOp, layer: Layer, output: SymbolicTensor): void {
    this.rename(op.output, layer.name);
    this.#indexOf.set(output.id, op.output);
    op.layers.push(layer.name);
  }

  /** Fuses an activation layer into the conv, dense or add before it (a linear one passes its input through). */
  fuseActivation(layer: Layer, input: SymbolicTensor, output: SymbolicTensor, activation: FusedActivation): void {
    const target = this.foldTarget(input);
    if (activation === 'none') {
      this.passThrough(layer, input, output);
      return;
    }
    if (!target || !('activation' in target) || target.activation !== 'none') {
      throw new FoldError(layer.name, layer.getClassName(), 'an activation must directly follow a conv, dense or add whose only reader it is');
    }
    target.activation = activation;
    this.rebind(target, layer, output);
  }

  /** The finished graph: `input` and the model's outputs as graph tensors. */
  graph(input: number, modelOutputs: readonly SymbolicTensor[]): FoldedGraph {
    const outputs = modelOutputs.map((t) => this.#indexOf.get(t.id));
    if (input < 0 || outputs.some((o) => o === undefined)) throw new Error('the model has no input or output the graph reaches');
    return { tensors: this.#tensors, input, output: outputs[0]!, outputs: outputs as number[], ops: this.#ops };
  }
}
