/**
 * Augmentation (by default the seeds' RandomFlip('horizontal'), RandomRotation(0.2), RandomZoom(0.2), Keras
 * defaults: bilinear, fill_mode 'reflect'; see shared/augmentation.ts), applied to a resized [size, size, 3]
 * image in one projective transform.
 *
 * Each augmented view is a pure function of (image id, view number): the parameters come from a PRNG seeded by
 * both, so a cached view can be recomputed identically, and the preview shows exactly what training sees.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../../shared/augmentation';
import { hashSeed, mulberry32 } from '../../shared/seeded-random';

export interface AugmentParams {
  flip: boolean;
  /** Radians, uniform in [-rotation, rotation] of a full turn. */
  angle: number;
  /** Keras RandomZoom factor: >0 zooms out, <0 zooms in; uniform in [-zoom, zoom]. */
  zoom: number;
}

/** The flip, angle and zoom of one view; a change here changes every view: bump the tag's version in keys.ts. */
export function augmentParams(imageId: string, view: number, augmentation: Augmentation): AugmentParams {
  const random = mulberry32(hashSeed(`${imageId}#${view}`));
  return {
    flip: random() < 0.5 && augmentation.flip === 'horizontal',
    angle: (random() * 2 - 1) * augmentation.rotation * 2 * Math.PI,
    zoom: (random() * 2 - 1) * augmentation.zoom,
  };
}

/**
 * The projective transform [a0..a7] mapping OUTPUT pixel (x, y) to the INPUT pixel it samples
 * (tf.image.transform's convention), for a flip, rotation and zoom about the image centre.
 */
export function transformMatrix(params: AugmentParams, size: number): number[] {
  const c = (size - 1) / 2;
  // Keras: zoom > 0 zooms out, i.e. each output pixel samples farther from the centre.
  const s = 1 + params.zoom;
  const cos = Math.cos(params.angle) * s;
  const sin = Math.sin(params.angle) * s;
  const f = params.flip ? -1 : 1;
  // input = R * S * F * (output - c) + c
  const a0 = cos * f;
  const a1 = -sin;
  const b0 = sin * f;
  const b1 = cos;
  return [a0, a1, c - a0 * c - a1 * c, b0, b1, c - b0 * c - b1 * c, 0, 0];
}

/** One augmented view of a batch of [n, size, size, 3] images, sampled and filled as `augmentation` says. */
export function augment(images: tf.Tensor4D, params: AugmentParams[], augmentation: Pick<Augmentation, 'fill' | 'interpolation'>): tf.Tensor4D {
  const size = images.shape[1];
  return tf.tidy(() => {
    const transforms = tf.tensor2d(params.map((p) => transformMatrix(p, size)), [params.length, 8]);
    return tf.image.transform(images, transforms, augmentation.interpolation, augmentation.fill);
  });
}
