/**
 * Packs images, in the order given, into content-addressed shards of about `shardBytes` each and
 * writes them to a staging folder. The same images in the same order always give the same shards,
 * so a re-run stores nothing new.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageEntry } from '../../shared/records';
import { contentAddressedName } from '../../shared/names';
import { sha256Hex } from '../../shared/sha256';

/** An image ready to pack: its entry fields except where it lands, and where its bytes are now. */
export interface PackableImage {
  id: string;
  class: string;
  file: string;
  type: string;
  length: number;
  /** Path of a file holding exactly the bytes to store. */
  location: string;
}

export interface StagedShard {
  file: string;
  bytes: number;
  sha256: string;
  /** Where the shard's bytes are staged until they are stored. */
  path: string;
}

export async function packShards(
  images: readonly PackableImage[],
  shardBytes: number,
  stagingDir: string,
): Promise<{ shards: StagedShard[]; entries: ImageEntry[] }> {
  const shards: StagedShard[] = [];
  const entries: ImageEntry[] = [];
  let pending: { image: PackableImage; bytes: Buffer }[] = [];
  let pendingBytes = 0;

  const flush = async (): Promise<void> => {
    const body = Buffer.concat(pending.map((p) => p.bytes));
    const sha256 = await sha256Hex(body);
    const file = contentAddressedName('shard', sha256, 'bin');
    const path = join(stagingDir, file);
    await writeFile(path, body);
    let offset = 0;
    for (const { image } of pending) {
      entries.push({ id: image.id, class: image.class, shard: file, offset, length: image.length, file: image.file, type: image.type });
      offset += image.length;
    }
    shards.push({ file, bytes: body.length, sha256, path });
    pending = [];
    pendingBytes = 0;
  };

  for (const image of images) {
    if (pending.length > 0 && pendingBytes + image.length > shardBytes) await flush();
    const bytes = await readFile(image.location);
    if ((await sha256Hex(bytes)) !== image.id) throw new Error(`${image.location} changed while it was being ingested`);
    pending.push({ image, bytes });
    pendingBytes += bytes.length;
  }
  if (pending.length > 0) await flush();
  return { shards, entries };
}
