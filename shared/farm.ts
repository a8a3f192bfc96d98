/**
 * Plain-data protocol between the page's farm controller and its extraction workers.
 */

export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu';

/** What actually ran in a worker; shown on the page and stored with results. */
export interface BackendReport {
  backend: 'webgpu' | 'wasm' | 'cpu';
  simd: boolean;
  threads: number;
  /** Why a preferred backend was not used, in plain words (e.g. "no WebGPU adapter"). */
  notes: string[];
}

/** The base model as downloaded once by the page and handed to every worker. */
export interface ModelArtifactsData {
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] };
  weightData: ArrayBuffer;
}

/** One image to extract: its bytes, and which views are still missing from the cache. */
export interface ExtractItem {
  /** Scheduler key (the image id for dataset images). */
  key: string;
  imageId: string;
  bytes: Blob;
  views: number[];
}

export interface ExtractResult {
  done: string[];
  failed: { key: string; reason: string }[];
  /** Base-model forward passes run for this batch (one per image view). */
  forwardPasses: number;
  /** The worker's memory after the batch: flat across batches, or features are leaking into memory. */
  memory: WorkerMemory;
}

export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
  /** performance.memory.usedJSHeapSize where the browser exposes it. */
  jsHeapBytes: number | null;
}
