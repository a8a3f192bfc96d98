/**
 * A stage-2 step profiled per kernel in the browser (client/trainer/step-profile.ts), for `npm run bench`: a
 * fine-tuning helper worker of the page's own build, started by itself on one thread, profiles one worker's step
 * on a base of its own. Also the profile's summary as the bench prints and stores it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type * as ComlinkApi from 'comlink';
import type { BackendChoice, BackendReport } from '../../shared/farm';
import type { StageTwoProfileOptions, StepProfile } from '../../client/trainer/step-profile';
import type { FineTuneHelperApi } from '../../client/trainer/worker/fine-tune-helper.worker';
import { readModelArtifacts } from './model-artifacts';
import { DIST_CLIENT } from './project';

/** URL path of the built fine-tuning helper worker (helper-pool.ts's `new URL('./fine-tune-helper.worker.ts', …)`). */
async function helperWorkerPath(): Promise<string> {
  const names = (await readdir(join(DIST_CLIENT, 'assets'))).filter((f) => /^fine-tune-helper\.worker-.*\.js$/.test(f));
  if (names.length !== 1) throw new Error(`expected one fine-tune-helper.worker-*.js in dist/client/assets, found ${names.length}`);
  return `/assets/${names[0]}`;
}

/** One worker's stage-2 step profiled in the page's browser, on `backend` with one thread. */
export async function profileInBrowser(
  page: Page,
  args: { modelDir: string; bottleneck: string; inputSize: number; backend: BackendChoice; options: StageTwoProfileOptions },
): Promise<StepProfile & { report: BackendReport }> {
  const { artifacts } = await readModelArtifacts(args.modelDir);
  const weights = Buffer.from(artifacts.weightData as ArrayBuffer).toString('base64');
  const modelJson = { modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: [], weights: artifacts.weightSpecs ?? [] }] };
  return page.evaluate(async ({ workerPath, modelJson, weights, args }) => {
    const comlink = (window as unknown as { Comlink: typeof ComlinkApi }).Comlink;
    const weightData = Uint8Array.from(atob(weights), (c) => c.charCodeAt(0)).buffer;
    const worker = new Worker(workerPath, { type: 'module', name: 'graft-bench-profile' });
    try {
      const helper = comlink.wrap<FineTuneHelperApi>(worker);
      return await helper.profileStep({
        backend: args.backend,
        threads: 1,
        artifacts: { modelJson, weightData },
        record: { bottleneck: args.bottleneck },
        inputSize: args.inputSize,
        options: args.options,
      });
    } finally {
      worker.terminate();
    }
  }, { workerPath: await helperWorkerPath(), modelJson, weights, args });
}

/** A profile as the bench's JSON holds it: milliseconds per step, the top kernels, the SIMD kernels' calls. */
export function profileSummary(profile: StepProfile, top = 12) {
  const round = (x: number, digits: number) => Number(x.toFixed(digits));
  const shown = profile.kernels.slice(0, top);
  const rest = profile.kernels.slice(top);
  const restMs = rest.reduce((sum, k) => sum + k.ms, 0);
  return {
    batch: profile.batch,
    steps: profile.steps,
    step_ms: round(profile.stepMs, 1),
    ms_per_image: round(profile.stepMs / profile.batch, 2),
    outside_kernels_ms: round(profile.outsideKernelsMs, 1),
    kernels: [
      ...shown.map((k) => ({ name: k.name, calls: round(k.calls, 1), ms: round(k.ms, 2), share: round(k.share, 3) })),
      ...(rest.length > 0 ? [{ name: `${rest.length} other kernels`, calls: round(rest.reduce((n, k) => n + k.calls, 0), 1), ms: round(restMs, 2), share: round(restMs / profile.stepMs, 3) }] : []),
    ],
    simd: profile.simd,
  };
}

/** Readable lines of a profile: step time, then each kernel's calls, milliseconds and share. */
export function profileLines(title: string, profile: StepProfile, top = 12): string[] {
  const lines = [`${title}: ${profile.stepMs.toFixed(0)} ms a step of ${profile.batch} (${(profile.stepMs / profile.batch).toFixed(1)} ms an image), ` +
    `${profile.outsideKernelsMs.toFixed(0)} ms of it outside kernels`];
  for (const k of profile.kernels.slice(0, top)) {
    lines.push(`  ${k.name.padEnd(38)} ${k.calls.toFixed(0).padStart(4)} calls ${k.ms.toFixed(1).padStart(8)} ms ${(100 * k.share).toFixed(1).padStart(5)}%`);
  }
  const fallbacks = Object.entries(profile.simd).filter(([, use]) => use.fallback > 0);
  lines.push(`  SIMD kernels: ${Object.values(profile.simd).reduce((n, u) => n + u.simd, 0)} calls; fallbacks: ${
    fallbacks.length === 0 ? 'none' : fallbacks.map(([name, use]) => `${name} ${use.fallback} (${use.reasons.join('; ')})`).join(', ')}`);
  return lines;
}
