/**
 * Image bytes -> RGBA pixels, inside a worker (createImageBitmap + OffscreenCanvas): no pixel work on the
 * main thread. The size the file's header declares is checked before anything is decoded: more than
 * MAX_IMAGE_PIXELS (shared/image-limits.ts) is refused, so a decompression bomb never takes the worker's memory;
 * a decoded bitmap over the limit all the same (a header that lied) is closed before its pixels are read.
 * Large photos are decoded straight to a shorter side of LARGE_SIDE_FACTOR times the input size, so a
 * 12-megapixel image never becomes a 150 MB tensor; smaller ones are decoded as they are, and then
 * preprocessed by the same code as in Node.
 */
import { pixelLimitProblem } from '../../shared/image-limits';
import { headerProblem, readImageHeader } from './image-header';
import type { RgbaPixels } from './pixels';

const LARGE_SIDE_FACTOR = 4;

export class UndecodableImageError extends Error {
  override name = 'UndecodableImageError';
}

export async function decodeImage(bytes: Blob, inputSize: number): Promise<RgbaPixels> {
  const header = readImageHeader(new Uint8Array(await bytes.arrayBuffer()));
  if (!header) throw new UndecodableImageError('not a decodable image (no JPEG, PNG, GIF, WebP, BMP or AVIF header)');
  const tooLarge = headerProblem(header);
  if (tooLarge) throw new UndecodableImageError(`${tooLarge}: not decoded`);
  return decodeDeclared(bytes, header, inputSize);
}

/** Decodes `bytes`, whose header declared `declared` (a size within the limit), resized by that size. */
export async function decodeDeclared(bytes: Blob, declared: { width: number; height: number }, inputSize: number): Promise<RgbaPixels> {
  const { width, height } = declared;
  // The header's size is the displayed one (orientation applied), as the resize options expect.
  const shrink = Math.min(1, (inputSize * LARGE_SIDE_FACTOR) / Math.min(width, height));
  const resize: ImageBitmapOptions =
    shrink < 1
      ? {
          resizeWidth: Math.max(1, Math.round(width * shrink)),
          resizeHeight: Math.max(1, Math.round(height * shrink)),
          resizeQuality: 'high',
        }
      : {};
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(bytes, { imageOrientation: 'from-image', premultiplyAlpha: 'none', ...resize });
  } catch (error) {
    throw new UndecodableImageError(`not a decodable image (${(error as Error).message || 'decode failed'})`);
  }
  // A header that lied (a format this reader knows less well than the decoder): the decode has happened, but
  // the canvas and getImageData would take two more copies of every pixel.
  const tooLarge = pixelLimitProblem(bitmap.width, bitmap.height);
  if (tooLarge) {
    bitmap.close();
    throw new UndecodableImageError(`${tooLarge}, once decoded (its header declared ${width}x${height}): not read`);
  }
  return bitmapPixels(bitmap);
}

/** The RGBA pixels of a bitmap (a decoded photo or a camera frame); the bitmap is closed, whatever happens. */
export function bitmapPixels(bitmap: ImageBitmap): RgbaPixels {
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
