/**
 * The dataset the visitor builds in the page: its classes and their samples (JPEG bytes, keyed by their sha256,
 * so a sample's cached features are found again whatever class it moves to). Every edit is one transaction that
 * checks what it relies on first, so a bad name or a class deleted meanwhile is refused with a clear error and
 * changes nothing; a full disk is a StorageFullError saying what was not added. Listing reads keys only: a
 * sample's bytes are read when they are shown or used. Nothing here leaves the device.
 */
import type { IDBPTransaction } from 'idb';
import { classNameProblem, normalizeClassName, sameClassName } from '../../shared/class-names';
import { getDB } from './connection';
import { isQuotaExceeded, StorageFullError } from './errors';
import { cachedFeatureBytes } from './feature-store';
import type { GraftDB, LocalClass, LocalSample } from './schema';

export type NewSample = Omit<LocalSample, 'classId' | 'addedAt'>;

/** A sample as the page lists it: which image, in which class (its bytes stay in the store). */
export type LocalSampleRef = Pick<LocalSample, 'id' | 'classId'>;

export interface LocalDatasetContents {
  classes: LocalClass[];
  samples: LocalSampleRef[];
}

/** A class name that cannot be used, or a class that is no longer there: nothing was changed. */
export class LocalDatasetError extends Error {
  override name = 'LocalDatasetError';
}

/** Why a name cannot name a class beside others, or null (the rules of shared/class-names.ts). */
export { classNameProblem };

/** A transaction that writes samples (and may write classes). */
type Tx = IDBPTransaction<GraftDB, ('local-classes' | 'local-samples')[], 'readwrite'>;

async function refuse(tx: { abort(): void; done: Promise<void> }, message: string): Promise<never> {
  tx.abort();
  await tx.done.catch(() => undefined);
  throw new LocalDatasetError(message);
}

/** Every class (oldest first) and every sample (oldest first), from keys alone: no sample's bytes are read. */
export async function readLocalDataset(): Promise<LocalDatasetContents> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples']);
  const samples = tx.objectStore('local-samples');
  const classes = await tx.objectStore('local-classes').getAll();
  // by-added lists sample ids oldest first; by-class tells each one's class (both index keys, no values).
  const [ordered, ...byClass] = await Promise.all([samples.index('by-added').getAllKeys(), ...classes.map((c) => samples.index('by-class').getAllKeys(c.id))]);
  await tx.done;
  const classOf = new Map(byClass.flatMap((ids, i) => ids.map((id) => [id, classes[i].id] as const)));
  return {
    classes: classes.sort((a, b) => a.createdAt - b.createdAt),
    samples: ordered.flatMap((id) => (classOf.has(id) ? [{ id, classId: classOf.get(id)! }] : [])),
  };
}

/** A sample's JPEG, or null when it is no longer stored. */
export async function readSampleImage(id: string): Promise<Blob | null> {
  const sample = await (await getDB()).get('local-samples', id);
  return sample ? new Blob([sample.bytes], { type: sample.type }) : null;
}

/** A new, empty class. */
export async function addClass(name: string): Promise<LocalClass> {
  const db = await getDB();
  const tx = db.transaction('local-classes', 'readwrite');
  const existing = await tx.store.getAll();
  const problem = classNameProblem(name, existing.map((c) => c.name));
  if (problem) return refuse(tx, problem);
  const added = newClass(name, existing);
  await storing(tx, `the class “${added.name}”`, 'no class was added', () => Promise.all([tx.store.add(added), tx.done]));
  return added;
}

/** Never two classes with the same time: the order they were made in is the order they are listed in. */
function newClass(name: string, existing: readonly LocalClass[]): LocalClass {
  const createdAt = Math.max(Date.now(), ...existing.map((c) => c.createdAt + 1));
  return { id: crypto.randomUUID(), name: normalizeClassName(name), createdAt };
}

export async function renameClass(id: string, name: string): Promise<LocalClass> {
  const db = await getDB();
  const tx = db.transaction('local-classes', 'readwrite');
  const existing = await tx.store.getAll();
  const current = existing.find((c) => c.id === id);
  if (!current) return refuse(tx, 'This class no longer exists (deleted in another tab?).');
  const problem = classNameProblem(name, existing.filter((c) => c.id !== id).map((c) => c.name));
  if (problem) return refuse(tx, problem);
  const renamed = { ...current, name: normalizeClassName(name) };
  await storing(tx, `the name “${renamed.name}”`, `the class keeps its name “${current.name}”`, () => Promise.all([tx.store.put(renamed), tx.done]));
  return renamed;
}

/** Deletes a class and its samples together; returns how many samples went with it. */
export async function deleteClass(id: string): Promise<number> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples'], 'readwrite');
  const samples = tx.objectStore('local-samples');
  const ids = await samples.index('by-class').getAllKeys(id);
  await Promise.all([tx.objectStore('local-classes').delete(id), ...ids.map((key) => samples.delete(key)), tx.done]);
  return ids.length;
}

export interface AddedSamples {
  added: LocalSampleRef[];
  /** Samples whose bytes are already in the dataset (in this class or another), left where they are. */
  duplicates: { id: string; classId: string }[];
}

/**
 * Runs `write` (the transaction's last requests and its commit); a full disk, refused by a request or at the commit,
 * becomes StorageFullError: `what` was not saved, `kept` says what stays.
 */
async function storing<T>(tx: { error: DOMException | null; done: Promise<void> }, what: string, kept: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    await tx.done.catch(() => undefined);
    if (!isQuotaExceeded(error) && !isQuotaExceeded(tx.error)) throw error;
    throw new StorageFullError(what, kept, await cachedFeatureBytes().catch(() => null), { cause: tx.error ?? error });
  }
}

const samplesFor = (count: number, className: string) => (count === 1 ? `a sample for “${className}”` : `the ${count} samples for “${className}”`);
const noneAdded = (count: number) => (count === 1 ? 'it was not added' : 'none of them was added');

/** Puts the samples not stored yet into class `classId` (the requests; the caller awaits them with the commit). */
async function putSamples(tx: Tx, classId: string, samples: readonly NewSample[]): Promise<AddedSamples & { writes: Promise<unknown>[] }> {
  const store = tx.objectStore('local-samples');
  const result: AddedSamples & { writes: Promise<unknown>[] } = { added: [], duplicates: [], writes: [] };
  // Whole milliseconds, each sample after the newest stored one: the order they were added is the order shown.
  const newest = (await store.index('by-added').openKeyCursor(null, 'prev'))?.key ?? 0;
  const addedAt = Math.max(Date.now(), newest + 1);
  const seen = new Set<string>();
  for (const sample of samples) {
    const earlier = seen.has(sample.id) ? { classId } : await store.get(sample.id);
    if (earlier) {
      result.duplicates.push({ id: sample.id, classId: earlier.classId });
      continue;
    }
    seen.add(sample.id);
    const record: LocalSample = { id: sample.id, classId, bytes: sample.bytes, type: sample.type, addedAt: addedAt + result.added.length };
    result.added.push({ id: sample.id, classId });
    const write = store.put(record);
    // Awaited with the commit; a write that fails after an earlier one stopped the transaction is no loose rejection.
    write.catch(() => undefined);
    result.writes.push(write);
  }
  return result;
}

/** Adds samples to a class in one transaction (all or none); an image already in the dataset is reported, not added twice. */
export async function addSamples(classId: string, samples: readonly NewSample[]): Promise<AddedSamples> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples'], 'readwrite');
  const target = await tx.objectStore('local-classes').get(classId);
  if (!target) return refuse(tx, 'This class no longer exists (deleted in another tab?): nothing was added.');
  return storing(tx, samplesFor(samples.length, target.name), noneAdded(samples.length), async () => {
    const { writes, ...result } = await putSamples(tx, classId, samples);
    await Promise.all([...writes, tx.done]);
    return result;
  });
}

export interface ImportedClass extends AddedSamples {
  /** The class the samples went to: one of that name already, or a new one; null when nothing was new. */
  class: LocalClass | null;
  created: boolean;
}

/**
 * A class of an import, whole or not at all, in one transaction: the class of that name (in any case or Unicode
 * spelling) takes the samples, or a new class is made with them; a new class with no new sample is not made.
 */
export async function importClass(name: string, samples: readonly NewSample[]): Promise<ImportedClass> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples'], 'readwrite');
  const classes = tx.objectStore('local-classes');
  const existing = await classes.getAll();
  const joined = existing.find((c) => sameClassName(c.name, name));
  let target = joined;
  if (!target) {
    const problem = classNameProblem(name, existing.map((c) => c.name));
    if (problem) return refuse(tx, problem);
    target = newClass(name, existing);
  }
  const into = target;
  return storing(tx, samplesFor(samples.length, into.name), noneAdded(samples.length), async () => {
    const { writes, ...result } = await putSamples(tx, into.id, samples);
    if (!joined && result.added.length === 0) {
      tx.abort();
      await tx.done.catch(() => undefined);
      return { ...result, class: null, created: false };
    }
    if (!joined) writes.push(classes.add(into));
    await Promise.all([...writes, tx.done]);
    return { ...result, class: into, created: !joined };
  });
}

/** Deletes samples; ids that are not there are ignored. */
export async function deleteSamples(ids: readonly string[]): Promise<void> {
  const db = await getDB();
  const tx = db.transaction('local-samples', 'readwrite');
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
}

/** Moves a sample to another class (its bytes, id and cached features stay the same). */
export async function moveSample(id: string, classId: string): Promise<void> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples'], 'readwrite');
  const store = tx.objectStore('local-samples');
  const [target, sample] = await Promise.all([tx.objectStore('local-classes').get(classId), store.get(id)]);
  if (!target || !sample) return refuse(tx, !target ? 'That class no longer exists: the sample was not moved.' : 'That sample no longer exists.');
  await storing(tx, 'the move of a sample', 'it stays in its class', () => Promise.all([store.put({ ...sample, classId }), tx.done]));
}
