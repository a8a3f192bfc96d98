/**
 * A zip's central directory, read from the end of a Blob without reading the rest (APPNOTE 6.3.10: the end of
 * central directory record, 4.3.16; zip64's end record and locator, 4.3.14 and 4.3.15; the directory's headers,
 * 4.3.12, with their zip64 sizes, 4.5.3). The entry count the end record declares is checked against
 * MAX_ZIP_ENTRIES and against what the directory's bytes can hold before one header is read, so a zip64 record
 * declaring 20 million entries costs nothing. Names decoded by zipEntryName. Pure: Blob and DataView only.
 */
import { zipEntryName } from '../../shared/zip-entry-name';
import { formatCount } from './text/format';
import { MAX_ZIP_ENTRIES } from './zip-limits';

export interface ZipEntry {
  /** The name as decoded (UTF-8, or CP437 without the UTF-8 flag); a folder's ends with "/". */
  name: string;
  /** General purpose flags: bit 0 encrypted. */
  flags: number;
  /** 0 stored, 8 deflated (others are not read). */
  method: number;
  /** Bytes in the zip, and unpacked, as the directory declares them. */
  compressedSize: number;
  size: number;
  /** Where its local header starts. */
  localOffset: number;
}

/** This file cannot be read as a zip (not one, or damaged); the message says why. */
export class ZipReadError extends Error {
  override name = 'ZipReadError';
}

/** This zip is larger than the page reads: the message names the cap. */
export class ZipLimitError extends Error {
  override name = 'ZipLimitError';
}

const END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const HEADER = 0x02014b50;
const END_BYTES = 22;
const HEADER_BYTES = 46;
/** The end record's comment is at most this long, so the record is among the file's last END_BYTES + this. */
const MAX_COMMENT = 0xffff;
/** What a directory of MAX_ZIP_ENTRIES entries may need: names, extra fields and comments of 2 kB each. */
const MAX_DIRECTORY_BYTES = MAX_ZIP_ENTRIES * (HEADER_BYTES + 2048);

async function bytesOf(blob: Blob, start: number, end: number): Promise<DataView> {
  return new DataView(await blob.slice(start, end).arrayBuffer());
}

const notAZip = (why: string) => new ZipReadError(`This file is not a .zip archive that can be read (${why}).`);

interface Directory {
  count: number;
  offset: number;
  size: number;
}

/** Where the directory is and how many entries it declares: from the end record, or zip64's when it has one. */
async function findDirectory(zip: Blob): Promise<Directory> {
  if (zip.size < END_BYTES) throw notAZip('too short');
  const tailStart = Math.max(0, zip.size - END_BYTES - MAX_COMMENT - 20);
  const tail = await bytesOf(zip, tailStart, zip.size);
  let end = tail.byteLength - END_BYTES;
  // The last record whose comment ends where the file does (or one with bytes after it, if none does).
  let found = -1;
  for (; end >= 0; end--) {
    if (tail.getUint32(end, true) !== END) continue;
    if (found < 0) found = end;
    if (end + END_BYTES + tail.getUint16(end + 20, true) === tail.byteLength) {
      found = end;
      break;
    }
  }
  if (found < 0) throw notAZip('no end of central directory record');
  const directory = { count: tail.getUint16(found + 10, true), size: tail.getUint32(found + 12, true), offset: tail.getUint32(found + 16, true) };
  const locator = found - 20;
  if (locator >= 0 && tail.getUint32(locator, true) === ZIP64_LOCATOR) {
    const at = Number(tail.getBigUint64(locator + 8, true));
    if (at + 56 > zip.size) throw notAZip('its zip64 end record lies past the end of the file');
    const record = await bytesOf(zip, at, at + 56);
    if (record.getUint32(0, true) !== ZIP64_END) throw notAZip('its zip64 end record is missing');
    directory.count = Number(record.getBigUint64(32, true));
    directory.size = Number(record.getBigUint64(40, true));
    directory.offset = Number(record.getBigUint64(48, true));
  }
  return directory;
}

/** The zip64 extended information of an extra field (id 1): the 64-bit values of the fields set to all ones. */
function zip64Values(extra: DataView, start: number, end: number, wanted: number): number[] {
  for (let at = start; at + 4 <= end; ) {
    const id = extra.getUint16(at, true);
    const length = extra.getUint16(at + 2, true);
    if (id === 1) {
      const values: number[] = [];
      for (let i = 0; i < wanted && at + 4 + 8 * (i + 1) <= Math.min(end, at + 4 + length); i++) values.push(Number(extra.getBigUint64(at + 4 + 8 * i, true)));
      return values;
    }
    at += 4 + length;
  }
  return [];
}

/**
 * Every entry of the zip's central directory, in directory order. Throws ZipLimitError when it declares more than
 * MAX_ZIP_ENTRIES entries, ZipReadError when it is no zip or its directory is damaged; reads only the directory.
 */
export async function readZipDirectory(zip: Blob): Promise<ZipEntry[]> {
  const { count, offset, size } = await findDirectory(zip);
  if (count > MAX_ZIP_ENTRIES) {
    throw new ZipLimitError(`this zip declares ${formatCount(count)} entries, and Graft reads at most ${formatCount(MAX_ZIP_ENTRIES)} from one zip. Split it into smaller zips.`);
  }
  if (offset + size > zip.size || count * HEADER_BYTES > size || size > MAX_DIRECTORY_BYTES) {
    throw notAZip(`its central directory of ${formatCount(count)} entries does not fit where its end record says`);
  }
  const directory = await bytesOf(zip, offset, offset + size);
  const entries: ZipEntry[] = [];
  for (let at = 0, i = 0; i < count; i++) {
    if (at + HEADER_BYTES > size || directory.getUint32(at, true) !== HEADER) throw notAZip(`entry ${i + 1} of its central directory is damaged`);
    const nameLength = directory.getUint16(at + 28, true);
    const extraStart = at + HEADER_BYTES + nameLength;
    const extraEnd = extraStart + directory.getUint16(at + 30, true);
    const next = extraEnd + directory.getUint16(at + 32, true);
    if (next > size) throw notAZip(`entry ${i + 1} of its central directory is damaged`);
    const flags = directory.getUint16(at + 8, true);
    // Fields set to all ones are in the zip64 extra field, in this order: size, compressed size, local offset.
    const fields = [directory.getUint32(at + 24, true), directory.getUint32(at + 20, true), directory.getUint32(at + 42, true)];
    const wide = zip64Values(directory, extraStart, extraEnd, fields.filter((f) => f === 0xffffffff).length);
    const [entrySize, compressedSize, localOffset] = fields.map((field) => (field === 0xffffffff ? (wide.shift() ?? field) : field));
    const raw = new Uint8Array(directory.buffer, at + HEADER_BYTES, nameLength);
    entries.push({ name: zipEntryName(raw, flags), flags, method: directory.getUint16(at + 10, true), compressedSize, size: entrySize, localOffset });
    at = next;
  }
  return entries;
}
