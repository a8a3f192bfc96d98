/**
 * Width and height of an image read from the header of its file, before anything is decoded: JPEG (turned by
 * its EXIF orientation), PNG, GIF (every frame's image descriptor), WebP, BMP and AVIF (its primary item, turned
 * by its irot: avif-header.ts).
 * A decoder allocates what these same fields declare, so checking them bounds the memory a decode can take.
 * No DOM: tested in Node.
 */
import { pixelLimitProblem } from '../../shared/image-limits';
import { readAvif } from './avif-header';
import type { ImageHeader } from './image-header-type';
import { isFrameHeader, jpegSegments, JpegStructureError } from './jpeg-segments';

/** Why a file of this header is not decoded (too many pixels in the picture or in one frame, or unchecked), or null. */
export function headerProblem(header: ImageHeader): string | null {
  if (header.unchecked) return header.unchecked;
  const picture = pixelLimitProblem(header.width, header.height);
  if (picture) return picture;
  const frame = header.largestFrame && pixelLimitProblem(header.largestFrame.width, header.largestFrame.height);
  return frame ? `a frame of ${frame}` : null;
}

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

/** What a file that is none of these formats is called in messages. */
export const NOT_AN_IMAGE = 'not a JPEG, PNG, GIF, WebP, BMP or AVIF image';

/** Bytes of a file's start that hold the signature of each format (an AVIF's whole ftyp box, as files write it). */
export const SIGNATURE_BYTES = 64;

/**
 * The format whose signature `bytes` begin with (a JPEG's SOI, PNG's IHDR, GIF8, RIFF WEBP, BM, an ftyp box of an
 * AVIF brand), or null: from a file's first SIGNATURE_BYTES, before its header is whole.
 */
export function imageFormatOf(bytes: Uint8Array): ImageHeader['format'] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (view.getUint16(0) === 0xffd8) return 'jpeg';
    if (view.getUint32(0) === 0x89504e47 && ascii(bytes, 12, 4) === 'IHDR') return 'png';
    if (ascii(bytes, 0, 4) === 'GIF8') return 'gif';
    if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
    if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
    if (ascii(bytes, 4, 4) === 'ftyp' && /avi[fs]/.test(ascii(bytes, 8, view.getUint32(0) - 8))) return 'avif';
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return null;
}

/**
 * The header's size, or null when the bytes are none of these formats or the header is cut short. A GIF's frames
 * are read from all of `bytes`: pass the whole file.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    switch (imageFormatOf(bytes)) {
      case 'jpeg':
        return readJpeg(bytes, view);
      case 'png':
        return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
      case 'gif':
        return readGif(bytes, view);
      case 'webp':
        return readWebp(bytes, view);
      case 'bmp':
        return { format: 'bmp', width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
      case 'avif':
        return readAvif(bytes, view);
      case null:
        return null;
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  return null;
}

/** EXIF orientations 5 to 8 turn the picture by a quarter: width and height trade places. */
const transposed = (orientation: number) => orientation >= 5 && orientation <= 8;

function readJpeg(bytes: Uint8Array, view: DataView): ImageHeader | null {
  let orientation = 1;
  try {
    for (const { marker, payload } of jpegSegments(bytes)) {
      if (marker === 0xe1 && ascii(bytes, payload, 6) === 'Exif\0\0') orientation = exifOrientation(view, payload + 6) ?? orientation;
      if (isFrameHeader(marker)) {
        const height = view.getUint16(payload + 1);
        const width = view.getUint16(payload + 3);
        return transposed(orientation) ? { format: 'jpeg', width: height, height: width } : { format: 'jpeg', width, height };
      }
    }
  } catch (error) {
    if (!(error instanceof JpegStructureError)) throw error;
  }
  return null;
}

/** Tag 0x0112 of IFD0 in the TIFF structure at `tiff`. */
export function exifOrientation(view: DataView, tiff: number): number | null {
  const little = view.getUint16(tiff) === 0x4949;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, little) === 0x0112) return view.getUint16(entry + 8, little);
  }
  return null;
}

/**
 * Most blocks (extensions, image descriptors and their data sub-blocks) a GIF may have for its frames to be
 * checked: 2^18 blocks hold 64 MB of full data sub-blocks and take a few milliseconds to walk (the page reads
 * headers on its main thread). A longer GIF is refused: its frames past the first are never a sample's pixels.
 */
const MAX_GIF_BLOCKS = 2 ** 18;

/**
 * The logical screen, enlarged to the first frame as browsers and libvips decode it, and the largest frame, from
 * every image descriptor. A file cut short has the frames it holds; an unknown block ends the walk, as it ends
 * a decode.
 */
function readGif(bytes: Uint8Array, view: DataView): ImageHeader {
  let width = view.getUint16(6, true);
  let height = view.getUint16(8, true);
  let largestFrame: ImageHeader['largestFrame'];
  const colourTable = (packed: number) => (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  let at = 13 + colourTable(bytes[10]!);
  let blocks = 0;
  /** Skips data sub-blocks (a size byte, then that many bytes, until a size of 0); false when the file ends first. */
  const skipSubBlocks = () => {
    for (;;) {
      if (at >= bytes.length || ++blocks > MAX_GIF_BLOCKS) return false;
      const size = bytes[at]!;
      at += 1 + size;
      if (size === 0) return true;
    }
  };
  for (; at < bytes.length && blocks <= MAX_GIF_BLOCKS; blocks++) {
    const introducer = bytes[at];
    if (introducer === 0x21) {
      at += 2; // introducer and label
    } else if (introducer === 0x2c && at + 10 <= bytes.length) {
      const [left, top, frameWidth, frameHeight] = [1, 3, 5, 7].map((offset) => view.getUint16(at + offset, true));
      if (!largestFrame) {
        width = Math.max(width, left! + frameWidth!);
        height = Math.max(height, top! + frameHeight!);
      }
      if (!largestFrame || frameWidth! * frameHeight! > largestFrame.width * largestFrame.height) {
        largestFrame = { width: frameWidth!, height: frameHeight! };
      }
      at += 10 + colourTable(bytes[at + 9]!) + 1; // descriptor, local colour table, LZW minimum code size
    } else break; // the trailer, or bytes no decoder reads on from
    if (!skipSubBlocks()) break;
  }
  const header: ImageHeader = { format: 'gif', width, height, ...(largestFrame && { largestFrame }) };
  if (blocks > MAX_GIF_BLOCKS) {
    header.unchecked = `a GIF of more than ${MAX_GIF_BLOCKS.toLocaleString('en')} blocks (frames, extensions and data) is not read: its frames could not all be checked`;
  }
  return header;
}

function readWebp(bytes: Uint8Array, view: DataView): ImageHeader | null {
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8X') {
    const u24 = (at: number) => view.getUint16(at, true) + (bytes[at + 2]! << 16);
    return { format: 'webp', width: 1 + u24(24), height: 1 + u24(27) };
  }
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  return null;
}
