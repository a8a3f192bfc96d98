/**
 * Training samples read from the feature cache: pooled bottleneck features are loaded into memory once
 * (1280 floats a sample), cut activations stream from IndexedDB a batch at a time (they are ~100x larger).
 * A sample missing from the cache is an error that names it: extraction must finish first.
 */
import type { Augmentation } from '../../../shared/augmentation';
import { decodeTensor } from '../../cache/codec';
import { getMany } from '../../cache/feature-store';
import type { StoredFeatureRecord } from '../../cache/schema';
import { featureKey } from '../../cache/keys';
import { memorySource, type SampleRef, type SampleSource } from '../sources';

async function readRecords(modelKey: string, refs: readonly SampleRef[], augmentation: Augmentation): Promise<StoredFeatureRecord[]> {
  const records = await getMany(refs.map((r) => featureKey(modelKey, r.imageId, r.view, augmentation)));
  const missing = records.findIndex((r) => r === undefined);
  if (missing >= 0) {
    const ref = refs[missing];
    throw new Error(`features of image ${ref.imageId.slice(0, 12)}… view ${ref.view} are not cached: extract them first`);
  }
  return records as StoredFeatureRecord[];
}

/** All samples decoded into memory: for pooled features. */
export async function loadInMemory(
  modelKey: string,
  refs: readonly SampleRef[],
  labelOf: (imageId: string) => number,
  augmentation: Augmentation,
): Promise<SampleSource> {
  const records = await readRecords(modelKey, refs, augmentation);
  return memorySource(
    records.map((record, i) => ({
      imageId: refs[i].imageId,
      label: labelOf(refs[i].imageId),
      inputs: record.tensors.map(decodeTensor),
    })),
  );
}

/** Samples read per batch: for cut activations. */
export function streamFromCache(
  modelKey: string,
  refs: readonly SampleRef[],
  labelOf: (imageId: string) => number,
  augmentation: Augmentation,
): SampleSource {
  const labels = Int32Array.from(refs, (r) => labelOf(r.imageId));
  return {
    imageIds: refs.map((r) => r.imageId),
    labels,
    async batch(indices) {
      const records = await readRecords(modelKey, indices.map((i) => refs[i]), augmentation);
      const sizes = records[0].tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
      const inputs = sizes.map((size) => new Float32Array(size * records.length));
      records.forEach((record, row) => record.tensors.forEach((t, k) => inputs[k].set(decodeTensor(t), row * sizes[k])));
      return { inputs, labels: Int32Array.from(indices, (i) => labels[i]) };
    },
  };
}
