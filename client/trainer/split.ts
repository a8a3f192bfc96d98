/**
 * The seeded, stratified train/validation/test split: per class, ids are sorted, shuffled by a PRNG seeded with
 * the run's seed and the class name, then cut by the settings' fractions, or (k-fold) test first and then k
 * contiguous folds of what is left, one of which validates. The same seed and the same images give the same split
 * on every run and every machine, whatever order the images arrive in; the k folds of one seed are disjoint and
 * cover every non-test image once.
 */
import type { ImageEntry } from '../../shared/records';
import type { SplitAssignment, TrainSettings } from '../../shared/training';
import { hashSeed, mulberry32 } from '../../shared/seeded-random';

/** Fisher-Yates with a seeded PRNG, in place. */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  const random = mulberry32(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Splits images (content-hash ids; an id listed twice in one class is one image) class by class. A class with
 * two or more images always keeps at least one for validation and one for training; a class with one image trains.
 */
export function splitImages(
  images: readonly Pick<ImageEntry, 'id' | 'class'>[],
  settings: Pick<TrainSettings, 'seed' | 'split'>,
): SplitAssignment {
  const { validation, test, fold } = settings.split;
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) {
    throw new RangeError(`split fractions must be >= 0 and sum to less than 1, got ${validation} and ${test}`);
  }
  if (fold && !isFold(fold)) {
    throw new RangeError(`a fold needs a whole count >= 2 and an index in 0..count-1, got ${fold.count} and ${fold.index}`);
  }
  const classOf = new Map<string, string>();
  for (const image of images) {
    const known = classOf.get(image.id);
    if (known !== undefined && known !== image.class) {
      throw new Error(`image ${image.id} is listed under two classes: '${known}' and '${image.class}'`);
    }
    classOf.set(image.id, image.class);
  }
  const byClass = new Map<string, string[]>();
  for (const [id, name] of classOf) byClass.set(name, [...(byClass.get(name) ?? []), id]);

  const result: SplitAssignment = { train: [], validation: [], test: [] };
  for (const name of [...byClass.keys()].sort()) {
    const ids = seededShuffle(byClass.get(name)!.sort(), hashSeed(`${settings.seed}:split:${name}`));
    if (fold) {
      assignFold(ids, Math.round(ids.length * test), fold, result);
      continue;
    }
    const n = ids.length;
    let nValidation = Math.round(n * validation);
    let nTest = Math.round(n * test);
    if (n >= 2 && validation > 0) nValidation = Math.max(1, nValidation);
    // Training keeps at least one image; test gives way first, then validation (never below one).
    while (n - nValidation - nTest < 1 && nTest > 0) nTest--;
    while (n - nValidation - nTest < 1 && nValidation > 1) nValidation--;
    if (n - nValidation - nTest < 1) nValidation = 0;
    result.validation.push(...ids.slice(0, nValidation));
    result.test.push(...ids.slice(nValidation, nValidation + nTest));
    result.train.push(...ids.slice(nValidation + nTest));
  }
  return result;
}

type Fold = NonNullable<TrainSettings['split']['fold']>;

export function isFold({ count, index }: Fold): boolean {
  return Number.isInteger(count) && count >= 2 && Number.isInteger(index) && index >= 0 && index < count;
}

/**
 * One class's shuffled ids: the first `testCount` test, the rest cut into `count` folds of sizes that differ by at
 * most one; fold `index` validates, the others train.
 */
function assignFold(ids: string[], testCount: number, { count, index }: Fold, result: SplitAssignment): void {
  const rest = ids.slice(testCount);
  const start = Math.floor((index * rest.length) / count);
  const end = Math.floor(((index + 1) * rest.length) / count);
  result.test.push(...ids.slice(0, testCount));
  result.validation.push(...rest.slice(start, end));
  result.train.push(...rest.slice(0, start), ...rest.slice(end));
}
