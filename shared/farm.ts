/**
 * Plain-data protocol between the page's farm controller and its extraction workers. The workers' comlink API
 * itself is `ExtractWorkerApi` in client/farm/extract.worker.ts, which the page imports as a type only.
 */
import type { Augmentation } from './augmentation';
import type { ModelRecord } from './records';

export const BACKEND_CHOICES = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Largest batch a farm worker takes at once: bounds a worker's memory at 224 px (smaller ones report progress more often). */
export const MAX_CHUNK_SIZE = 16;

/** What actually ran in a worker; shown on the page and stored with results. */
export interface BackendReport {
  /** The tfjs backend (decoding, resizing, augmenting; and the forward pass unless `liteRt` is set). */
  backend: 'webgpu' | 'wasm' | 'cpu';
  simd: boolean;
  threads: number;
  /** Why a preferred backend was not used, in plain words (e.g. "no WebGPU adapter"). */
  notes: string[];
  /** Set when the base's forward pass runs on LiteRT.js instead of tfjs (it passed the self-check). */
  liteRt?: LiteRtReport;
}

/** The farm's forward pass on LiteRT.js: which accelerator and wasm build, and how it runs. */
export interface LiteRtReport {
  accelerator: 'wasm' | 'webgpu';
  /** LiteRT's wasm build: relaxed SIMD (default), relaxed SIMD with threads, or compat (no relaxed SIMD). */
  build: 'relaxed-simd' | 'threaded' | 'compat';
  threads: number;
  /** Images per LiteRT run. */
  batch: number;
}

/**
 * Which engine runs the base's forward pass: 'auto' uses LiteRT.js where it loads, compiles and matches tfjs on a
 * probe image, else tfjs; 'tfjs' never tries LiteRT (a restarted worker, or a comparison).
 */
export type EngineChoice = 'auto' | 'tfjs';

/** How LiteRT runs where the farm uses it (measured: see client/farm/farm.ts's LITERT_SETTINGS). */
export interface LiteRtSettings {
  batch: number;
  /** Load LiteRT's threaded build (cross-origin isolated pages with relaxed SIMD), with this many threads; 1: not. */
  threads: number;
  /** Use LiteRT's relaxed-SIMD build where the browser has relaxed SIMD (else its compat build). */
  relaxedSimd: boolean;
}

/** The base model as downloaded once by the page and handed to every worker. */
export interface ModelArtifactsData {
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] };
  weightData: ArrayBuffer;
}

/** One image to extract: its bytes, and which views are still missing from the cache. */
export interface ExtractItem {
  imageId: string;
  bytes: Blob;
  views: number[];
}

export interface ExtractResult {
  /** Image ids of the items extracted, and of those that failed with the reason. */
  done: string[];
  failed: { key: string; reason: string }[];
  /** Base-model forward passes run for this batch (one per image view). */
  forwardPasses: number;
  /** Where the batch's time went. */
  seconds: StageSeconds;
  /** The worker's memory after the batch: flat across batches, or features are leaking into memory. */
  memory: WorkerMemory;
  /** The worker's report when it changed during the batch (LiteRT failed and tfjs took over), else absent. */
  report?: BackendReport;
}

/** Seconds a worker spent in each stage of its pipeline (`npm run bench` shows them per image). */
export interface StageSeconds {
  /** Decoding the files and resizing to the input size. */
  decode: number;
  /** Augmenting, normalising and the base's forward pass, features read back. */
  forward: number;
  /** Encoding the features for the cache (float16 or uint8 cut activations). */
  encode: number;
  /** The IndexedDB transaction that stores the batch. */
  write: number;
}

export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
  /** performance.memory.usedJSHeapSize where the browser exposes it. */
  jsHeapBytes: number | null;
}

/** How a cached feature tensor is stored: float32 as is, IEEE half precision, or 8-bit affine quantisation. */
export const TENSOR_CODECS = ['float32', 'float16', 'uint8'] as const;
export type TensorCodec = (typeof TENSOR_CODECS)[number];

/** What a farm worker starts with. */
export interface ExtractorInit {
  backend: BackendChoice;
  threads: number;
  artifacts: ModelArtifactsData;
  record: ModelRecord;
  inputSize: number;
  fineTuneAt: number | string | null;
  datasetId: string;
  /** Precision of the stored cut activations (pooled features are always float32: they are small). */
  cutCodec: TensorCodec;
  /** How augmented views are made (their cache keys include it). */
  augmentation: Augmentation;
  /** The forward pass's engine, and LiteRT's settings where it is tried. */
  engine: EngineChoice;
  liteRt: LiteRtSettings;
}
