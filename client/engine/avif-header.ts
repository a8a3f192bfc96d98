/**
 * The size of an AVIF picture from its HEIF boxes (ISO/IEC 23008-12, MIAF): the primary item (`pitm`), the
 * properties associated with it (`ipma` -> `ipco`), its own `ispe` turned by its own `irot`. The first `ispe` of
 * a file may be a thumbnail's, a tile's or a decoy's. A grid's size is its output (ImageGrid item data, in `idat`
 * or in the file); its tiles (`dimg` references) are decoded whole, so the largest is reported as a frame.
 * No DOM: tested in Node.
 */
import type { ImageHeader } from './image-header-type';

interface Box {
  type: string;
  /** Payload start and end, within the file. */
  start: number;
  end: number;
}

const fourCC = (bytes: Uint8Array, at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);

/**
 * The boxes in [start, end). A box that claims to run past `end` is a RangeError inside a container; at the top
 * level (`cutShort`: a file cut in its media data) it ends the list.
 */
function boxesIn(bytes: Uint8Array, view: DataView, start: number, end: number, cutShort = false): Box[] {
  const boxes: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (cutShort && at + size > end) break;
    if (size < header || at + size > end) throw new RangeError(`box ${fourCC(bytes, at + 4)} runs past its container`);
    boxes.push({ type: fourCC(bytes, at + 4), start: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

/** Reads unsigned big-endian integers from `at` on, failing past `end`. */
class Reader {
  constructor(
    private readonly view: DataView,
    public at: number,
    private readonly end: number,
  ) {}

  /** An unsigned integer of `bytes` bytes (0, 1, 2, 4 or 8). */
  uint(bytes: number): number {
    if (this.at + bytes > this.end) throw new RangeError('box cut short');
    const at = this.at;
    this.at += bytes;
    if (bytes === 0) return 0;
    if (bytes === 1) return this.view.getUint8(at);
    if (bytes === 2) return this.view.getUint16(at);
    if (bytes === 4) return this.view.getUint32(at);
    if (bytes === 8) return Number(this.view.getBigUint64(at));
    throw new RangeError(`no ${bytes}-byte fields in HEIF`);
  }

  /** A full box's version (its flags are returned too). */
  versionAndFlags(): { version: number; flags: number } {
    const word = this.uint(4);
    return { version: word >>> 24, flags: word & 0xffffff };
  }
}

interface Meta {
  primary: number;
  types: Map<number, string>;
  /** Properties of each item, in association order. */
  properties: Map<number, Box[]>;
  /** Items each item references, per reference type ('dimg' -> tiles of a grid). */
  references: Map<string, Map<number, number[]>>;
  /** Item id -> the bytes of its data, where an item's data is located in this file or in idat. */
  data: (id: number) => Uint8Array | null;
}

function readMeta(bytes: Uint8Array, view: DataView, meta: Box): Meta | null {
  const children = new Map<string, Box[]>();
  for (const child of boxesIn(bytes, view, meta.start + 4, meta.end)) children.set(child.type, [...(children.get(child.type) ?? []), child]);
  const one = (type: string) => children.get(type)?.[0];

  const pitm = one('pitm');
  if (!pitm) return null;
  const pitmReader = new Reader(view, pitm.start, pitm.end);
  const primary = pitmReader.uint(pitmReader.versionAndFlags().version === 0 ? 2 : 4);

  const types = new Map<number, string>();
  const iinf = one('iinf');
  if (iinf) {
    const reader = new Reader(view, iinf.start, iinf.end);
    reader.uint(reader.versionAndFlags().version === 0 ? 2 : 4);
    for (const infe of boxesIn(bytes, view, reader.at, iinf.end).filter((b) => b.type === 'infe')) {
      const entry = new Reader(view, infe.start, infe.end);
      const { version } = entry.versionAndFlags();
      if (version < 2) continue; // no item type before version 2
      const id = entry.uint(version === 2 ? 2 : 4);
      entry.uint(2); // item_protection_index
      types.set(id, fourCC(bytes, entry.at));
    }
  }

  const iprp = one('iprp');
  const iprpChildren = iprp ? boxesIn(bytes, view, iprp.start, iprp.end) : [];
  const ipco = iprpChildren.find((b) => b.type === 'ipco');
  const propertyBoxes = ipco ? boxesIn(bytes, view, ipco.start, ipco.end) : [];
  const properties = new Map<number, Box[]>();
  for (const ipma of iprpChildren.filter((b) => b.type === 'ipma')) {
    const reader = new Reader(view, ipma.start, ipma.end);
    const { version, flags } = reader.versionAndFlags();
    for (let entries = reader.uint(4); entries > 0; entries--) {
      const id = reader.uint(version < 1 ? 2 : 4);
      const associated = properties.get(id) ?? [];
      for (let count = reader.uint(1); count > 0; count--) {
        const index = flags & 1 ? reader.uint(2) & 0x7fff : reader.uint(1) & 0x7f;
        const property = propertyBoxes[index - 1]; // 1-based; 0 means none
        if (property) associated.push(property);
      }
      properties.set(id, associated);
    }
  }

  const references = new Map<string, Map<number, number[]>>();
  const iref = one('iref');
  if (iref) {
    const reader = new Reader(view, iref.start, iref.end);
    const idBytes = reader.versionAndFlags().version === 0 ? 2 : 4;
    for (const reference of boxesIn(bytes, view, reader.at, iref.end)) {
      const entry = new Reader(view, reference.start, reference.end);
      const from = entry.uint(idBytes);
      const to: number[] = [];
      for (let count = entry.uint(2); count > 0; count--) to.push(entry.uint(idBytes));
      const byItem = references.get(reference.type) ?? new Map<number, number[]>();
      byItem.set(from, [...(byItem.get(from) ?? []), ...to]);
      references.set(reference.type, byItem);
    }
  }

  const idat = one('idat');
  const iloc = one('iloc');
  const data = (wanted: number): Uint8Array | null => {
    if (!iloc) return null;
    const reader = new Reader(view, iloc.start, iloc.end);
    const { version } = reader.versionAndFlags();
    const sizes = reader.uint(2);
    const [offsetSize, lengthSize, baseOffsetSize, indexSize] = [sizes >>> 12, (sizes >>> 8) & 15, (sizes >>> 4) & 15, sizes & 15];
    for (let items = reader.uint(version < 2 ? 2 : 4); items > 0; items--) {
      const id = reader.uint(version < 2 ? 2 : 4);
      const method = version === 1 || version === 2 ? reader.uint(2) & 15 : 0;
      reader.uint(2); // data_reference_index: 0, this file
      const baseOffset = reader.uint(baseOffsetSize);
      const parts: Uint8Array[] = [];
      for (let extents = reader.uint(2); extents > 0; extents--) {
        if ((version === 1 || version === 2) && indexSize > 0) reader.uint(indexSize);
        const offset = baseOffset + reader.uint(offsetSize);
        const length = reader.uint(lengthSize);
        const origin = method === 1 && idat ? idat.start : method === 0 ? 0 : -1;
        if (origin < 0 || origin + offset + length > bytes.length) return null;
        parts.push(bytes.subarray(origin + offset, origin + offset + length));
      }
      if (id !== wanted) continue;
      const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      parts.reduce((at, part) => (joined.set(part, at), at + part.length), 0);
      return joined;
    }
    return null;
  };
  return { primary, types, properties, references, data };
}

type Size = { width: number; height: number };

/** An item's own ispe, or null. */
function ispeOf(meta: Meta, view: DataView, id: number): Size | null {
  const ispe = meta.properties.get(id)?.find((p) => p.type === 'ispe');
  if (!ispe) return null;
  const reader = new Reader(view, ispe.start + 4, ispe.end);
  return { width: reader.uint(4), height: reader.uint(4) };
}

/** A grid item's output size, from its ImageGrid data. */
function gridOutput(meta: Meta, id: number): Size | null {
  const grid = meta.data(id);
  if (!grid || grid.length < 8 || grid[0] !== 0) return null;
  const reader = new Reader(new DataView(grid.buffer, grid.byteOffset, grid.byteLength), 4, grid.length);
  const fieldBytes = grid[1]! & 1 ? 4 : 2;
  return { width: reader.uint(fieldBytes), height: reader.uint(fieldBytes) };
}

const refused = (unchecked: string): ImageHeader => ({ format: 'avif', width: 0, height: 0, unchecked });

export function readAvif(bytes: Uint8Array, view: DataView): ImageHeader | null {
  const metaBox = boxesIn(bytes, view, 0, bytes.length, true).find((b) => b.type === 'meta');
  const meta = metaBox && readMeta(bytes, view, metaBox);
  if (!meta) return refused('an AVIF without a primary image (no meta or pitm box) is not read');
  const { primary } = meta;
  let size: Size | null;
  let largestFrame: Size | undefined;
  if (meta.types.get(primary) === 'grid') {
    size = gridOutput(meta, primary) ?? ispeOf(meta, view, primary);
    for (const tile of meta.references.get('dimg')?.get(primary) ?? []) {
      const tileSize = ispeOf(meta, view, tile);
      if (tileSize && (!largestFrame || tileSize.width * tileSize.height > largestFrame.width * largestFrame.height)) largestFrame = tileSize;
    }
  } else size = ispeOf(meta, view, primary);
  if (!size) return refused('an AVIF whose main image declares no size (no ispe property) is not read');
  const irot = meta.properties.get(primary)?.find((p) => p.type === 'irot');
  const quarter = irot !== undefined && (bytes[irot.start]! & 1) === 1;
  const turned = quarter ? { width: size.height, height: size.width } : size;
  return { format: 'avif', ...turned, ...(largestFrame && { largestFrame }) };
}
