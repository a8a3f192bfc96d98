/**
 * One entry of a zip, unpacked from a Blob a slice at a time (fflate's streaming Inflate), never past what the
 * central directory declares for it: an entry that unpacks to more is stopped there, so the caps checked on the
 * directory hold against sizes that lie. Its first bytes are shown to `check` as soon as they are out, and an entry
 * `check` refuses (no image signature) is not unpacked further. Pure: Blob and fflate.
 */
import { Inflate } from 'fflate';
import { SIGNATURE_BYTES } from '../engine/image-header';
import { formatBytes } from './text/format';
import type { ZipEntry } from './zip-directory';

/** This entry is left out; the message says why. */
export class ZipEntryError extends Error {
  override name = 'ZipEntryError';
}

const LOCAL_HEADER = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
/** Compressed bytes read from the Blob at a time. */
const READ_BYTES = 256 * 1024;
/** Compressed bytes inflated at a time: at most 16 MB out (deflate's ratio is 1032:1 at most) before a check. */
const PUSH_BYTES = 16 * 1024;

/**
 * The entry's bytes, unpacked. `check` sees its first SIGNATURE_BYTES (or all, if fewer) and returns why it is
 * not wanted, or null. Throws ZipEntryError when it is refused, damaged, or unpacks to another size than declared.
 */
export async function readZipEntry(zip: Blob, entry: ZipEntry, check: (start: Uint8Array) => string | null): Promise<Uint8Array> {
  const header = new DataView(await zip.slice(entry.localOffset, entry.localOffset + LOCAL_HEADER_BYTES).arrayBuffer());
  if (header.byteLength < LOCAL_HEADER_BYTES || header.getUint32(0, true) !== LOCAL_HEADER) throw new ZipEntryError('damaged: its local header is missing');
  const start = entry.localOffset + LOCAL_HEADER_BYTES + header.getUint16(26, true) + header.getUint16(28, true);
  const end = start + entry.compressedSize;
  if (end > zip.size) throw new ZipEntryError('damaged: its data runs past the end of the zip');

  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new ZipEntryError(`damaged: stored as ${formatBytes(entry.compressedSize)} but declared as ${formatBytes(entry.size)}`);
    const refused = check(new Uint8Array(await zip.slice(start, Math.min(end, start + SIGNATURE_BYTES)).arrayBuffer()));
    if (refused) throw new ZipEntryError(refused);
    return new Uint8Array(await zip.slice(start, end).arrayBuffer());
  }

  const out = new Uint8Array(entry.size);
  let written = 0;
  let checked = false;
  let failure: string | null = null;
  const inflate = new Inflate((chunk) => {
    if (failure) return;
    if (written + chunk.length > entry.size) {
      failure = `unpacks to more than the ${formatBytes(entry.size)} the zip declares for it (a damaged or crafted entry)`;
      return;
    }
    out.set(chunk, written);
    written += chunk.length;
  });
  const checkStart = (final: boolean) => {
    if (checked || failure || (written < SIGNATURE_BYTES && !final)) return;
    checked = true;
    failure = check(out.subarray(0, Math.min(written, SIGNATURE_BYTES)));
  };
  try {
    for (let at = start; at < end && !failure; at += READ_BYTES) {
      const read = new Uint8Array(await zip.slice(at, Math.min(end, at + READ_BYTES)).arrayBuffer());
      for (let push = 0; push < read.length && !failure; push += PUSH_BYTES) {
        const final = at + push + PUSH_BYTES >= end;
        inflate.push(read.subarray(push, push + PUSH_BYTES), final);
        checkStart(final);
      }
    }
    if (end === start) inflate.push(new Uint8Array(0), true);
  } catch (error) {
    throw new ZipEntryError(`damaged: ${(error as Error).message}`);
  }
  checkStart(true);
  if (failure) throw new ZipEntryError(failure);
  if (written !== entry.size) throw new ZipEntryError(`damaged: unpacks to ${formatBytes(written)}, not the ${formatBytes(entry.size)} the zip declares`);
  return out;
}
