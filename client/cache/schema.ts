/**
 * Graft's IndexedDB database as idb types it: every store, the records it holds and its indexes, and the
 * migrations that build it, one `oldVersion` step per version. Types and the upgrade only: the connection is
 * connection.ts, and each store's reads and writes are its own module (feature-store.ts, ...).
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import type { Augmentation } from '../../shared/augmentation';
import type { RunRecord } from '../../shared/run-record';
import type { Evaluation, History, TrainingState } from '../../shared/training';
import type { EncodedTensor } from './codec';

export const DB_NAME = 'graft';
export const DB_VERSION = 4;

/** What the base model produced for one image view: pooled bottleneck features or the cut activations. */
export interface FeatureRecord {
  key: string;
  modelKey: string;
  datasetId: string;
  /** The image's sha256 (ImageEntry.id). */
  imageId: string;
  /** 0 = the original image, 1..K = augmented views. */
  view: number;
  /** What made an augmented view (part of its key); null for view 0. */
  augmentation: Augmentation | null;
  /** Bottleneck features (one [1280] tensor) or every tensor crossing the cut, in the model's order. */
  tensors: EncodedTensor[];
  /** ms since the epoch, set by putBatch. */
  createdAt: number;
}

/** What the store keeps: the record plus its tensors' byte count, indexed so sizes are summed without loading tensors. */
export interface StoredFeatureRecord extends FeatureRecord {
  bytes: number;
}

/** A run's latest training state: what a resume starts from. */
export interface TrainingCheckpoint extends TrainingState {
  runId: string;
  datasetId: string;
  /** modelKey() of the base features the run trains on. */
  modelKey: string;
  /** ms since the epoch. */
  savedAt: number;
}

/** The parts of tf.io.ModelArtifacts a saved classifier keeps; weightData is one buffer. */
export interface ClassifierArtifacts {
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightData: ArrayBuffer;
  format?: string;
  generatedBy?: string;
}

/** A finished run's classifier, for classify and export on a later visit. */
export interface ClassifierRecord {
  runId: string;
  /** The user's name for it. */
  name: string;
  classes: string[];
  /** ms since the epoch. */
  savedAt: number;
  artifacts: ClassifierArtifacts;
  /** The run's curves and results, so a later visit can show them without training again. */
  history?: History;
  evaluation?: Evaluation;
}

/** A class of the dataset the visitor builds in the page. */
export interface LocalClass {
  /** Stable across renames (a random UUID). */
  id: string;
  name: string;
  /** ms since the epoch: classes are listed in the order they were made. */
  createdAt: number;
}

/** One of its samples. */
export interface LocalSample {
  /** sha256 of `bytes`, lowercase hex: the image id features are cached under. */
  id: string;
  classId: string;
  /** The JPEG file as stored (an ArrayBuffer: every IndexedDB and its test double clones it). */
  bytes: ArrayBuffer;
  type: string;
  addedAt: number;
}

/**
 * A classifier this browser published (version 4), with the key that unpublishes it: the server keeps only the
 * key's sha256 and shows the key once, so this record is the visitor's way to take the publication down.
 */
export interface OwnPublication {
  /** The publication's id: its page is /m/<id>. */
  id: string;
  name: string;
  /** ms since the epoch. */
  publishedAt: number;
  deleteKey: string;
  /** When the server deletes it (ISO 8601), or null: pinned, never. */
  expiresAt: string | null;
}

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
  /** The page's training runs: dataset, model, settings, cache keys (version 3; localStorage before). */
  runs: {
    key: string;
    value: RunRecord;
  };
  /** The classifiers this browser published, and their delete keys (version 4). */
  publications: {
    key: string;
    value: OwnPublication;
  };
}

export type GraftDatabase = IDBPDatabase<GraftDB>;

/**
 * The stores "Delete everything" empties: what Graft computed, and the runs that computed it. The visitor's own
 * classes are data: they stay. So do the publications' delete keys: forgetting one would leave its publication
 * online with no way to take it down from this browser (the page lists them with Unpublish instead).
 */
export const CACHE_STORES = ['features', 'checkpoints', 'classifiers', 'runs'] as const;
export type CacheStoreName = (typeof CACHE_STORES)[number];

/** Builds the stores a database of `oldVersion` lacks (0: a new database). */
export function upgrade(db: GraftDatabase, oldVersion: number): void {
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
  // Runs lived in localStorage before: the page moves them here once (run-store.ts), as no worker has localStorage.
  if (oldVersion < 3) db.createObjectStore('runs', { keyPath: 'runId' });
  if (oldVersion < 4) db.createObjectStore('publications', { keyPath: 'id' });
}
