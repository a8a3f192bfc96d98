/**
 * What an augmented view is made of: the seeds' RandomFlip('horizontal'), RandomRotation(0.2) and
 * RandomZoom(0.2) with Keras's defaults (bilinear, fill_mode 'reflect'). Plain data: the farm applies it, and
 * every parameter of it is part of an augmented view's cache key, so changing one never reuses stale views.
 */

export interface Augmentation {
  /** 'horizontal' flips half the views left to right. */
  flip: 'horizontal' | 'none';
  /** Keras RandomRotation factor: angles uniform in [-rotation, rotation] of a full turn. */
  rotation: number;
  /** Keras RandomZoom factor: uniform in [-zoom, zoom]; > 0 zooms out. */
  zoom: number;
  /** How pixels outside the image are filled (tf.image.transform's fillMode). */
  fill: 'reflect' | 'nearest' | 'wrap' | 'constant';
  interpolation: 'bilinear' | 'nearest';
}

export const DEFAULT_AUGMENTATION: Augmentation = { flip: 'horizontal', rotation: 0.2, zoom: 0.2, fill: 'reflect', interpolation: 'bilinear' };
