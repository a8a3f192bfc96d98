/**
 * Runs an ingest: prepares each source completely (so bad input stores nothing), then stores its
 * objects in dependency order (weights before model.json, shards before manifest.json, index records
 * last), a few at a time, and reports what was stored, what was already there and what was skipped.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetRecordOf, type DatasetManifest, type ModelRecord } from '../../shared/records';
import { prepareDataset } from './dataset';
import { SourceError } from './errors';
import { toId } from './ids';
import { prepareModel } from './model';
import type { DatasetSpec, ModelSpec, SeedOptions } from './options';
import { mapLimit } from './pool';
import { openDatasetSource, openModelSource } from './sources';
import type { SkippedFile } from '../../shared/class-folders';
import { openLocalTarget, openRemoteTarget, type StoredObject, type Target } from './targets';

export interface SourceResult {
  kind: 'model' | 'dataset';
  /** The --model or --dataset value. */
  source: string;
  /** Set when the source was usable. */
  id?: string;
  /** Why the source could not be ingested. */
  error?: string;
  storedBytes: number;
  storedObjects: number;
  presentObjects: number;
  skipped: SkippedFile[];
  record?: ModelRecord;
  manifest?: DatasetManifest;
}

export interface SeedReport {
  results: SourceResult[];
  /** Set when the target could not be opened. */
  targetError?: string;
  /** 0 when every source was ingested (files may have been skipped), 1 otherwise. */
  exitCode: number;
}

/** Objects stored at once: enough to hide request latency without flooding a small Worker. */
const UPLOAD_PARALLELISM = 4;

const fmt = (n: number): string => n.toLocaleString('en-US');

export async function seed(
  options: SeedOptions,
  log: (line: string) => void = console.log,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SeedReport> {
  let target: Target;
  try {
    target =
      options.target.kind === 'remote'
        ? await openRemoteTarget(options.target.origin, env.GRAFT_ADMIN_TOKEN)
        : await openLocalTarget(options.target.persistTo);
  } catch (error) {
    const message = messageOf(error);
    log(`error: ${message}`);
    return { results: [], targetError: message, exitCode: 1 };
  }

  const results: SourceResult[] = [];
  try {
    log(`Storing into ${target.description}`);
    for (const spec of options.models) {
      results.push(await ingestSource('model', spec.source, log, () => ingestModel(spec, options, target, log)));
    }
    for (const spec of options.datasets) {
      results.push(await ingestSource('dataset', spec.source, log, () => ingestDataset(spec, options, target, log)));
    }
  } finally {
    await target.close();
  }

  const skipped = results.flatMap((r) => r.skipped.map((s) => ({ ...s, id: r.id ?? r.source })));
  if (skipped.length > 0) {
    log('');
    log(`Skipped ${skipped.length} file(s):`);
    for (const s of skipped) log(`  ${s.id}: ${s.file}: ${s.reason}`);
  }
  const failed = results.filter((r) => r.error !== undefined);
  log('');
  if (failed.length > 0) log(`${failed.length} source(s) could not be ingested: ${failed.map((r) => r.source).join(', ')}`);
  return { results, exitCode: failed.length > 0 ? 1 : 0 };
}

/** What to do after a seed that stored something usable: serve or open what was stored. */
export function nextStep(options: SeedOptions): string {
  if (options.target.kind === 'remote') return `Open ${options.target.origin} to train on what is stored.`;
  const persistTo = options.target.persistTo;
  return persistTo === '.state'
    ? 'Start the server with `npm start`, then open http://127.0.0.1:8787'
    : `Serve this state with \`npx vite build && npx tsx tools/serve.ts --persist-to ${persistTo}\` (\`npm start\` serves .state)`;
}

function messageOf(error: unknown): string {
  if (error instanceof SourceError) return error.message;
  return `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

async function ingestSource(
  kind: SourceResult['kind'],
  source: string,
  log: (line: string) => void,
  run: () => Promise<SourceResult>,
): Promise<SourceResult> {
  log('');
  log(`${kind} ${source}`);
  try {
    return await run();
  } catch (error) {
    const message = messageOf(error);
    log(`  error: ${message}`);
    return { kind, source, error: message, storedBytes: 0, storedObjects: 0, presentObjects: 0, skipped: [] };
  }
}

/** Stores each phase completely before the next, so readers never see a file whose parts are missing. */
async function storePhases(target: Target, phases: StoredObject[][], result: SourceResult, log: (line: string) => void): Promise<void> {
  for (const phase of phases) {
    const outcomes = await mapLimit(phase, UPLOAD_PARALLELISM, (object) => target.store(object));
    outcomes.forEach((outcome, i) => {
      if (outcome === 'present') result.presentObjects++;
      else {
        result.storedObjects++;
        result.storedBytes += phase[i].bytes;
      }
    });
  }
  const objects = result.storedObjects > 0 ? ` in ${result.storedObjects} object(s)` : '';
  log(`  stored ${fmt(result.storedBytes)} bytes${objects} (${result.presentObjects} objects already present)`);
}

/** Default ids can meet (two folders named alike): a seed replaces another model or dataset only when asked. */
async function refuseReplacing(target: Target, document: StoredObject, kind: SourceResult['kind'], id: string, replace: boolean) {
  if (!replace && (await target.differs(document))) {
    throw new SourceError(
      `a different ${kind} is already stored as ${id}: give --replace to replace it, or --${kind}-id to store this one under another id`,
    );
  }
}

function inMemory(key: string, bytes: Uint8Array, contentType: string, immutable: boolean): StoredObject {
  return { key, bytes: bytes.length, contentType, immutable, read: async () => bytes };
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

async function ingestModel(spec: ModelSpec, options: SeedOptions, target: Target, log: (line: string) => void): Promise<SourceResult> {
  const source = await openModelSource(spec.source);
  const id = spec.id ?? source.defaultId;
  const model = await prepareModel(source, { ...spec, id });
  const { record } = model;
  log(
    `  ${id} ("${record.name}"): ${record.layers} layers, input ${record.inputSize}px, bottleneck ${record.bottleneck}, ` +
      `${fmt(record.bytes)} bytes of weights in ${model.weightFiles.length} file(s) (was ${model.sourceFiles})`,
  );
  const result: SourceResult = { kind: 'model', source: spec.source, id, storedBytes: 0, storedObjects: 0, presentObjects: 0, skipped: [], record };
  const document = inMemory(`models/${id}/model.json`, new TextEncoder().encode(model.modelJson), 'application/json', false);
  await refuseReplacing(target, document, 'model', id, options.replace);
  const phases = [model.weightFiles.map((f) => inMemory(`models/${id}/${f.file}`, f.bytes, 'application/octet-stream', true)), [document]];
  if (target.writesIndex) phases.push([inMemory(`index/models/${id}.json`, json(record), 'application/json', false)]);
  await storePhases(target, phases, result, log);
  return result;
}

async function ingestDataset(
  spec: DatasetSpec,
  options: SeedOptions,
  target: Target,
  log: (line: string) => void,
): Promise<SourceResult> {
  const tempDir = await mkdtemp(join(tmpdir(), 'graft-seed-'));
  try {
    const source = await openDatasetSource(spec.source, tempDir);
    const id = spec.id ?? (await toId(source.defaultName));
    const name = spec.name ?? source.defaultName;
    const dataset = await prepareDataset(source.root, {
      id,
      name,
      maxSide: options.maxSide,
      shardBytes: options.shardBytes,
      followLinks: options.followLinks,
      stagingDir: join(tempDir, 'staging'),
      onProgress: (done, total) => log(`  decoded ${fmt(done)} of ${fmt(total)} files`),
    });
    const { manifest } = dataset;
    const record = datasetRecordOf(manifest);
    log(
      `  ${id} ("${name}"): ${fmt(record.imageCount)} images in ${record.classes.length} classes, ` +
        `${manifest.shards.length} shard(s) of ${fmt(record.bytes)} bytes`,
    );
    log(`  ${record.classes.map((c, i) => `${c} ${record.classCounts[i]}`).join(', ')}`);
    if (dataset.reencoded > 0) log(`  ${dataset.reencoded} image(s) downscaled or re-encoded as JPEG (--max-side ${options.maxSide})`);

    const result: SourceResult = {
      kind: 'dataset',
      source: spec.source,
      id,
      storedBytes: 0,
      storedObjects: 0,
      presentObjects: 0,
      skipped: [...source.skipped, ...dataset.skipped],
      manifest,
    };
    const document = inMemory(`datasets/${id}/manifest.json`, json(manifest), 'application/json', false);
    await refuseReplacing(target, document, 'dataset', id, options.replace);
    const phases: StoredObject[][] = [
      dataset.shards.map((shard) => ({
        key: `datasets/${id}/shards/${shard.file}`,
        bytes: shard.bytes,
        contentType: 'application/octet-stream',
        immutable: true,
        read: () => readFile(shard.path),
      })),
      [document],
    ];
    if (target.writesIndex) phases.push([inMemory(`index/datasets/${id}.json`, json(record), 'application/json', false)]);
    await storePhases(target, phases, result, log);
    return result;
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
