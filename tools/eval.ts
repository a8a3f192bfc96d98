/**
 * `npm run eval -- --train <dir> --test <dir> [options]`: how well Graft trains, end to end. Seeds the training
 * class folders into a local state folder, trains in the real page (headless Chromium, the page's Session class:
 * farm extraction, head, optionally fine-tuning), exports the float32 model and classifies every image of the test
 * class folders with it in Node. With --export tflite-<kind>, the page also builds and checks that .tflite file,
 * and the test folders are classified again by running the file in LiteRT.js (headless Chromium).
 * Progress goes to stderr; the last stdout line is one JSON object.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LABELS_FILE } from '../client/tflite/metadata';
import { MODEL_FILE } from '../client/tflite/package';
import { WEIGHTS_FILE } from '../client/trainer/export';
import { runCommand } from './measure/cli';
import { REPO_ROOT, loadProjectEnv, logLine, withTempDir } from './measure/project';
import { openCacheDir, type CacheDir } from './measure/cache-dir';
import { USAGE, parseEvalArgs, type EvalOptions } from './eval/options';
import { trainInPage, type EvalTraining } from './eval/train-in-page';
import { testExports } from './eval/test-exports';
import { evalReport } from './eval/report';

async function evaluate(options: EvalOptions, stateDir: string, cache: CacheDir | null): Promise<Record<string, unknown>> {
  const training = await trainInPage(options, stateDir, cache);
  const tested = await testExports(options.test, training);
  if (options.out) await keepExport(options.out, training);
  return evalReport(options, training, tested);
}

/** --out: the exported files classified with, model.tflite + labels.txt or the first fold's model.json + weights.bin. */
async function keepExport(out: string, { tflite, runs }: EvalTraining): Promise<void> {
  const { exported } = runs[0];
  await mkdir(out, { recursive: true });
  const files: [string, Uint8Array | string][] = tflite
    ? [[MODEL_FILE, tflite[MODEL_FILE]], [LABELS_FILE, tflite[LABELS_FILE]]]
    : [['model.json', exported.modelJson], [WEIGHTS_FILE, new Uint8Array(exported.weightsBin)]];
  for (const [name, data] of files) await writeFile(join(out, name), data);
  logLine(`kept ${files.map(([name]) => name).join(' + ')} in ${out}`);
}

async function main(): Promise<void> {
  const options = parseEvalArgs(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return;
  }
  loadProjectEnv();
  const cache = options.cacheDir ? await openCacheDir(options.cacheDir, logLine) : null;
  const result = cache
    ? await evaluate(options, cache.state, cache)
    : options.keepState
      ? await evaluate(options, join(REPO_ROOT, '.local', 'eval-state'), null)
      : await withTempDir('graft-eval-', (dir) => evaluate(options, join(dir, 'state'), null));
  console.log(JSON.stringify(result));
}

await runCommand('eval', main);
