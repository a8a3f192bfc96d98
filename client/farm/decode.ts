/**
 * Image bytes -> RGBA pixels, inside a worker (createImageBitmap + OffscreenCanvas): no pixel work on the
 * main thread. Very large photos are shrunk by the browser's decoder first, so a 12-megapixel image never
 * becomes a 150 MB tensor; everything at most LARGE_SIDE_FACTOR times the input size is decoded as is, and
 * then preprocessed by the same code as in Node.
 */
import type { RgbaPixels } from './preprocess';

const LARGE_SIDE_FACTOR = 4;

export class UndecodableImageError extends Error {
  override name = 'UndecodableImageError';
}

export async function decodeImage(bytes: Blob, inputSize: number): Promise<RgbaPixels> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(bytes, { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new UndecodableImageError(`not a decodable image (${(error as Error).message || 'decode failed'})`);
  }
  const limit = inputSize * LARGE_SIDE_FACTOR;
  const shrink = Math.min(1, limit / Math.min(bitmap.width, bitmap.height));
  if (shrink < 1) {
    const width = Math.max(1, Math.round(bitmap.width * shrink));
    const height = Math.max(1, Math.round(bitmap.height * shrink));
    bitmap.close();
    bitmap = await createImageBitmap(bytes, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      resizeWidth: width,
      resizeHeight: height,
      resizeQuality: 'high',
    });
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new UndecodableImageError('no 2d canvas in this worker');
    context.drawImage(bitmap, 0, 0);
    const { data, width, height } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return { data, width, height };
  } finally {
    bitmap.close();
  }
}
