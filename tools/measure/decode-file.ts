/**
 * An image file as RGBA pixels in Node, the input client/engine/preprocess.ts takes: sharp decodes it and applies
 * its EXIF orientation, as the browser's decoder does (createImageBitmap with imageOrientation 'from-image'). The
 * one Node decoder: the tools' measurements and the tests' reference features both read images through it.
 */
import sharp from 'sharp';
import type { RgbaPixels } from '../../client/engine/pixels';
import { MAX_IMAGE_PIXELS } from '../../shared/image-limits';

/** Throws sharp's error for a file that is not a decodable image, or of more pixels than the page decodes. */
export async function decodeFile(path: string): Promise<RgbaPixels> {
  const { data, info } = await sharp(path, { limitInputPixels: MAX_IMAGE_PIXELS }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
