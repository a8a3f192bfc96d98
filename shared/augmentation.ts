/**
 * What an augmented view is made of: the seeds' RandomFlip('horizontal'), RandomRotation(0.2) and
 * RandomZoom(0.2) with Keras's defaults (bilinear, fill_mode 'reflect'). Plain data: the farm applies it, and
 * every parameter of it is part of an augmented view's cache key, so changing one never reuses stale views.
 */

export const FLIPS = ['horizontal', 'none'] as const;
export const FILLS = ['reflect', 'nearest', 'wrap', 'constant'] as const;
export const INTERPOLATIONS = ['bilinear', 'nearest'] as const;

export interface Augmentation {
  /** 'horizontal' flips half the views left to right. */
  flip: (typeof FLIPS)[number];
  /** Keras RandomRotation factor: angles uniform in [-rotation, rotation] of a full turn. */
  rotation: number;
  /** Keras RandomZoom factor: uniform in [-zoom, zoom]; > 0 zooms out. */
  zoom: number;
  /** How pixels outside the image are filled (tf.image.transform's fillMode). */
  fill: (typeof FILLS)[number];
  interpolation: (typeof INTERPOLATIONS)[number];
}

export const DEFAULT_AUGMENTATION: Augmentation = { flip: 'horizontal', rotation: 0.2, zoom: 0.2, fill: 'reflect', interpolation: 'bilinear' };
