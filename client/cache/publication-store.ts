/**
 * The classifiers this browser published (store `publications`): id, name, date, delete key and expiry, one record
 * each. The page lists them with Unpublish; a record goes once its publication is gone. "Delete everything" leaves
 * them (schema.ts CACHE_STORES says why).
 */
import { getDB } from './connection';
import type { OwnPublication } from './schema';

export async function savePublication(publication: OwnPublication): Promise<void> {
  const db = await getDB();
  await db.put('publications', publication);
}

/** Every publication this browser made and has not forgotten, newest first. */
export async function listPublications(): Promise<OwnPublication[]> {
  const db = await getDB();
  return (await db.getAll('publications')).sort((a, b) => b.publishedAt - a.publishedAt);
}

export async function forgetPublication(id: string): Promise<void> {
  const db = await getDB();
  await db.delete('publications', id);
}
