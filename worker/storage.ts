/**
 * The R2 key layout, and the operations that span several keys. Only this module builds keys; ids and
 * file names reaching it were already checked (shared nameProblem), so none holds '/' or '..'.
 *
 *   models/<id>/model.json          TF.js layers model.json (graft metadata in userDefinedMetadata.graft)
 *   models/<id>/<file>              weight files, content-addressed
 *   datasets/<id>/manifest.json     DatasetManifest
 *   datasets/<id>/shards/<file>     image shards, content-addressed
 *   index/models/<id>.json          ModelRecord   (what GET /api/models lists)
 *   index/datasets/<id>.json        DatasetRecord (what GET /api/datasets lists)
 *
 * An index record is written LAST, after everything it describes, and deleted FIRST, so the lists never
 * show a half-written or half-deleted model or dataset.
 */

/** The two kinds of stored things; also the first segment of their keys. */
export type Kind = 'models' | 'datasets';

/** Largest body one PUT may carry: a body and its hash must fit in a Worker's 128 MB. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

export const modelKey = (id: string, file: string) => `models/${id}/${file}`;
export const manifestKey = (id: string) => `datasets/${id}/manifest.json`;
export const shardKey = (id: string, file: string) => `datasets/${id}/shards/${file}`;
export const indexKey = (kind: Kind, id: string) => `index/${kind}/${id}.json`;
const folderOf = (kind: Kind, id: string) => `${kind}/${id}/`;

/** All index records of a kind, sorted by id. */
export async function readIndex<T extends { id: string }>(bucket: R2Bucket, kind: Kind): Promise<T[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: `index/${kind}/`, cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  // A record deleted between list and get is simply left out.
  const records = await Promise.all(keys.map(async (key) => (await bucket.get(key))?.json<T>() ?? null));
  return records.filter((record) => record !== null).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function writeIndex(bucket: R2Bucket, kind: Kind, record: { id: string }): Promise<void> {
  await bucket.put(indexKey(kind, record.id), JSON.stringify(record), {
    httpMetadata: { contentType: 'application/json' },
  });
}

/** Sizes of the stored objects at `keys` (null where missing), in order. */
export async function storedSizes(bucket: R2Bucket, keys: readonly string[]): Promise<(number | null)[]> {
  return Promise.all(keys.map(async (key) => (await bucket.head(key))?.size ?? null));
}

/**
 * Removes a model or dataset: its index record first, then every object in its folder.
 * Returns how many folder objects were deleted, or null when there was nothing at all.
 */
export async function deleteEntry(bucket: R2Bucket, kind: Kind, id: string): Promise<number | null> {
  const indexed = (await bucket.head(indexKey(kind, id))) !== null;
  if (indexed) await bucket.delete(indexKey(kind, id));
  let deleted = 0;
  // Re-list from the start after each batch instead of following a cursor over keys being deleted.
  for (;;) {
    const page = await bucket.list({ prefix: folderOf(kind, id), limit: 1000 });
    if (page.objects.length === 0) break;
    await bucket.delete(page.objects.map((object) => object.key));
    deleted += page.objects.length;
  }
  return indexed || deleted > 0 ? deleted : null;
}
