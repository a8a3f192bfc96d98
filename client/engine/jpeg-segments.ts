/**
 * The segments of a JPEG file in order, found as libjpeg finds them: a marker is 0xFF then a byte other than 0x00
 * and 0xFF; fill bytes (0xFF) before a marker and bytes where no marker starts are skipped (libjpeg warns of
 * "extraneous bytes" and reads on); standalone markers (TEM, RST0–7) have no length; a scan's entropy-coded
 * data runs to the next marker other than RSTn. Used by the header reader (size and EXIF orientation before
 * anything is decoded) and by the page's sample store (metadata stripped from small JPEGs). No DOM.
 */

export interface JpegSegment {
  /** The marker's second byte (0xD8 SOI, 0xC0 SOF0, 0xDA SOS, 0xE1 APP1...), or 0 for bytes no marker starts. */
  marker: number;
  /** Where the segment starts (its 0xFF) and ends (after a scan's entropy-coded data, for SOS). */
  start: number;
  end: number;
  /** Where its payload starts: after the two length bytes (equal to `end` for standalone markers). */
  payload: number;
}

/** The file is not a JPEG this reader can walk: the reason says where it breaks. */
export class JpegStructureError extends Error {
  override name = 'JpegStructureError';
}

export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;

/** Markers with no length: TEM and RST0–RST7 (and SOI, EOI). */
const standalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);

/** SOF0..SOF15 hold the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
export const isFrameHeader = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * Segments from SOI on, ending with EOI (bytes after it are the caller's to see). Throws JpegStructureError when
 * the bytes do not start with SOI or end inside a segment or a scan.
 */
export function* jpegSegments(bytes: Uint8Array): Generator<JpegSegment> {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) throw new JpegStructureError('not a JPEG (no start-of-image marker)');
  yield { marker: SOI, start: 0, end: 2, payload: 2 };
  let at = 2;
  for (;;) {
    // Skip to the next marker: 0xFF, any fill bytes, then a byte that is not 0x00.
    const skipped = at;
    let marker = -1;
    while (marker < 0) {
      at = bytes.indexOf(0xff, at);
      if (at < 0) throw new JpegStructureError('cut short: the file ends before its end-of-image marker');
      while (bytes[at + 1] === 0xff) at++;
      if (at + 1 >= bytes.length) throw new JpegStructureError('cut short: the file ends before its end-of-image marker');
      if (bytes[at + 1] === 0x00) at += 2;
      else marker = bytes[at + 1]!;
    }
    if (at > skipped) yield { marker: 0, start: skipped, end: at, payload: at };
    if (standalone(marker)) {
      yield { marker, start: at, end: at + 2, payload: at + 2 };
      if (marker === EOI) return;
      at += 2;
      continue;
    }
    if (at + 4 > bytes.length) throw new JpegStructureError('cut short in a segment header');
    const end = at + 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (end > bytes.length) throw new JpegStructureError(`cut short: a segment (marker 0x${marker.toString(16)}) runs past the end of the file`);
    if (marker !== SOS) {
      yield { marker, start: at, end, payload: at + 4 };
      at = end;
      continue;
    }
    // Entropy-coded data: up to the next 0xFF that starts a marker other than RSTn (0xFF00 is a stuffed 0xFF).
    let data = end;
    for (;;) {
      data = bytes.indexOf(0xff, data);
      if (data < 0 || data + 1 >= bytes.length) throw new JpegStructureError('cut short in its image data (no end-of-image marker)');
      const next = bytes[data + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) data += 2;
      else if (next === 0xff) data += 1;
      else break;
    }
    yield { marker, start: at, end: data, payload: at + 4 };
    at = data;
  }
}
