/**
 * The R2 key layout, and the operations that span several keys. Only this module builds keys; ids and
 * file names reaching it were already checked (shared nameProblem, or a publication id's base64url), so none
 * holds '/' or '..'.
 *
 *   models/<id>/model.json          TF.js layers model.json (graft metadata in userDefinedMetadata.graft)
 *   models/<id>/<file>              weight files, content-addressed
 *   datasets/<id>/manifest.json     DatasetManifest
 *   datasets/<id>/shards/<file>     image shards, content-addressed
 *   index/models/<id>.json          ModelRecord   (what GET /api/models lists)
 *   index/datasets/<id>.json        DatasetRecord (what GET /api/datasets lists)
 *   publications/<id>/<file>        a publication's files, content-addressed (./publication-store.ts)
 *   index/publications/<id>.json    PublicationRecord, with its delete key's sha256 and expiry in customMetadata
 *
 * An index record is written LAST, after everything it describes, so the lists never show a half-written
 * model or dataset. A delete and an upload of the same entry may overlap (R2 has no transactions), so the
 * index key also carries their hand-over:
 *
 *   - a DELETE first replaces the record with a `deleting` marker, removes the folder, then leaves a
 *     `deleted` marker;
 *   - an upload notes the ETags of the index key and of its document before it checks the parts, is refused
 *     (409) while a delete is in progress, and writes its document, then its record, only if each is
 *     unchanged (R2 conditional puts): of two overlapping uploads one wins whole, the other gets 409.
 *
 * Every write to an index key has bytes of its own (a random revision), so its ETag never comes back:
 * an upload that began before any delete or other upload of the entry cannot publish over it.
 */
import { apiError } from './errors';

/** The kinds of stored things; also the first segment of their keys. */
export type Kind = 'models' | 'datasets' | 'publications';

/** Largest body one PUT may carry: a body and its hash must fit in a Worker's 128 MB. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

export const modelKey = (id: string, file: string) => `models/${id}/${file}`;
export const manifestKey = (id: string) => `datasets/${id}/manifest.json`;
export const shardKey = (id: string, file: string) => `datasets/${id}/shards/${file}`;
export const publicationFileKey = (id: string, file: string) => `publications/${id}/${file}`;
export const indexKey = (kind: Kind, id: string) => `index/${kind}/${id}.json`;
export const indexPrefix = (kind: Kind) => `index/${kind}/`;
/** The id an index key of `kind` is for. */
export const idOfIndexKey = (kind: Kind, key: string) => key.slice(indexPrefix(kind).length, -'.json'.length);
export const folderOf = (kind: Kind, id: string) => `${kind}/${id}/`;

/** `state` in the customMetadata of an index key that holds a marker instead of a record. */
type Marker = 'deleting' | 'deleted';

export const markerOf = (object: R2Object): Marker | undefined => object.customMetadata?.state as Marker | undefined;

export const JSON_METADATA: R2HTTPMetadata = { contentType: 'application/json' };

const singular = (kind: Kind) => kind.slice(0, -1);

/** All index records of a kind, sorted by id. */
export async function readIndex<T extends { id: string }>(bucket: R2Bucket, kind: Kind): Promise<T[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: indexPrefix(kind), cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  // A record deleted between list and get is simply left out, and so are markers.
  const records = await Promise.all(
    keys.map(async (key) => {
      const object = await bucket.get(key);
      if (object === null || markerOf(object) !== undefined) return null;
      const { revision: _, ...record } = await object.json<T & { revision?: string }>();
      return record as unknown as T;
    }),
  );
  return records.filter((record) => record !== null).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Publishes a model or dataset: `check` verifies its parts are stored (throwing otherwise), then the
 * document (model.json, manifest.json) is stored, then the index record. 409 when a delete of the same entry
 * is in progress, or when the entry was deleted or uploaded by another request meanwhile.
 */
export async function publishEntry(
  bucket: R2Bucket,
  kind: Kind,
  record: { id: string },
  check: () => Promise<void>,
  document: { key: string; body: ArrayBuffer },
): Promise<void> {
  const key = indexKey(kind, record.id);
  // The document first: an upload that publishes between the two reads then fails this one's document write.
  const documentBefore = await bucket.head(document.key);
  const before = await bucket.head(key);
  if (before !== null && markerOf(before) === 'deleting') {
    throw apiError(
      409,
      `${singular(kind)} ${record.id} is being deleted: upload it again once the DELETE has finished ` +
        '(if none is running, one was interrupted: DELETE it again)',
    );
  }
  await check();
  const unchangedSince = (object: R2Object | null): R2Conditional =>
    object === null ? { etagDoesNotMatch: '*' } : { etagMatches: object.etag };
  const conflict = () =>
    apiError(409, `${singular(kind)} ${record.id} was deleted or uploaded by another request meanwhile: upload it again`);
  // The document too is written only over what was there at the start, so a record never describes another upload's document.
  const stored = await bucket.put(document.key, document.body, { httpMetadata: JSON_METADATA, onlyIf: unchangedSince(documentBefore) });
  if (stored === null) throw conflict();
  const published = await bucket.put(key, JSON.stringify({ ...record, revision: crypto.randomUUID() }), {
    httpMetadata: JSON_METADATA,
    onlyIf: unchangedSince(before),
  });
  if (published === null) throw conflict();
}

/** Sizes of the stored objects at `keys` (null where missing), in order. */
export async function storedSizes(bucket: R2Bucket, keys: readonly string[]): Promise<(number | null)[]> {
  return Promise.all(keys.map(async (key) => (await bucket.head(key))?.size ?? null));
}

/**
 * Removes a model, dataset or publication: its record gives way to a `deleting` marker, then every object in its
 * folder goes, then a `deleted` marker stays. Returns how many folder objects were deleted, or null when there was
 * nothing at all (and then nothing is written). With `ifRecordEtag`, only the record with that ETag is deleted:
 * 409 when the index key changed since the caller read it (a pin, another delete), and nothing is deleted.
 */
export async function deleteEntry(bucket: R2Bucket, kind: Kind, id: string, ifRecordEtag?: string): Promise<number | null> {
  const key = indexKey(kind, id);
  const before = await bucket.head(key);
  const indexed = before !== null && markerOf(before) !== 'deleted';
  const folder = await bucket.list({ prefix: folderOf(kind, id), limit: 1 });
  if (!indexed && folder.objects.length === 0) return null;

  const marker = (state: Marker) => ({ customMetadata: { state } satisfies Record<string, Marker> });
  const onlyIf = ifRecordEtag === undefined ? undefined : { etagMatches: ifRecordEtag };
  const deleting = await bucket.put(key, crypto.randomUUID(), { ...marker('deleting'), onlyIf });
  if (deleting === null) throw apiError(409, `${singular(kind)} ${id} was changed by another request meanwhile: try again`);
  let deleted = 0;
  // Re-list from the start after each batch instead of following a cursor over keys being deleted.
  for (;;) {
    const page = await bucket.list({ prefix: folderOf(kind, id), limit: 1000 });
    if (page.objects.length === 0) break;
    await bucket.delete(page.objects.map((object) => object.key));
    deleted += page.objects.length;
  }
  // Unless another DELETE has begun meanwhile (it will finish the job), uploads may publish again.
  await bucket.put(key, crypto.randomUUID(), { ...marker('deleted'), onlyIf: { etagMatches: deleting.etag } });
  return deleted;
}
