/**
 * Zips written byte by byte for the tests of the page's zip import, including what no honest zip tool writes: a
 * name twice, sizes that lie, one deflated stream repeated as many entries (a zip bomb of a few hundred KB), and a
 * zip64 end record declaring more entries than the file holds. Local headers, central directory and end records
 * as APPNOTE 6.3.10 lays them out (sections 4.3.7, 4.3.12, 4.3.14 to 4.3.16). Node only.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftedEntry {
  /** The name's bytes as stored (a string is written as UTF-8, with the UTF-8 flag). */
  name: string | Uint8Array;
  /** The bytes stored for the entry (deflated already when `method` is 8). */
  data: Uint8Array;
  /** 0 stored, 8 deflated. */
  method: 0 | 8;
  /** The inflated size the headers declare. */
  size: number;
  crc: number;
}

/** An entry stored as is. */
export function stored(name: string | Uint8Array, bytes: Uint8Array): CraftedEntry {
  return { name, data: bytes, method: 0, size: bytes.length, crc: crc32(bytes) };
}

/** An entry deflated (level 9). */
export function deflated(name: string | Uint8Array, bytes: Uint8Array): CraftedEntry {
  return { name, data: new Uint8Array(deflateRawSync(bytes, { level: 9 })), method: 8, size: bytes.length, crc: crc32(bytes) };
}

/** `count` bytes of zeros, deflated once: many entries can share it without deflating it again. */
export function deflatedZeros(count: number): Pick<CraftedEntry, 'data' | 'method' | 'size' | 'crc'> {
  const zeros = new Uint8Array(count);
  return { data: new Uint8Array(deflateRawSync(zeros, { level: 9 })), method: 8, size: count, crc: crc32(zeros) };
}

export interface CraftOptions {
  /** Write a zip64 end record and locator declaring this many entries (the classic end record says 0xFFFF). */
  zip64Entries?: number;
}

const UTF8_FLAG = 0x800;

export function craftZip(entries: readonly CraftedEntry[], options: CraftOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? new TextEncoder().encode(entry.name) : entry.name;
    const flags = typeof entry.name === 'string' ? UTF8_FLAG : 0;
    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(6, flags, true);
    l.setUint16(8, entry.method, true);
    l.setUint32(14, entry.crc, true);
    l.setUint32(18, entry.data.length, true);
    l.setUint32(22, entry.size, true);
    l.setUint16(26, name.length, true);
    local.set(name, 30);
    const header = new Uint8Array(46 + name.length);
    const c = new DataView(header.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, flags, true);
    c.setUint16(10, entry.method, true);
    c.setUint32(16, entry.crc, true);
    c.setUint32(20, entry.data.length, true);
    c.setUint32(24, entry.size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    header.set(name, 46);
    parts.push(local, entry.data);
    central.push(header);
    offset += local.length + entry.data.length;
  }
  const directorySize = central.reduce((sum, part) => sum + part.length, 0);
  const tail: Uint8Array[] = [];
  const zip64 = options.zip64Entries;
  if (zip64 !== undefined) {
    const record = new Uint8Array(56);
    const r = new DataView(record.buffer);
    r.setUint32(0, 0x06064b50, true);
    r.setBigUint64(4, 44n, true);
    r.setUint16(12, 45, true);
    r.setUint16(14, 45, true);
    r.setBigUint64(24, BigInt(zip64), true);
    r.setBigUint64(32, BigInt(zip64), true);
    r.setBigUint64(40, BigInt(directorySize), true);
    r.setBigUint64(48, BigInt(offset), true);
    const locator = new Uint8Array(20);
    const k = new DataView(locator.buffer);
    k.setUint32(0, 0x07064b50, true);
    k.setBigUint64(8, BigInt(offset + directorySize), true);
    k.setUint32(16, 1, true);
    tail.push(record, locator);
  }
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, zip64 === undefined ? entries.length : 0xffff, true);
  e.setUint16(10, zip64 === undefined ? entries.length : 0xffff, true);
  e.setUint32(12, directorySize, true);
  e.setUint32(16, zip64 === undefined ? offset : 0xffffffff, true);
  tail.push(end);
  const all = [...parts, ...central, ...tail];
  const zip = new Uint8Array(all.reduce((sum, part) => sum + part.length, 0));
  all.reduce((at, part) => (zip.set(part, at), at + part.length), 0);
  return zip;
}
