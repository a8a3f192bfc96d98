/**
 * Turns what the visitor gives (a photo file, a camera frame) into a stored sample: a JPEG whose shorter side is
 * at most STORED_IMAGE_SIDE, as the server's datasets keep them, never a full camera frame. A JPEG already that
 * small is decoded once to check it, and kept without re-encoding: byte for byte when it holds little besides
 * its image (so a zip exported and imported again gives the same bytes), else stripped of its metadata
 * (jpeg-for-storage.ts). Anything else is decoded off the main thread by createImageBitmap, scaled and encoded
 * once. The header is read first, so a decompression bomb is refused before anything is decoded.
 */
import { STORED_IMAGE_SIDE } from '../../shared/image-limits';
import { sha256Hex } from '../../shared/sha256';
import type { NewSample } from '../cache/sample-store';
import { headerProblem, NOT_AN_IMAGE, readImageHeader } from '../engine/image-header';
import { JpegStructureError } from '../engine/jpeg-segments';
import { jpegForStorage } from './jpeg-for-storage';

const JPEG_QUALITY = 0.9;

/** This file cannot become a sample; the message says why in plain words. */
export class SampleImageError extends Error {
  override name = 'SampleImageError';
}

/** Width and height scaled so the shorter side is at most STORED_IMAGE_SIDE. */
function storedSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, STORED_IMAGE_SIDE / Math.min(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function encodeJpeg(source: CanvasImageSource, width: number, height: number): Promise<NewSample> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new SampleImageError('this browser cannot draw images off screen');
  // JPEG has no transparency: transparent pixels become white, not black.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(source, 0, 0, width, height);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
  const bytes = await blob.arrayBuffer();
  return { id: await sha256Hex(bytes), bytes, type: 'image/jpeg' };
}

/** A photo file as a sample; throws SampleImageError for a file that is not an image this page can read. */
export async function sampleFromFile(file: Blob): Promise<NewSample> {
  const bytes = await file.arrayBuffer();
  const header = readImageHeader(new Uint8Array(bytes));
  if (!header) throw new SampleImageError(NOT_AN_IMAGE);
  const tooLarge = headerProblem(header);
  if (tooLarge) throw new SampleImageError(tooLarge);
  if (header.format === 'jpeg' && Math.min(header.width, header.height) <= STORED_IMAGE_SIDE) return smallJpeg(bytes);
  const size = storedSize(header.width, header.height);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, {
      imageOrientation: 'from-image',
      resizeWidth: size.width,
      resizeHeight: size.height,
      resizeQuality: 'high',
    });
  } catch {
    throw new SampleImageError('the image could not be decoded');
  }
  try {
    return await encodeJpeg(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** A JPEG small enough to keep as it is: checked by a decode, then stored whole or without its metadata. */
async function smallJpeg(file: ArrayBuffer): Promise<NewSample> {
  const bytes = new Uint8Array(file);
  let kept: Uint8Array;
  try {
    kept = jpegForStorage(bytes);
  } catch (error) {
    if (error instanceof JpegStructureError) throw new SampleImageError(`not a whole JPEG: ${error.message}`);
    throw error;
  }
  const stored = kept === bytes ? file : new Uint8Array(kept).buffer;
  try {
    (await createImageBitmap(new Blob([stored], { type: 'image/jpeg' }))).close();
  } catch {
    throw new SampleImageError('the image could not be decoded (a corrupt JPEG)');
  }
  return { id: await sha256Hex(stored), bytes: stored, type: 'image/jpeg' };
}

/** The camera's current frame as a sample (as the camera sees it: the preview's mirroring is only for show). */
export function sampleFromVideo(video: HTMLVideoElement): Promise<NewSample> {
  const size = storedSize(video.videoWidth, video.videoHeight);
  return encodeJpeg(video, size.width, size.height);
}
