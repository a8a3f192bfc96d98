/**
 * The bytes the page stores of a small JPEG it keeps without re-encoding: the file itself when it holds little
 * besides its image, else its image alone. Metadata (APPn segments but JFIF and Adobe's colour transform, comments,
 * bytes between segments and after the end-of-image marker) totalling more than KEPT_METADATA_BYTES is dropped:
 * a 20 kB sample never carries 30 MB of APP2 padding or a camera's thumbnail into IndexedDB and the exported zip.
 * The EXIF orientation survives as a minimal EXIF of that one tag (no re-encode, the pixels stay the file's), and
 * an ICC profile of at most MAX_ICC_BYTES stays (it changes the colours a decoder gives). Pure, no DOM.
 */
import { exifOrientation } from '../engine/image-header';
import { isFrameHeader, jpegSegments, JpegStructureError, SOS, type JpegSegment } from '../engine/jpeg-segments';

/** Metadata a stored JPEG keeps as it is: a phone's EXIF without a thumbnail fits, a padded file does not. */
export const KEPT_METADATA_BYTES = 16 * 1024;
/** Largest ICC profile kept when metadata is dropped (sRGB and Display P3 profiles are 0.5 to 3 kB). */
export const MAX_ICC_BYTES = 64 * 1024;

const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;

const startsWith = (bytes: Uint8Array, at: number, text: string) => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

type Kind = 'image' | 'metadata' | 'icc' | 'exif';

function kindOf(bytes: Uint8Array, { marker, payload }: JpegSegment): Kind {
  if (marker === 0 || marker === COM) return 'metadata';
  if (marker === APP0) return startsWith(bytes, payload, 'JFIF\0') ? 'image' : 'metadata';
  if (marker === APP1) return startsWith(bytes, payload, 'Exif\0\0') ? 'exif' : 'metadata';
  if (marker === APP2) return startsWith(bytes, payload, 'ICC_PROFILE\0') ? 'icc' : 'metadata';
  if (marker === APP14) return startsWith(bytes, payload, 'Adobe') ? 'image' : 'metadata';
  return marker > APP0 && marker <= 0xef ? 'metadata' : 'image';
}

/** An APP1 EXIF segment of the orientation tag alone: TIFF header (big-endian), IFD0 of one SHORT entry. */
function orientationExif(orientation: number): Uint8Array {
  // prettier-ignore
  return Uint8Array.from([
    0xff, APP1, 0x00, 0x22, ...[...'Exif\0\0'].map((c) => c.charCodeAt(0)),
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // "MM", 42, IFD0 at 8
    0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // one entry: 0x0112 SHORT 1
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
}

/**
 * The bytes to store for `file`, a JPEG: `file` itself, or its image segments alone. Throws JpegStructureError
 * for a file that is not a whole JPEG (cut short in a segment or in its image data, no frame header or no scan).
 */
export function jpegForStorage(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const segments: { segment: JpegSegment; kind: Kind }[] = [];
  let end = 0;
  for (const segment of jpegSegments(file)) {
    segments.push({ segment, kind: kindOf(file, segment) });
    end = segment.end;
  }
  const frame = segments.findIndex(({ segment }) => isFrameHeader(segment.marker));
  if (frame < 0) throw new JpegStructureError('it has no frame header (no image size)');
  if (!segments.slice(frame).some(({ segment }) => segment.marker === SOS)) throw new JpegStructureError('it has no scan (no image data after its frame header)');
  const size = (kind: Kind) => segments.filter((s) => s.kind === kind).reduce((sum, { segment }) => sum + segment.end - segment.start, 0);
  const icc = size('icc');
  const dropped = size('metadata') + size('exif') + (file.length - end) + (icc > MAX_ICC_BYTES ? icc : 0);
  if (dropped <= KEPT_METADATA_BYTES) return file;

  let orientation = 1;
  for (const { segment, kind } of segments) {
    if (kind !== 'exif') continue;
    try {
      orientation = exifOrientation(view, segment.payload + 6) ?? orientation;
    } catch {
      // An EXIF whose entries run past its bytes: decoders show such a file unturned too.
    }
  }
  const parts = segments
    .filter(({ kind }) => kind === 'image' || (kind === 'icc' && icc <= MAX_ICC_BYTES))
    .map(({ segment }) => file.subarray(segment.start, segment.end));
  // The orientation goes where EXIF belongs: after SOI, or after the JFIF APP0 that follows it.
  if (orientation >= 2 && orientation <= 8) parts.splice(parts[1]?.[1] === APP0 ? 2 : 1, 0, orientationExif(orientation));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((at, part) => (out.set(part, at), at + part.length), 0);
  return out;
}
