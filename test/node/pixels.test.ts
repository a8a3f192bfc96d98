/**
 * The LiteRT.js classifier preprocesses without tfjs (client/engine/pixels.ts); what it feeds the model must be
 * what the trainer's tfjs preprocessing feeds TF.js (client/engine/preprocess.ts), or the two engines would
 * classify different pictures. On real photos of several sizes (a camera frame's, larger ones that are
 * box-averaged first, a small one that is enlarged, a long thin one), on both tfjs backends the trainer runs on
 * here: the resized values, the float model's scaled input and the int8 file's bytes.
 */
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { roundedPixels, scaledInput, squareRgb, type RgbaPixels } from '../../client/engine/pixels';
import { normalise, resizeToSquare } from '../../client/engine/preprocess';
import { decodeFile } from '../../tools/measure/decode-file';
import { useBackend } from '../../tools/measure/tf-node';
import { FLOWERS_DIR, MOBILENET_PREPROCESSING } from '../support/node-features';

const PHOTO = `${FLOWERS_DIR}/daisy/100080576_f52e8ee070_n.jpg`;

/** The photo resized (squashed) to width x height, as RGBA, so every path of the resize is taken. */
async function photoAt(width: number, height: number): Promise<RgbaPixels> {
  const { data, info } = await sharp(PHOTO).resize(width, height, { fit: 'fill' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

const SHAPES: [string, number, number][] = [
  ['a camera frame, 320x240', 320, 240],
  ['a 640x480 frame (box-averaged 2x2 first)', 640, 480],
  ['a large photo, 1500x1001 (box-averaged 6x4, remainders dropped)', 1500, 1001],
  ['a wide strip, 700x100 (box-averaged on one axis only)', 700, 100],
  ['a small image, 50x37 (enlarged)', 50, 37],
];

/**
 * pixels.ts computes as tfjs-backend-cpu does (float64 arithmetic, each stage stored as float32): the same bits.
 * tfjs-backend-wasm's kernels compute in float32: within 1e-5 of the value range (255), float rounding.
 */
const TOLERANCE = { cpu: 0, wasm: 255 * 1e-5 };

/** Largest |a - b| over two arrays of one length. */
function largestDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe.each(['cpu', 'wasm'] as const)('against tfjs on %s', (backend) => {
  it.each(SHAPES)('resizes %s as tfjs does', async (_, width, height) => {
    await useBackend(backend);
    const pixels = await photoAt(width, height);
    for (const size of [224, 96]) {
      const reference = resizeToSquare(pixels, size);
      const expected = reference.dataSync();
      reference.dispose();
      const actual = squareRgb(pixels, size);
      expect(largestDifference(actual, expected)).toBeLessThanOrEqual(TOLERANCE[backend]);
      // Not a trivial agreement: the picture has detail.
      expect(actual.reduce((a, b) => Math.max(a, b)) - actual.reduce((a, b) => Math.min(a, b))).toBeGreaterThan(100);
    }
  });

  it('scales for a float model and rounds bytes for the int8 file as the trainer does', async () => {
    await useBackend(backend);
    const pixels = await decodeFile(PHOTO);
    const rgb = squareRgb(pixels, 224);
    const [normalised, rounded] = tf.tidy(() => {
      const image = tf.tensor3d(rgb, [224, 224, 3]);
      return [normalise(image, MOBILENET_PREPROCESSING).dataSync(), tf.round(image).dataSync()];
    });
    expect(largestDifference(scaledInput(rgb, MOBILENET_PREPROCESSING), normalised)).toBeLessThan(1e-6);
    expect(Array.from(roundedPixels(rgb))).toEqual(Array.from(rounded));
  });
});

it('rounds halves to even and keeps bytes in 0..255', () => {
  expect(Array.from(roundedPixels([0.5, 1.5, 2.5, 2.4999, 2.5001, 254.5, 255.4, -0.2]))).toEqual([0, 2, 2, 2, 3, 254, 255, 0]);
});
