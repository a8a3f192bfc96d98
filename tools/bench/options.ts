/** `npm run bench`'s command line: its --help text and the flags, checked and turned into BenchOptions. */
import type { BackendChoice } from '../../shared/farm';
import { backendFlag, parseFlags, wholeNumberFlag } from '../measure/cli';

export const USAGE = `Usage: npm run bench -- [options]

Measures the extraction farm, forward passes and training on real flower photos, in headless Chromium on the
real page (and one fine-tuning comparison in Node). Takes a few minutes on two cores.

  --workers <n>             Workers of the N-worker runs. Default: navigator.hardwareConcurrency.
  --per-class <n>           Photos per flower class (5 classes). Default 60.
  --backend <b>             auto, wasm, webgpu (SwiftShader here) or cpu. Default auto.
  --predict-images <n>      Forward passes per worker in the predict-only runs (layers model, compiled base). Default 96.
  --head-epochs <n>         Head epochs (the first is warm-up). Default 3.
  --fine-tune-epochs <n>    Fine-tuning epochs from the cache (the first is warm-up). Default 2.
  --live-seconds <n>        Seconds Live classifies the fake camera (30 frames/s of flower photos). Default 10.
  -h, --help                Show this text.`;

export interface BenchOptions {
  workers: number | null;
  perClass: number;
  backend: BackendChoice;
  predictImages: number;
  headEpochs: number;
  fineTuneEpochs: number;
  liveSeconds: number;
}

export function parseBenchArgs(argv: string[]): BenchOptions | null {
  const values = parseFlags(argv, {
    workers: { type: 'string' },
    'per-class': { type: 'string' },
    backend: { type: 'string' },
    'predict-images': { type: 'string' },
    'head-epochs': { type: 'string' },
    'fine-tune-epochs': { type: 'string' },
    'live-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  return {
    workers: wholeNumberFlag(values.workers, 'workers', 1),
    perClass: wholeNumberFlag(values['per-class'], 'per-class', 2) ?? 60,
    backend: backendFlag(values.backend),
    predictImages: wholeNumberFlag(values['predict-images'], 'predict-images', 1) ?? 96,
    headEpochs: wholeNumberFlag(values['head-epochs'], 'head-epochs', 1) ?? 3,
    fineTuneEpochs: wholeNumberFlag(values['fine-tune-epochs'], 'fine-tune-epochs', 1) ?? 2,
    liveSeconds: wholeNumberFlag(values['live-seconds'], 'live-seconds', 1) ?? 10,
  };
}
