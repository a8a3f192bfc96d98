/**
 * Graft's IndexedDB database: its schema, its migrations and this context's one connection.
 * The page, every farm worker and the trainer each import this module and so each hold one connection.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ClassifierRecord } from './classifier-store';
import type { TrainingCheckpoint } from './checkpoint-store';
import type { StoredFeatureRecord } from './feature-store';
import type { LocalClass, LocalSample } from './sample-store';

export const DB_NAME = 'graft';
export const DB_VERSION = 2;

export interface GraftDB extends DBSchema {
  features: {
    key: string;
    value: StoredFeatureRecord;
    indexes: {
      'by-model-key': string;
      'by-dataset-model': [string, string];
      /**
       * Everything the cache panel and resume counts need, read from the index alone (a key cursor) so
       * that no tensor is loaded: [datasetId, modelKey, view, bytes].
       */
      'by-dataset-model-view-bytes': [string, string, number, number];
    };
  };
  checkpoints: {
    key: string;
    value: TrainingCheckpoint;
    /** The list's fields, oldest first, so listing never loads weights: see checkpoint-store. */
    indexes: { summary: [number, string, string, string, string, number] };
  };
  classifiers: {
    key: string;
    value: ClassifierRecord;
    /** The list's fields, oldest first, so listing never loads weights: see classifier-store. */
    indexes: { summary: [number, string, string, string[]] };
  };
  /** The classes of the dataset the visitor builds in the page (version 2). */
  'local-classes': {
    key: string;
    value: LocalClass;
  };
  /** Its samples, keyed by the sha256 of their JPEG bytes (version 2). */
  'local-samples': {
    key: string;
    value: LocalSample;
    /** by-added: the newest sample's time, so every later one is later still (see sample-store). */
    indexes: { 'by-class': string; 'by-added': number };
  };
}

export type GraftDatabase = IDBPDatabase<GraftDB>;

let dbPromise: Promise<GraftDatabase> | null = null;
let blockedListener: (() => void) | null = null;

/**
 * Called when this context's upgrade waits for an older Graft tab that keeps the database open (one
 * that predates the close-on-blocking rule, or is frozen). The page shows "close other Graft tabs";
 * the open completes by itself once they close.
 */
export function onUpgradeBlocked(listener: (() => void) | null): void {
  blockedListener = listener;
}

/** This context's connection, opened (and upgraded) on first use. */
export function getDB(): Promise<GraftDatabase> {
  dbPromise ??= openDB<GraftDB>(DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        const features = db.createObjectStore('features', { keyPath: 'key' });
        features.createIndex('by-model-key', 'modelKey');
        features.createIndex('by-dataset-model', ['datasetId', 'modelKey']);
        features.createIndex('by-dataset-model-view-bytes', ['datasetId', 'modelKey', 'view', 'bytes']);
        const checkpoints = db.createObjectStore('checkpoints', { keyPath: 'runId' });
        checkpoints.createIndex('summary', ['savedAt', 'runId', 'datasetId', 'modelKey', 'stage', 'epoch']);
        const classifiers = db.createObjectStore('classifiers', { keyPath: 'runId' });
        classifiers.createIndex('summary', ['savedAt', 'runId', 'name', 'classes']);
      }
      if (oldVersion < 2) {
        db.createObjectStore('local-classes', { keyPath: 'id' });
        const samples = db.createObjectStore('local-samples', { keyPath: 'id' });
        samples.createIndex('by-class', 'classId');
        samples.createIndex('by-added', 'addedAt');
      }
    },
    blocked() {
      if (blockedListener) blockedListener();
      else console.warn('Graft: another tab holds an older version of the cache open; close it to continue.');
    },
    blocking() {
      // A newer Graft wants to upgrade: step aside. Our next call reopens and fails with a VersionError,
      // which is right: this tab's code is now older than the data.
      void closeDB();
    },
    terminated() {
      // The browser closed the connection (e.g. storage cleared): reopen on next use.
      dbPromise = null;
    },
  });
  const opening = dbPromise;
  // A failed open must not stick: the next call tries again.
  opening.catch(() => {
    if (dbPromise === opening) dbPromise = null;
  });
  return opening;
}

export type StoreName = 'features' | 'checkpoints' | 'classifiers';

/**
 * Empties every cache store (cached features, checkpoints, trained classifiers) in one transaction (the visitor's
 * own samples are data, not cache: they stay): all of it or,
 * if anything fails, none of it. Returns how many records each store held.
 */
export async function clearEverything(): Promise<Record<StoreName, number>> {
  const db = await getDB();
  const names: StoreName[] = ['features', 'checkpoints', 'classifiers'];
  const tx = db.transaction(names, 'readwrite');
  const counts = await Promise.all(names.map((name) => tx.objectStore(name).count()));
  await Promise.all([...names.map((name) => tx.objectStore(name).clear()), tx.done]);
  return Object.fromEntries(names.map((name, i) => [name, counts[i]])) as Record<StoreName, number>;
}

/** Closes this context's connection (the next call to getDB opens a new one). */
export async function closeDB(): Promise<void> {
  const opening = dbPromise;
  dbPromise = null;
  if (!opening) return;
  try {
    (await opening).close();
  } catch {
    // The open failed: there is nothing to close.
  }
}
