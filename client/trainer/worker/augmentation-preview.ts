/** What augmentation does to one image: the image and its augmented views as the training will see them. */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../../../shared/augmentation';
import { augment, augmentParams } from '../../engine/augment';
import { decodeImage } from '../../engine/decode';
import { resizeToSquare } from '../../engine/preprocess';
import { loadedBase } from './loaded-base';

/** The image and `views` augmented views of it (the training's own for `imageId`), as bitmaps for the page. */
export async function previewAugmentation(bytes: Blob, imageId: string, size: number, augmentation: Augmentation, views = 9): Promise<ImageBitmap[]> {
  // tf ops before the backend has started throw "Backend 'wasm' has not yet been initialized".
  await loadedBase();
  const pixels = await decodeImage(bytes, size);
  const image = resizeToSquare(pixels, size);
  const batch = tf.tidy(() => tf.tile(tf.expandDims(image), [views + 1, 1, 1, 1]) as tf.Tensor4D);
  const params = Array.from({ length: views + 1 }, (_, v) => augmentParams(imageId, v, augmentation));
  const viewed = tf.tidy(() => {
    const augmented = augment(tf.slice(batch, [1, 0, 0, 0], [views, size, size, 3]), params.slice(1), augmentation);
    return tf.concat([tf.slice(batch, [0, 0, 0, 0], [1, size, size, 3]), augmented]);
  });
  const rgb = (await viewed.data()) as Float32Array;
  tf.dispose([image, batch, viewed]);
  const bitmaps: ImageBitmap[] = [];
  for (let v = 0; v <= views; v++) {
    const rgba = new Uint8ClampedArray(size * size * 4);
    for (let p = 0; p < size * size; p++) {
      const o = (v * size * size + p) * 3;
      rgba.set([rgb[o], rgb[o + 1], rgb[o + 2], 255], p * 4);
    }
    const canvas = new OffscreenCanvas(size, size);
    canvas.getContext('2d')!.putImageData(new ImageData(rgba, size, size), 0, 0);
    bitmaps.push(canvas.transferToImageBitmap());
  }
  return Comlink.transfer(bitmaps, bitmaps);
}
