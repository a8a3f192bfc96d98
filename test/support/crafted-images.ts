/**
 * Image files made byte by byte for the hostile-file tests: GIFs whose frames differ from their logical screen
 * (with real LZW data, so browsers and libvips decode them), and AVIF/HEIF box structures (ISO/IEC 23008-12)
 * whose first `ispe` is not the primary item's.
 */

const u16le = (value: number) => [value & 0xff, value >>> 8];

/** LZW data (minimum code size 2) of `count` pixels of colour 0, in sub-blocks, as giflib's encoder writes it. */
export function uniformLzw(count: number): number[] {
  const bytes: number[] = [];
  let bits = 0;
  let pending = 0;
  let size = 3;
  let next = 6; // 4 is the clear code, 5 the end code
  let longestRun = 1; // the longest run of zeros with a code: 1 -> code 0, r >= 2 -> code 4 + r
  const put = (code: number) => {
    bits += code * 2 ** pending;
    pending += size;
    for (; pending >= 8; pending -= 8) {
      bytes.push(bits & 0xff);
      bits = Math.floor(bits / 256);
    }
  };
  put(4);
  for (let done = 0; done < count; ) {
    const run = Math.min(longestRun, count - done);
    put(run === 1 ? 0 : 4 + run);
    done += run;
    if (next >= 1 << size && size < 12) size++;
    if (done === count) break;
    if (next >= 4095) {
      put(4);
      [size, next, longestRun] = [3, 6, 1];
    } else {
      next++;
      longestRun++;
    }
  }
  put(5);
  if (pending > 0) bytes.push(bits & 0xff);
  const out = [2];
  for (let i = 0; i < bytes.length; i += 255) {
    const block = bytes.slice(i, i + 255);
    out.push(block.length, ...block);
  }
  out.push(0);
  return out;
}

export interface GifFrame {
  left?: number;
  top?: number;
  width: number;
  height: number;
}

/** A GIF89a of the given logical screen and frames, each frame one colour, with a graphic control extension each. */
export function craftedGif(screenWidth: number, screenHeight: number, frames: readonly GifFrame[]): Buffer {
  const out: number[] = [...Buffer.from('GIF89a'), ...u16le(screenWidth), ...u16le(screenHeight), 0x81, 0, 0];
  out.push(10, 20, 30, 255, 255, 255, 0, 0, 0, 0, 0, 0); // global colour table of 4
  const chunks: Buffer[] = [Buffer.from(out)];
  for (const frame of frames) {
    const descriptor = [0x21, 0xf9, 4, 0, 0, 0, 0, 0, 0x2c, ...u16le(frame.left ?? 0), ...u16le(frame.top ?? 0)];
    descriptor.push(...u16le(frame.width), ...u16le(frame.height), 0);
    chunks.push(Buffer.from(descriptor), Buffer.from(uniformLzw(frame.width * frame.height)));
  }
  chunks.push(Buffer.from([0x3b]));
  return Buffer.concat(chunks);
}

/** An ISOBMFF box: 32-bit size, four-character type, payload. */
export function box(type: string, ...payload: (Buffer | number[])[]): Buffer {
  const body = Buffer.concat(payload.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/** A full box: version and 24-bit flags before the payload. */
export const fullBox = (type: string, version: number, flags: number, ...payload: (Buffer | number[])[]) =>
  box(type, [version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff], ...payload);

const u16be = (value: number) => [value >>> 8, value & 0xff];
const u32be = (value: number) => [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];

export interface HeifItem {
  id: number;
  type: string;
  /** 1-based indices into the properties list. */
  properties: number[];
  /** Item data kept in idat (construction method 1), e.g. a grid's ImageGrid. */
  idat?: number[];
}

export type HeifProperty = { ispe: [number, number] } | { irot: number } | { other: string };

/** The ImageGrid item data: rows x columns of tiles, output size in 16 or 32 bits. */
export function imageGrid(rows: number, columns: number, width: number, height: number): number[] {
  const wide = width > 0xffff || height > 0xffff;
  return [0, wide ? 1 : 0, rows - 1, columns - 1, ...(wide ? [...u32be(width), ...u32be(height)] : [...u16be(width), ...u16be(height)])];
}

/**
 * An AVIF file's boxes: ftyp, then meta with pitm, iinf, iloc (idat items only), iref (dimg from `grid` to its
 * tiles), iprp (ipco in the order given, ipma per item) and idat. No coded image data: for header readers only.
 */
export function craftedAvif(options: { primary: number; items: HeifItem[]; properties: HeifProperty[]; dimg?: { from: number; to: number[] } }): Buffer {
  const ftyp = box('ftyp', Buffer.from('avif'), u32be(0), Buffer.from('avifmif1miaf'));
  const hdlr = fullBox('hdlr', 0, 0, u32be(0), Buffer.from('pict'), new Array(12).fill(0), [0]);
  const pitm = fullBox('pitm', 0, 0, u16be(options.primary));
  const infes = options.items.map((item) => fullBox('infe', 2, 0, u16be(item.id), u16be(0), Buffer.from(item.type, 'latin1'), [0]));
  const iinf = fullBox('iinf', 0, 0, u16be(options.items.length), ...infes);
  const idatItems = options.items.filter((item) => item.idat);
  let idatOffset = 0;
  const locations = idatItems.map((item) => {
    const location = [...u16be(item.id), ...u16be(1), ...u16be(0), ...u16be(1), ...u32be(idatOffset), ...u32be(item.idat!.length)];
    idatOffset += item.idat!.length;
    return location;
  });
  // version 1: offset_size 4, length_size 4, base_offset_size 0, index_size 0; construction method 1 (idat).
  const iloc = fullBox('iloc', 1, 0, [0x44, 0x00], u16be(idatItems.length), ...locations);
  const ipco = box(
    'ipco',
    ...options.properties.map((p) =>
      'ispe' in p ? fullBox('ispe', 0, 0, u32be(p.ispe[0]), u32be(p.ispe[1])) : 'irot' in p ? box('irot', [p.irot]) : box(p.other, [0, 0, 0, 0]),
    ),
  );
  const ipma = fullBox(
    'ipma',
    0,
    0,
    u32be(options.items.length),
    ...options.items.map((item) => [...u16be(item.id), item.properties.length, ...item.properties.map((index) => 0x80 | index)]),
  );
  const iprp = box('iprp', ipco, ipma);
  const iref = options.dimg ? [fullBox('iref', 0, 0, box('dimg', u16be(options.dimg.from), u16be(options.dimg.to.length), ...options.dimg.to.map(u16be)))] : [];
  const idat = box('idat', ...idatItems.map((item) => item.idat!));
  const meta = fullBox('meta', 0, 0, hdlr, pitm, iinf, iloc, ...iref, iprp, idat);
  return Buffer.concat([ftyp, meta]);
}

/**
 * `jpeg` with a TEM marker (standalone: no length) after its SOI, then a 64 KB APP1 holding a 1x1 frame header
 * where a reader that takes TEM's next two bytes for a length lands. libjpeg skips TEM and reads the real frame.
 */
export function jpegWithStandaloneMarker(jpeg: Buffer): Buffer {
  const app1 = Buffer.alloc(2 + 65535);
  app1.set([0xff, 0xe1, 0xff, 0xff]);
  // TEM at 2; its next two bytes (the APP1 marker, 0xFFE1) read as a length lead to 2 + 2 + 0xFFE1 = 65509.
  app1.set([0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x01, 0x00, 0x01, 0x03, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0], 65509 - 4);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0x01]), app1, jpeg.subarray(2)]);
}

/** A JPEG marker segment: 0xFF, the marker, a 16-bit length (itself included), the payload. */
export function segment(marker: number, payload: Buffer): Buffer {
  if (payload.length > 65533) throw new Error('a JPEG segment holds at most 65533 bytes');
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/** `jpeg` with `segments` inserted right after its start-of-image marker. */
export const jpegWithSegments = (jpeg: Buffer, segments: Buffer[]): Buffer => Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
