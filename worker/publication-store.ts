/**
 * Publications in R2 (keys from ./storage.ts): the files first, under content-addressed names, then the record
 * LAST, so a GET never shows half a publication. The record's index object also carries, in its customMetadata,
 * the sha256 of the delete key (never served) and the expiry the scheduled sweep reads without opening records.
 *
 * A publication's id is new and random, so no two uploads ever write one; what can overlap is a DELETE (or the
 * sweep) with the upload, a pin or another DELETE. The record is written only where nothing is (a DELETE leaves a
 * marker there first), and a pin or a delete only over the record it read (conditional puts), so a publish that
 * loses to a DELETE answers 409 and removes its own files, and a pin never brings back a deleted publication.
 */
import { HTTPException } from 'hono/http-exception';
import type { PublicationRecord } from '../shared/publication';
import { apiError } from './errors';
import {
  deleteEntry,
  folderOf,
  idOfIndexKey,
  indexKey,
  indexPrefix,
  JSON_METADATA,
  markerOf,
  publicationFileKey,
  readIndex,
} from './storage';

/** What the index object's customMetadata holds besides a marker's state. */
interface RecordMetadata {
  /** sha256 (hex) of the delete key. */
  deleteKey: string;
  /** ISO 8601, or '' for a pinned publication. */
  expiresAt: string;
}

export interface StoredFile {
  name: string;
  body: ArrayBuffer | Uint8Array;
  sha256: string;
  contentType: string;
}

/** A stored record, its ETag (for conditional writes) and its delete key's sha256. */
export interface StoredPublication {
  record: PublicationRecord;
  etag: string;
  deleteKeySha256: string;
}

/** A 'deleted' marker older than this is removed by the sweep: no upload of its id can still be running. */
const MARKER_LIFETIME_MS = 24 * 3600_000;
/** Files with no record, uploaded longer ago than this, are left over from an upload that died: the sweep removes them. */
const ORPHAN_AGE_MS = 3600_000;

const KIND = 'publications';

const metadataOf = (record: PublicationRecord, deleteKeySha256: string): RecordMetadata => ({
  deleteKey: deleteKeySha256,
  expiresAt: record.expiresAt ?? '',
});

const conflict = (id: string) =>
  apiError(409, `publication ${id} was deleted or changed by another request meanwhile`);

/**
 * Stores the files, then the record. 409 when a DELETE of the id came first (its marker holds the index key);
 * the files this call wrote are then removed again, as they are when a write fails.
 */
export async function storePublication(
  bucket: R2Bucket,
  record: PublicationRecord,
  files: readonly StoredFile[],
  deleteKeySha256: string,
): Promise<void> {
  const { id } = record;
  try {
    await Promise.all(
      files.map((file) =>
        bucket.put(publicationFileKey(id, file.name), file.body, { httpMetadata: { contentType: file.contentType }, sha256: file.sha256 }),
      ),
    );
    const stored = await bucket.put(indexKey(KIND, id), JSON.stringify({ ...record, revision: crypto.randomUUID() }), {
      httpMetadata: JSON_METADATA,
      customMetadata: { ...metadataOf(record, deleteKeySha256) },
      onlyIf: { etagDoesNotMatch: '*' },
    });
    if (stored === null) throw conflict(id);
  } catch (error) {
    await bucket.delete(files.map((file) => publicationFileKey(id, file.name))).catch(() => undefined);
    throw error;
  }
}

/** The record of `id`, or null when there is none (never published, deleted, or being deleted). */
export async function readPublication(bucket: R2Bucket, id: string): Promise<StoredPublication | null> {
  const object = await bucket.get(indexKey(KIND, id));
  if (object === null || markerOf(object) !== undefined) return null;
  const { revision: _, ...record } = await object.json<PublicationRecord & { revision?: string }>();
  return { record, etag: object.etag, deleteKeySha256: object.customMetadata?.deleteKey ?? '' };
}

/** Whether the record says it has expired at `now` (the sweep may not have run yet). */
export const hasExpired = (record: PublicationRecord, now: number): boolean =>
  record.expiresAt !== null && Date.parse(record.expiresAt) <= now;

/** Every record, newest first. */
export async function listPublications(bucket: R2Bucket): Promise<PublicationRecord[]> {
  const records = await readIndex<PublicationRecord>(bucket, KIND);
  return records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** Rewrites the record of `stored` with `changes`, only over the version that was read (409 otherwise). */
export async function updatePublication(
  bucket: R2Bucket,
  stored: StoredPublication,
  changes: Pick<PublicationRecord, 'pinned' | 'expiresAt'>,
): Promise<PublicationRecord> {
  const record = { ...stored.record, ...changes };
  const written = await bucket.put(indexKey(KIND, record.id), JSON.stringify({ ...record, revision: crypto.randomUUID() }), {
    httpMetadata: JSON_METADATA,
    customMetadata: { ...metadataOf(record, stored.deleteKeySha256) },
    onlyIf: { etagMatches: stored.etag },
  });
  if (written === null) throw conflict(record.id);
  return record;
}

/**
 * Deletes a publication and all its files: the record given (only that version: 409 if it changed), or with
 * none, whatever is stored under the id (the admin's delete of an upload that never finished). Returns how many
 * files went, or null when there was nothing.
 */
export function deletePublication(bucket: R2Bucket, id: string, stored?: StoredPublication): Promise<number | null> {
  return deleteEntry(bucket, KIND, id, stored?.etag);
}

export interface SweepReport {
  /** Ids of the expired publications deleted. */
  expired: string[];
  /** Ids whose files were left without a record by an upload that died, and were removed. */
  orphans: string[];
}

/**
 * What the Cron Trigger runs: deletes every publication whose expiry is at or before `now` (reading only the
 * index listing's metadata), the files of uploads that died before their record, and old 'deleted' markers.
 * A publication pinned or deleted while the sweep runs is left to that request (its conditional delete fails).
 */
export async function sweepPublications(bucket: R2Bucket, now: number): Promise<SweepReport> {
  const report: SweepReport = { expired: [], orphans: [] };
  // Ids with a record, or with a DELETE under way (it removes the files itself).
  const live = new Set<string>();
  for await (const object of listAll(bucket, { prefix: indexPrefix(KIND), include: ['customMetadata'] })) {
    const id = idOfIndexKey(KIND, object.key);
    const marker = markerOf(object);
    if (marker !== 'deleted') live.add(id);
    else if (now - object.uploaded.getTime() > MARKER_LIFETIME_MS) await bucket.delete(object.key);
    const expiresAt = object.customMetadata?.expiresAt;
    if (marker !== undefined || !expiresAt || Date.parse(expiresAt) > now) continue;
    try {
      await deleteEntry(bucket, KIND, id, object.etag);
      report.expired.push(id);
    } catch (error) {
      // Pinned, or deleted, since it was listed: that request's outcome stands.
      if (!(error instanceof HTTPException && error.status === 409)) throw error;
    }
  }
  for await (const prefix of listFolders(bucket, `${KIND}/`)) {
    const id = prefix.slice(KIND.length + 1, -1);
    if (live.has(id)) continue;
    const files = await bucket.list({ prefix: folderOf(KIND, id), limit: 1000 });
    if (files.objects.every((file) => now - file.uploaded.getTime() > ORPHAN_AGE_MS)) {
      await deleteEntry(bucket, KIND, id);
      report.orphans.push(id);
    }
  }
  return report;
}

async function* listAll(bucket: R2Bucket, options: R2ListOptions): AsyncGenerator<R2Object> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ ...options, cursor });
    yield* page.objects;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/** The folder prefixes directly under `prefix` (`publications/<id>/`). */
async function* listFolders(bucket: R2Bucket, prefix: string): AsyncGenerator<string> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, delimiter: '/', cursor });
    yield* page.delimitedPrefixes;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
