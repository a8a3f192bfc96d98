/**
 * Cache keys: every field that changes the stored numbers changes the key, and the same inputs always give
 * the same key. Uses the real weights hash of the shared MobileNetV2 and real image ids.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { featureKey, modelKey, type ModelKeyParts } from '../../client/cache/keys';
import { DEFAULT_AUGMENTATION, type Augmentation } from '../../shared/augmentation';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));

/** sha256 of all weight bytes in weightsManifest order, as ingest records it. */
function weightsHashOf(modelDir: string): string {
  const dir = join(SHARED, 'models', modelDir);
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const hash = createHash('sha256');
  for (const group of model.weightsManifest) for (const path of group.paths) hash.update(readFileSync(join(dir, path)));
  return hash.digest('hex');
}

function imageIds(count: number): string[] {
  const dir = join(SHARED, 'datasets/cats_vs_dogs/cats');
  return readdirSync(dir)
    .sort()
    .slice(0, count)
    .map((file) => createHash('sha256').update(readFileSync(join(dir, file))).digest('hex'));
}

const v2Hash = weightsHashOf('mobilenet_v2_0.35_224_no_top');
const v1Hash = weightsHashOf('mobilenet_v1_0.25_224');
const base: ModelKeyParts = { modelId: 'mobilenet-v2-035-224', weightsHash: v2Hash, inputSize: 224, cutLayer: 'out_relu' };

describe('modelKey', () => {
  it('is the same for the same model on every call', () => {
    expect(modelKey({ ...base })).toBe(modelKey(base));
  });

  it('differs when any one field differs', () => {
    const variants: ModelKeyParts[] = [
      base,
      { ...base, modelId: 'mobilenet-v2-035-224-b' },
      { ...base, weightsHash: v1Hash },
      { ...base, inputSize: 192 },
      { ...base, cutLayer: 'block_13_expand' },
    ];
    const keys = variants.map(modelKey);
    expect(new Set(keys).size).toBe(variants.length);
  });

  it('keeps a weights hash prefix long enough to tell weights apart (at least 16 hex digits)', () => {
    const key = modelKey(base);
    expect(key).toContain(v2Hash.slice(0, 16));
    // Two hashes that share their first 16 digits still give different keys.
    const twin = v2Hash.slice(0, 16) + (v2Hash[16] === '0' ? '1' : '0') + v2Hash.slice(17);
    expect(modelKey({ ...base, weightsHash: twin })).not.toBe(key);
  });

  it('cannot be forged through separators in the cut layer name', () => {
    const a = modelKey({ ...base, cutLayer: 'a|224' });
    const b = modelKey({ ...base, cutLayer: 'a' });
    expect(a).not.toBe(b);
    expect(a.split('|')).toHaveLength(5);
  });

  it('refuses a weights hash that is not hex or too short', () => {
    expect(() => modelKey({ ...base, weightsHash: 'abc' })).toThrow(/hex/);
    expect(() => modelKey({ ...base, weightsHash: v2Hash.toUpperCase() })).toThrow(/hex/);
    expect(() => modelKey({ ...base, inputSize: 0 })).toThrow(/input size/);
  });
});

describe('featureKey', () => {
  const model = modelKey(base);
  const [a, b] = imageIds(2) as [string, string];

  it('is stable and distinct per model, image and view', () => {
    expect(featureKey(model, a, 0)).toBe(featureKey(model, a, 0));
    const keys = [
      featureKey(model, a, 0),
      featureKey(model, b, 0),
      featureKey(model, a, 1, DEFAULT_AUGMENTATION),
      featureKey(model, a, 10, DEFAULT_AUGMENTATION),
      featureKey(modelKey({ ...base, cutLayer: 'block_13_expand' }), a, 0),
      featureKey(modelKey({ ...base, weightsHash: v1Hash }), a, 0),
      featureKey(modelKey({ ...base, inputSize: 160 }), a, 0),
      featureKey(modelKey({ ...base, modelId: 'other' }), a, 0),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('changes for an augmented view with every augmentation parameter, and not for view 0', () => {
    const variants: Augmentation[] = [
      DEFAULT_AUGMENTATION,
      { ...DEFAULT_AUGMENTATION, flip: 'none' },
      { ...DEFAULT_AUGMENTATION, rotation: 0.1 },
      { ...DEFAULT_AUGMENTATION, zoom: 0.3 },
      { ...DEFAULT_AUGMENTATION, fill: 'nearest' },
      { ...DEFAULT_AUGMENTATION, interpolation: 'nearest' },
    ];
    const augmented = variants.map((augmentation) => featureKey(model, a, 1, augmentation));
    expect(new Set(augmented).size).toBe(variants.length);
    expect(featureKey(model, a, 1, { ...DEFAULT_AUGMENTATION })).toBe(augmented[0]);
    // The original image is the same whatever the augmentation: its features stay cached.
    expect(new Set(variants.map((augmentation) => featureKey(model, a, 0, augmentation)))).toEqual(new Set([featureKey(model, a, 0)]));
  });

  it('refuses an augmented view without its augmentation', () => {
    expect(() => featureKey(model, a, 1)).toThrow(/augmentation/);
  });

  it('starts with its model key, so one model’s features sort together', () => {
    expect(featureKey(model, a, 3, DEFAULT_AUGMENTATION).startsWith(`${model}|`)).toBe(true);
  });

  it('refuses a negative or fractional view and an empty image id', () => {
    expect(() => featureKey(model, a, -1)).toThrow(/view/);
    expect(() => featureKey(model, a, 1.5)).toThrow(/view/);
    expect(() => featureKey(model, '', 0)).toThrow(/image id/);
    expect(() => featureKey('not-a-model-key', a, 0)).toThrow(/model key/);
  });
});
