/**
 * The dataset the visitor builds in the page: its classes and their samples (JPEG bytes, keyed by their sha256,
 * so a sample's cached features are found again whatever class it moves to). Every edit is one transaction that
 * checks what it relies on first, so a bad name or a class deleted meanwhile is refused with a clear error and
 * changes nothing. Nothing here leaves the device.
 */
import { classNameProblem, normalizeClassName } from '../../shared/class-names';
import { getDB } from './connection';
import type { LocalClass, LocalSample } from './schema';

export type NewSample = Omit<LocalSample, 'classId' | 'addedAt'>;

export interface LocalDatasetContents {
  classes: LocalClass[];
  samples: LocalSample[];
}

/** A class name that cannot be used, or a class that is no longer there: nothing was changed. */
export class LocalDatasetError extends Error {
  override name = 'LocalDatasetError';
}

/** Why a name cannot name a class beside others, or null (the rules of shared/class-names.ts). */
export { classNameProblem };

/** Every class (oldest first) and every sample (oldest first). */
export async function readLocalDataset(): Promise<LocalDatasetContents> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples']);
  const [classes, samples] = await Promise.all([tx.objectStore('local-classes').getAll(), tx.objectStore('local-samples').getAll(), tx.done]);
  return { classes: classes.sort((a, b) => a.createdAt - b.createdAt), samples: samples.sort((a, b) => a.addedAt - b.addedAt) };
}

/** A new, empty class. */
export async function addClass(name: string): Promise<LocalClass> {
  const db = await getDB();
  const tx = db.transaction('local-classes', 'readwrite');
  const existing = await tx.store.getAll();
  const problem = classNameProblem(name, existing.map((c) => c.name));
  if (problem) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw new LocalDatasetError(problem);
  }
  // Never two classes with the same time: the order they were made in is the order they are listed in.
  const createdAt = Math.max(Date.now(), ...existing.map((c) => c.createdAt + 1));
  const added: LocalClass = { id: crypto.randomUUID(), name: normalizeClassName(name), createdAt };
  await Promise.all([tx.store.add(added), tx.done]);
  return added;
}

export async function renameClass(id: string, name: string): Promise<LocalClass> {
  const db = await getDB();
  const tx = db.transaction('local-classes', 'readwrite');
  const existing = await tx.store.getAll();
  const current = existing.find((c) => c.id === id);
  const problem = current
    ? classNameProblem(name, existing.filter((c) => c.id !== id).map((c) => c.name))
    : 'This class no longer exists (deleted in another tab?).';
  if (problem || !current) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw new LocalDatasetError(problem!);
  }
  const renamed = { ...current, name: normalizeClassName(name) };
  await Promise.all([tx.store.put(renamed), tx.done]);
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
  added: LocalSample[];
  /** Samples whose bytes are already in the dataset (in this class or another), left where they are. */
  duplicates: { id: string; classId: string }[];
}

/** Adds samples to a class in one transaction; an image already in the dataset is reported, not added twice. */
export async function addSamples(classId: string, samples: readonly NewSample[]): Promise<AddedSamples> {
  const db = await getDB();
  const tx = db.transaction(['local-classes', 'local-samples'], 'readwrite');
  const store = tx.objectStore('local-samples');
  if (!(await tx.objectStore('local-classes').get(classId))) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw new LocalDatasetError('This class no longer exists (deleted in another tab?): nothing was added.');
  }
  const result: AddedSamples = { added: [], duplicates: [] };
  // Whole milliseconds, each sample after the newest stored one: the order they were added is the order shown.
  const newest = (await store.index('by-added').openKeyCursor(null, 'prev'))?.key ?? 0;
  const addedAt = Math.max(Date.now(), newest + 1);
  const seen = new Set<string>();
  const writes: Promise<unknown>[] = [];
  for (const sample of samples) {
    const earlier = seen.has(sample.id) ? { classId } : await store.get(sample.id);
    if (earlier) {
      result.duplicates.push({ id: sample.id, classId: earlier.classId });
      continue;
    }
    seen.add(sample.id);
    const record: LocalSample = { id: sample.id, classId, bytes: sample.bytes, type: sample.type, addedAt: addedAt + result.added.length };
    result.added.push(record);
    writes.push(store.put(record));
  }
  await Promise.all([...writes, tx.done]);
  return result;
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
  if (!target || !sample) {
    tx.abort();
    await tx.done.catch(() => undefined);
    throw new LocalDatasetError(!target ? 'That class no longer exists: the sample was not moved.' : 'That sample no longer exists.');
  }
  await Promise.all([store.put({ ...sample, classId }), tx.done]);
}
