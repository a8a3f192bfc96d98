/**
 * The seeds' augmentation as the farm applies it: a horizontal flip mirrors the image, rotation and zoom stay
 * within RandomRotation(0.2) and RandomZoom(0.2), reflect padding leaves no black corners, and every view is
 * the same function of (image id, view) on every run, so cached views and the preview agree.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { augment, augmentParams } from '../../client/engine/augment';
import { DEFAULT_AUGMENTATION } from '../../shared/augmentation';
import { decodeFile } from '../../tools/measure/decode-file';
import { FLOWERS_DIR, listClassFolder } from '../support/node-features';
import { resizeToSquare } from '../../client/engine/preprocess';
import { useBackend } from '../../tools/measure/tf-node';

let photo: tf.Tensor4D;

beforeAll(async () => {
  await useBackend('wasm');
  const folder = await listClassFolder(FLOWERS_DIR, { perClass: 1 });
  photo = tf.expandDims(resizeToSquare(await decodeFile(folder.images[0].path), 96)) as tf.Tensor4D;
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('augmentation', () => {
  it('with no flip, rotation or zoom, returns the image', () => {
    const same = augment(photo, [{ flip: false, angle: 0, zoom: 0 }], DEFAULT_AUGMENTATION);
    expect(maxAbsDiff(same, photo)).toBeLessThan(1e-3);
  });

  it('flips horizontally: the mirror image of the photo', () => {
    const flipped = augment(photo, [{ flip: true, angle: 0, zoom: 0 }], DEFAULT_AUGMENTATION);
    expect(maxAbsDiff(flipped, tf.reverse(photo, 2))).toBeLessThan(1e-3);
    // and not the photo itself
    expect(maxAbsDiff(flipped, photo)).toBeGreaterThan(10);
  });

  it('rotates a quarter turn into a rotated copy of the photo', () => {
    const turned = augment(photo, [{ flip: false, angle: Math.PI / 2, zoom: 0 }], DEFAULT_AUGMENTATION);
    const candidates = [tf.transpose(tf.reverse(photo, 2), [0, 2, 1, 3]), tf.reverse(tf.transpose(photo, [0, 2, 1, 3]), 2)];
    // The outermost pixels sample a hair outside the image (cos(pi/2) is 6e-17, not 0), where the fill mode
    // takes over: compare the inside.
    const inside = (t: tf.Tensor4D) => tf.slice(t, [0, 1, 1, 0], [1, 94, 94, 3]);
    expect(Math.min(...candidates.map((c) => maxAbsDiff(inside(turned), inside(c as tf.Tensor4D))))).toBeLessThan(1e-3);
  });

  it('zooms out with reflect padding: no empty border', () => {
    const zoomedOut = augment(photo, [{ flip: false, angle: 0, zoom: DEFAULT_AUGMENTATION.zoom }], DEFAULT_AUGMENTATION);
    const corner = tf.tidy(() => tf.mean(tf.slice(zoomedOut, [0, 0, 0, 0], [1, 4, 4, 3])).dataSync()[0]);
    expect(corner).toBeGreaterThan(1);
    expect(maxAbsDiff(zoomedOut, photo)).toBeGreaterThan(10);
  });

  it('draws views deterministically per (image, view), within the seeds\' ranges, and differently per view', () => {
    const views = Array.from({ length: 200 }, (_, v) => augmentParams('a'.repeat(64), v + 1, DEFAULT_AUGMENTATION));
    expect(augmentParams('a'.repeat(64), 3, DEFAULT_AUGMENTATION)).toEqual(views[2]);
    for (const p of views) {
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(DEFAULT_AUGMENTATION.rotation * 2 * Math.PI);
      expect(Math.abs(p.zoom)).toBeLessThanOrEqual(DEFAULT_AUGMENTATION.zoom);
    }
    const flips = views.filter((p) => p.flip).length;
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
    expect(new Set(views.map((p) => p.angle)).size).toBe(200);
  });
});
