/**
 * The trainer's backend and base model, the one owner of both: init() starts the backend once and keeps the base's
 * artifacts; every request that runs tf ops awaits loadedBase() first (an op before the backend has started throws
 * "Backend 'wasm' has not yet been initialized").
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice, BackendReport, ModelArtifactsData } from '../../../shared/farm';
import type { ModelRecord } from '../../../shared/records';
import { selectBackend } from '../../engine/backend';
import { registerWasmBackpropKernels } from '../wasm-backprop-kernels';
import { toArtifacts } from './artifacts';

export interface LoadedBase {
  artifacts: tf.io.ModelArtifacts;
  /** The same as the page sent them, for fine-tuning helpers. */
  artifactsData: ModelArtifactsData;
  record: ModelRecord;
  report: BackendReport;
}

let loaded: Promise<LoadedBase> | null = null;

/** Starts the backend (WASM gets the backprop kernels it lacks) and keeps the base model's artifacts. */
export function initBackend(options: { backend: BackendChoice; threads: number; artifacts: ModelArtifactsData; record: ModelRecord }): Promise<BackendReport> {
  loaded ??= (async () => {
    registerWasmBackpropKernels();
    const report = await selectBackend(options.backend, options.threads);
    return { artifacts: toArtifacts(options.artifacts), artifactsData: options.artifacts, record: options.record, report };
  })();
  return loaded.then((l) => l.report);
}

/** The backend and base, once init() has started them. */
export async function loadedBase(): Promise<LoadedBase> {
  if (!loaded) throw new Error('the trainer was not initialised with a base model');
  return loaded;
}
