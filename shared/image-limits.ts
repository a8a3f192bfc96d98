/**
 * How large an image Graft decodes, in ingest (sharp) and in the page's farm (createImageBitmap). A module of
 * its own so the farm's workers import a number, not the storage schemas.
 */

/**
 * Most pixels an image may declare in its header, checked before decoding: 50 megapixels takes a 48 MP
 * phone photo, and refuses a decompression bomb (a 776 KB PNG can declare 16000x16000 pixels, 768 MB decoded).
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

const megapixels = (pixels: number) => `${(pixels / 1e6).toFixed(1)} megapixels`;

/** Why an image of this declared size is not decoded, or null when it may be. */
export function pixelLimitProblem(width: number, height: number): string | null {
  if (width * height <= MAX_IMAGE_PIXELS) return null;
  return `${width}x${height} is ${megapixels(width * height)}, more than the ${megapixels(MAX_IMAGE_PIXELS)} an image may have`;
}

/**
 * Shorter side, in pixels, of the images a dataset keeps (seed's default --max-side, and the samples the page
 * records or is given): above the 224 px the models see, so zoom and rotation have pixels to spare.
 */
export const STORED_IMAGE_SIDE = 256;
