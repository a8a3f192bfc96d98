/**
 * The page's view of the edge API: lists, a dataset's manifest and shards, a base model's files.
 * Every response is checked: a manifest against the shared schema, weights and shards against their hashes.
 * A shard that fails (server error, network, wrong bytes) is tried again a few times with growing pauses.
 */
import * as v from 'valibot';
import type { ModelArtifactsData } from '../../shared/farm';
import {
  DatasetManifestSchema,
  DatasetRecordSchema,
  ModelRecordSchema,
  describeIssues,
  type DatasetManifest,
  type ModelRecord,
} from '../../shared/records';
import { sha256Hex } from '../../shared/sha256';

export class StorageError extends Error {
  override name = 'StorageError';

  constructor(
    message: string,
    /** Whether trying again may help (a server error, a dropped connection, bytes damaged on the way). */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** Pauses before each retry of a shard download: 3 retries, 1.75 s in all. */
export const SHARD_RETRY_DELAYS_MS = [250, 500, 1000];

/** Counts the requests this page made to the API, so the page (and tests) can show what a visit costs. */
export const requestCounter = { count: 0, bytes: 0 };

async function get(path: string, init?: RequestInit): Promise<Response> {
  requestCounter.count++;
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new StorageError(`${path}: ${(error as Error).message || 'network error'}`, true);
  }
  if (!response.ok) {
    const detail = await response
      .json()
      .then((body: unknown) => (body as { error?: string }).error)
      .catch(() => undefined);
    throw new StorageError(`${path}: ${response.status} ${detail ?? response.statusText}`, response.status >= 500 || response.status === 429);
  }
  return response;
}

async function getJson<T>(path: string, schema: v.GenericSchema<unknown, T>): Promise<T> {
  const body = await (await get(path)).json();
  const parsed = v.safeParse(schema, body);
  if (!parsed.success) throw new StorageError(`${path} is not valid: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

async function getBytes(path: string, init?: RequestInit): Promise<ArrayBuffer> {
  const buffer = await (await get(path, init)).arrayBuffer();
  requestCounter.bytes += buffer.byteLength;
  return buffer;
}

export const listModels = () => getJson('/api/models', v.array(ModelRecordSchema));
export const listDatasets = () => getJson('/api/datasets', v.array(DatasetRecordSchema));
export const getManifest = (id: string): Promise<DatasetManifest> =>
  getJson(`/api/datasets/${encodeURIComponent(id)}/manifest.json`, DatasetManifestSchema);

/**
 * A shard's bytes, refused unless they hash to what the manifest promises. A transient failure is tried again
 * after each of SHARD_RETRY_DELAYS_MS; the error of the last try says how many there were.
 */
export async function getShard(datasetId: string, shard: { file: string; sha256: string }): Promise<Blob> {
  const path = `/api/datasets/${encodeURIComponent(datasetId)}/shards/${shard.file}`;
  for (let attempt = 0; ; attempt++) {
    try {
      // A retry skips the HTTP cache: shards are cached as immutable, wrong bytes included.
      const bytes = await getBytes(path, attempt === 0 ? undefined : { cache: 'reload' });
      const hash = await sha256Hex(bytes);
      if (hash !== shard.sha256) throw new StorageError(`shard ${shard.file} is corrupt (sha256 ${hash.slice(0, 12)}…)`, true);
      return new Blob([bytes]);
    } catch (error) {
      const retryable = error instanceof StorageError && error.transient;
      if (!retryable || attempt >= SHARD_RETRY_DELAYS_MS.length) {
        throw attempt === 0 ? error : new StorageError(`${(error as Error).message} (${attempt + 1} tries)`);
      }
      await new Promise((resolve) => setTimeout(resolve, SHARD_RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * The base model's model.json and all weight bytes, downloaded once and checked against the record's
 * weights hash; the farm hands copies to its workers instead of each worker downloading them.
 */
export async function downloadModel(record: ModelRecord): Promise<ModelArtifactsData> {
  const base = `/api/models/${encodeURIComponent(record.id)}/`;
  const modelJson = (await (await get(`${base}model.json`)).json()) as ModelArtifactsData['modelJson'];
  const paths = modelJson.weightsManifest.flatMap((group) => group.paths);
  const parts = await Promise.all(paths.map((path) => getBytes(base + path)));
  const weights = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    weights.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  const hash = await sha256Hex(weights);
  if (hash !== record.weightsHash) {
    throw new StorageError(
      `the weights of ${record.id} are corrupt: sha256 ${hash.slice(0, 12)}… instead of ${record.weightsHash.slice(0, 12)}…`,
    );
  }
  return { modelJson, weightData: weights.buffer };
}
