/**
 * The seeded stratified split on the real flowers listing: what a user relies on is that validation holds the same
 * share of every class, that the same seed gives the same split on every run, and that another seed gives another.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { splitImages } from '../../client/trainer/split';
import { FLOWERS_DIR, listClassFolder, type ClassFolder } from '../support/node-features';

let flowers: ClassFolder;
let images: { id: string; class: string }[];

beforeAll(async () => {
  flowers = await listClassFolder(FLOWERS_DIR);
  images = flowers.images.map((i) => ({ id: i.id, class: i.className }));
});

function countByClass(ids: string[]): Map<string, number> {
  const classOf = new Map(images.map((i) => [i.id, i.class]));
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(classOf.get(id)!, (counts.get(classOf.get(id)!) ?? 0) + 1);
  return counts;
}

describe('splitImages', () => {
  it('is stratified 80/10/10 per class and uses every distinct image exactly once', () => {
    const split = splitImages(images, { seed: 7, split: { validation: 0.1, test: 0.1 } });
    const all = [...split.train, ...split.validation, ...split.test];
    const distinct = new Set(images.map((i) => i.id));
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(all)).toEqual(distinct);

    const total = countByClass([...distinct]);
    const validation = countByClass(split.validation);
    const test = countByClass(split.test);
    expect([...total.keys()].sort()).toEqual(flowers.classes);
    for (const [name, n] of total) {
      expect(Math.abs(validation.get(name)! - n * 0.1)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(test.get(name)! - n * 0.1)).toBeLessThanOrEqual(0.5);
    }
  });

  it('gives the same split for the same seed, whatever order the images come in, and another for another seed', () => {
    const settings = { seed: 42, split: { validation: 0.2, test: 0 } };
    const first = splitImages(images, settings);
    const reversed = splitImages([...images].reverse(), settings);
    expect(reversed).toEqual(first);
    const other = splitImages(images, { ...settings, seed: 43 });
    expect(new Set(other.validation)).not.toEqual(new Set(first.validation));
    // Stratified either way.
    expect(countByClass(other.validation)).toEqual(countByClass(first.validation));
  });

  it('keeps a validation image for every class with two or more images, and trains on a lone image', () => {
    const small = images.filter((i) => i.class !== 'roses');
    const tiny = [
      ...small.filter((i) => i.class === 'daisy').slice(0, 2),
      ...small.filter((i) => i.class === 'tulips').slice(0, 3),
      ...small.filter((i) => i.class === 'sunflowers').slice(0, 1),
    ];
    const split = splitImages(tiny, { seed: 1, split: { validation: 0.1, test: 0.1 } });
    const validation = countByClass(split.validation);
    const train = countByClass(split.train);
    expect(validation.get('daisy')).toBe(1);
    expect(validation.get('tulips')).toBe(1);
    expect(validation.get('sunflowers')).toBeUndefined();
    expect(train.get('daisy')).toBe(1);
    expect(train.get('tulips')).toBeGreaterThanOrEqual(1);
    expect(train.get('sunflowers')).toBe(1);
  });

  it('counts an image listed twice in its class once, and rejects one listed under two classes', () => {
    const daisies = images.filter((i) => i.class === 'daisy').slice(0, 10);
    const settings = { seed: 3, split: { validation: 0.2, test: 0 } };
    expect(splitImages([...daisies, daisies[0]], settings)).toEqual(splitImages(daisies, settings));
    expect(() => splitImages([...daisies, { id: daisies[0].id, class: 'tulips' }], settings)).toThrow(/two classes/);
  });

  it('rejects fractions that leave nothing to train on', () => {
    expect(() => splitImages(images, { seed: 1, split: { validation: 0.6, test: 0.4 } })).toThrow(/less than 1/);
  });

  describe('k-fold', () => {
    const folds = (seed: number, count: number, test = 0) =>
      Array.from({ length: count }, (_, index) => splitImages(images, { seed, split: { validation: 0.2, test, fold: { count, index } } }));

    it('validates on k disjoint, stratified folds that together cover every image once', () => {
      const five = folds(11, 5);
      const validated = five.flatMap((s) => s.validation);
      expect(new Set(validated).size).toBe(validated.length);
      expect(new Set(validated)).toEqual(new Set(images.map((i) => i.id)));
      const total = countByClass([...new Set(images.map((i) => i.id))]);
      for (const split of five) {
        // Each fold trains on everything it does not validate.
        expect(split.train.length + split.validation.length).toBe(new Set(images.map((i) => i.id)).size);
        expect(split.train.filter((id) => split.validation.includes(id))).toEqual([]);
        for (const [name, n] of countByClass(split.validation)) expect(Math.abs(n - total.get(name)! / 5)).toBeLessThan(1);
      }
    });

    it('is the same for the same seed in any image order, another for another seed, and keeps test out of every fold', () => {
      const three = folds(5, 3, 0.1);
      const reversed = Array.from({ length: 3 }, (_, index) =>
        splitImages([...images].reverse(), { seed: 5, split: { validation: 0.2, test: 0.1, fold: { count: 3, index } } }),
      );
      expect(reversed).toEqual(three);
      expect(new Set(folds(6, 3, 0.1)[0].validation)).not.toEqual(new Set(three[0].validation));
      // One test set for all folds, never validated or trained on.
      for (const split of three) {
        expect(split.test).toEqual(three[0].test);
        expect(split.validation.some((id) => three[0].test.includes(id))).toBe(false);
        expect(split.train.some((id) => three[0].test.includes(id))).toBe(false);
      }
      expect(Math.abs(three[0].test.length - images.length * 0.1)).toBeLessThan(5);
    });

    it('rejects a fold index outside the count', () => {
      expect(() => splitImages(images, { seed: 1, split: { validation: 0.2, test: 0, fold: { count: 5, index: 5 } } })).toThrow(/fold/);
      expect(() => splitImages(images, { seed: 1, split: { validation: 0.2, test: 0, fold: { count: 1, index: 0 } } })).toThrow(/fold/);
    });
  });
});
