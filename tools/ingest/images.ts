/**
 * Turns one file of a dataset into the bytes Graft stores, or says why it cannot be used.
 * Every file is sniffed and fully decoded with sharp, so a truncated or corrupt image never reaches a shard.
 * The pixel count in the header is checked first (shared MAX_IMAGE_PIXELS), and large images are decoded
 * straight into their smaller stored size: memory stays small whatever a header claims.
 */
import sharp, { type SharpOptions } from 'sharp';
import { MAX_IMAGE_PIXELS, pixelLimitProblem } from '../../shared/image-limits';

export type PreparedImage =
  | {
      ok: true;
      /** The bytes to store: the original file, or a re-encoded JPEG. */
      bytes: Buffer;
      /** MIME type of `bytes`. */
      type: string;
      /** Why the bytes differ from the file's, or null when they are the file's own. */
      reencoded: string | null;
    }
  | { ok: false; reason: string };

/** Formats every browser decodes with createImageBitmap: these are stored as they are when small enough. */
const BROWSER_FORMATS: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

const JPEG_QUALITY = 90;

/** Images stored as they are are checked by decoding them into at most this side (libvips reads every pixel, a strip at a time). */
const CHECK_SIDE = 1024;

/** sharp also enforces the limit itself, should a header lie; errors (not warnings) mean corrupt data. */
const DECODE: SharpOptions = { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS, sequentialRead: true };


function browserType(format: string | undefined, compression: string | undefined): string | null {
  if (format === 'heif' && compression === 'av1') return 'image/avif';
  return (format && BROWSER_FORMATS[format]) ?? null;
}

/**
 * Prepares `file` for a dataset shard. `maxSide` > 0 downscales images whose shorter side exceeds it
 * (shorter side becomes `maxSide`); 0 keeps every size.
 */
export async function prepareImage(file: Buffer, maxSide: number): Promise<PreparedImage> {
  if (file.length === 0) return { ok: false, reason: 'empty file' };
  let format: string | undefined;
  let compression: string | undefined;
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ format, compression, width, height } = await sharp(file).metadata());
  } catch {
    return { ok: false, reason: 'not an image (no known image format in its bytes)' };
  }
  if (format === 'svg') return { ok: false, reason: 'vector image (svg): only raster images can be used' };
  if (!width || !height) return { ok: false, reason: `${format} image without a width and height` };

  const tooManyPixels = pixelLimitProblem(width, height);
  if (tooManyPixels) return { ok: false, reason: `${tooManyPixels}: not decoded (a decompression bomb, or a photo to shrink first)` };

  const type = browserType(format, compression);
  const tooLarge = maxSide > 0 && Math.min(width, height) > maxSide;
  // Metadata reads only the header: a decode of every pixel is what catches truncated or corrupt data.
  try {
    if (type && !tooLarge) {
      await sharp(file, DECODE).resize(CHECK_SIDE, CHECK_SIDE, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer();
      return { ok: true, bytes: file, type, reencoded: null };
    }
    const pipeline = sharp(file, DECODE).rotate();
    if (tooLarge) pipeline.resize({ width: maxSide, height: maxSide, fit: 'outside' });
    const bytes = await pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: JPEG_QUALITY }).toBuffer();
    return {
      ok: true,
      bytes,
      type: 'image/jpeg',
      reencoded: tooLarge
        ? `downscaled from ${width}x${height} (shorter side ${maxSide})`
        : `${format} is not decoded by browsers: re-encoded as JPEG`,
    };
  } catch (error) {
    // With decodes in parallel, libvips' message can come out as 'Unknown error': the first part is what counts.
    return { ok: false, reason: `cannot be decoded as ${format}: the data is corrupt or truncated (${(error as Error).message.trim()})` };
  }
}
