/**
 * Where a stage-2 training step spends its time, kernel by kernel: the trainer's own step (data-parallel.ts's
 * stepInParts on one worker: forward, gradients, Adam) on stage 2's model, timed by tfjs's profiler, which on wasm
 * times each kernel by the clock (kernels run synchronously there). For `npm run bench`, in Node and in a browser
 * worker. Plain tfjs-core.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TrainSettings } from '../../shared/training';
import { mulberry32 } from '../../shared/seeded-random';
import { releaseModels } from '../engine/release';
import { buildReplicaModel } from './cut-model';
import { stepInParts } from './data-parallel';
import { SampleDropout } from './sample-dropout';
import { kernelUse, resetKernelUse, type KernelUse } from './simd/kernel-use';
import { memorySource } from './sources';

export interface KernelTime {
  /** The kernel's name, or the op's for a custom-gradient op (tfjs names those by their scope). */
  name: string;
  /** Calls per step. */
  calls: number;
  /** Milliseconds per step, kernels run inside this one included. */
  ms: number;
  /** Of the step's milliseconds. */
  share: number;
}

export interface StepProfile {
  /** Samples in a step. */
  batch: number;
  /** Steps profiled (after the warm-up); every figure is per step. */
  steps: number;
  stepMs: number;
  /** The kernels the step ran (not those run inside other kernels), the most expensive first. */
  kernels: KernelTime[];
  /** The step's time outside any kernel: the layers' JavaScript, the gradient tape, the optimizer's bookkeeping. */
  outsideKernelsMs: number;
  /** Calls of each SIMD-capable kernel in the profiled steps: how many ran SIMD, how many fell back and why. */
  simd: Record<string, KernelUse>;
}

interface ProfiledKernel {
  name: string;
  kernelTimeMs: number | { error: string };
}

/** tfjs's engine state this reads: its profile lists the kernels run inside kernels too, and their depth is not kept. */
interface EngineState {
  kernelDepth: number;
  activeProfile: { kernels: ProfiledKernel[] };
}

/** Profiles `steps` calls of `step` (run one after the other), per kernel. */
export async function profileSteps(step: () => Promise<unknown>, steps: number, batch: number): Promise<StepProfile> {
  const state = (tf.engine() as unknown as { state: EngineState }).state;
  const depths: number[] = [];
  resetKernelUse();
  let elapsed = 0;
  const profile = await tf.profile(async () => {
    // Each kernel is listed when it ends, at its own depth: 0 for the kernels the step itself ran.
    const listed = state.activeProfile.kernels;
    const push = listed.push.bind(listed);
    listed.push = (...kernels: ProfiledKernel[]) => {
      for (let i = 0; i < kernels.length; i++) depths.push(state.kernelDepth);
      return push(...kernels);
    };
    const started = performance.now();
    for (let s = 0; s < steps; s++) await step();
    elapsed = performance.now() - started;
  });
  const byName = new Map<string, { calls: number; ms: number }>();
  profile.kernels.forEach((kernel, i) => {
    if (depths[i] !== 0) return;
    const name = kernel.name || 'unnamed scope';
    const entry = byName.get(name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    byName.set(name, entry);
  });
  const stepMs = elapsed / steps;
  const kernels = [...byName].map(([name, { calls, ms }]) => ({ name, calls: calls / steps, ms: ms / steps, share: ms / steps / stepMs }));
  kernels.sort((a, b) => b.ms - a.ms);
  const kernelMs = kernels.reduce((sum, k) => sum + k.ms, 0);
  return { batch, steps, stepMs, kernels, outsideKernelsMs: Math.max(0, stepMs - kernelMs), simd: kernelUse() };
}

export interface StageTwoProfileOptions {
  classCount: number;
  settings: Pick<TrainSettings, 'seed' | 'dropout' | 'hiddenUnits' | 'fineTuneAt' | 'learningRate' | 'fineTuneLrDivisor'>;
  /** Samples per step: the batch size one worker trains on. */
  batch: number;
  /** Steps before the profile (the first steps grow the wasm heap), and profiled steps. */
  warmUp: number;
  steps: number;
}

/**
 * One worker's stage-2 step as the trainer makes it, profiled: stage 2's model over `base` (buildReplicaModel: the
 * layers from fine_tune_at on, the head, the SIMD ops), Adam, a batch of seeded cut activations (the kernels' time
 * does not depend on the values). Uses `base` up: its weights and the model's are freed at the end.
 */
export async function profileStageTwoStep(base: tfl.LayersModel, options: StageTwoProfileOptions): Promise<StepProfile> {
  const model = buildReplicaModel(base, options.classCount, options.settings);
  const variables = model.trainableWeights;
  const optimizer = tf.train.adam(options.settings.learningRate / options.settings.fineTuneLrDivisor);
  const random = mulberry32(options.settings.seed);
  const sizes = model.inputs.map((input) => tf.util.sizeFromShape(input.shape.slice(1) as number[]));
  const source = memorySource(Array.from({ length: options.batch }, (_, i) => ({
    imageId: `profile-${i}`,
    label: i % options.classCount,
    inputs: sizes.map((size) => Float32Array.from({ length: size }, () => random() * 6)),
  })));
  const indices = Array.from({ length: options.batch }, (_, i) => i);
  const batch = await source.batch(indices);
  const step = { model, variables, optimizer, dropout: new SampleDropout(model.layers), source, helpers: [] };
  const settings = { seed: options.settings.seed, classCount: options.classCount, classWeights: null, labelSmoothing: 0 };
  const once = () => stepInParts({ ...step, settings }, [indices], batch, 0);
  try {
    for (let s = 0; s < options.warmUp; s++) await once();
    return await profileSteps(once, options.steps, options.batch);
  } finally {
    optimizer.dispose();
    releaseModels(model, base);
  }
}
