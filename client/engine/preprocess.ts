/**
 * Decoded pixels -> model input, with tfjs. Runs in the farm's and the trainer's workers and, for the reference
 * features in tests, in Node: the same code on both sides, so only the JPEG decoder differs. The LiteRT.js
 * classifier does the same arithmetic without tfjs (pixels.ts).
 *
 * The image is squashed to a square (as Keras image_dataset_from_directory does by default), first box-averaged
 * by whole factors when it is more than twice the target (plain bilinear would alias badly on large photos),
 * then resized bilinearly with half-pixel centres (TF2 tf.image.resize), then scaled: x * scale + offset.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelRecord } from '../../shared/records';
import type { RgbaPixels } from './pixels';

/** [size, size, 3] float32 pixels 0..255, squashed and resized. */
export function resizeToSquare(pixels: RgbaPixels, size: number): tf.Tensor3D {
  return tf.tidy(() => {
    const rgb = tf.browser.fromPixels(
      {
        data: new Uint8Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength),
        width: pixels.width,
        height: pixels.height,
      },
      3,
    );
    let image = tf.cast(rgb, 'float32') as tf.Tensor3D;
    const fh = Math.floor(pixels.height / size);
    const fw = Math.floor(pixels.width / size);
    if (fh >= 2 || fw >= 2) {
      const poolH = Math.max(1, fh);
      const poolW = Math.max(1, fw);
      image = tf.avgPool(image, [poolH, poolW], [poolH, poolW], 'valid') as tf.Tensor3D;
    }
    return tf.image.resizeBilinear(image, [size, size], false, true);
  });
}

/** Pixels 0..255 -> the value range the model was trained on. */
export function normalise(image: tf.Tensor, preprocessing: ModelRecord['preprocessing']): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(image, preprocessing.scale), preprocessing.offset));
}
