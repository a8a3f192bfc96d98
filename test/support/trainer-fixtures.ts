/**
 * Test helper for the trainer tests: a per-class subset of the real flowers dataset, its features from
 * node-features.ts, and SampleSources over them for a split, the way the trainer's worker builds them from the cache.
 */
import type { SplitAssignment, TrainSettings } from '../../shared/training';
import type { TrainJob } from '../../client/trainer/train';
import { loadBaseModel } from '../../client/engine/base-model';
import { splitImages } from '../../client/trainer/split';
import { memorySource, splitSamples, type SampleSource } from '../../client/trainer/sources';
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerWasmBackpropKernels } from '../../client/trainer/wasm-backprop-kernels';
import { readModelArtifacts } from '../../tools/measure/model-artifacts';
import { useBackend } from '../../tools/measure/tf-node';
import { FLOWERS_DIR, MOBILENET_V2_DIR, extractFeatures, listClassFolder, type ClassFolder, type ExtractedFeatures } from './node-features';

export interface FlowersFixture {
  folder: ClassFolder;
  features: ExtractedFeatures;
  inputSize: number;
  labelOf: Map<string, number>;
  indexOf: Map<string, number>;
}

export async function flowersFixture(options: {
  perClass: number;
  inputSize: number;
  views?: number;
  fineTuneAt?: number | string;
}): Promise<FlowersFixture> {
  const folder = await listClassFolder(FLOWERS_DIR, { perClass: options.perClass });
  const features = await extractFeatures({
    images: folder.images,
    inputSize: options.inputSize,
    views: options.views,
    fineTuneAt: options.fineTuneAt,
  });
  return {
    folder,
    features,
    inputSize: options.inputSize,
    labelOf: new Map(folder.images.map((im) => [im.id, folder.classes.indexOf(im.className)])),
    indexOf: new Map(folder.images.map((im, i) => [im.id, i])),
  };
}

/** The fixture on the backend the trainer runs on: wasm, with the backprop kernels tfjs-wasm lacks. */
export async function wasmFlowersFixture(options: Parameters<typeof flowersFixture>[0]): Promise<FlowersFixture> {
  await useBackend('wasm');
  registerWasmBackpropKernels();
  return flowersFixture(options);
}

export function splitOf(fixture: FlowersFixture, settings: Pick<TrainSettings, 'seed' | 'split'>): SplitAssignment {
  return splitImages(fixture.folder.images.map((i) => ({ id: i.id, class: i.className })), settings);
}

/** Sources of pooled features ('pooled') or cut activations ('cut') for each part of the split. */
export function sourcesOf(
  fixture: FlowersFixture,
  split: SplitAssignment,
  augmentViews: number,
  kind: 'pooled' | 'cut',
): Record<keyof SplitAssignment, SampleSource> {
  const samples = splitSamples(split, augmentViews);
  const { features } = fixture;
  if (features.pooled.length <= augmentViews) throw new Error(`the fixture has ${features.pooled.length - 1} augmented views, not ${augmentViews}: extract them`);
  const source = (refs: { imageId: string; view: number }[]) =>
    memorySource(
      refs.map(({ imageId, view }) => {
        const index = fixture.indexOf.get(imageId)!;
        const inputs = kind === 'pooled' ? [features.pooled[view][index]] : features.cut![view][index];
        return { imageId, label: fixture.labelOf.get(imageId)!, inputs };
      }),
    );
  return { train: source(samples.train), validation: source(samples.validation), test: source(samples.test) };
}

/** A freshly loaded MobileNetV2-0.35 base truncated at out_relu, as the trainer's worker loads it. */
export async function loadFlowersBase(inputSize: number): Promise<tfl.LayersModel> {
  const { artifacts } = await readModelArtifacts(MOBILENET_V2_DIR);
  return loadBaseModel(artifacts, { bottleneck: 'out_relu', inputSize });
}

/** A training job on the fixture as the trainer's worker builds it: its split, pooled features for stage 1, cut activations for stage 2. */
export function trainJobOf(fixture: FlowersFixture, settings: TrainSettings, base: tfl.LayersModel): TrainJob {
  const split = splitOf(fixture, settings);
  const pooled = sourcesOf(fixture, split, settings.augmentViews, 'pooled');
  const cut = sourcesOf(fixture, split, settings.augmentViews, 'cut');
  return {
    base,
    classes: fixture.folder.classes,
    split,
    settings,
    data: {
      head: { train: pooled.train, validation: pooled.validation },
      cut: { train: cut.train, validation: cut.validation },
    },
  };
}
