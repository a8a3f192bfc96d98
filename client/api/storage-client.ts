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

/** Pauses before each retry of a request (a shard, the catalog, a model's files): 3 retries, 1.75 s in all. */
export const RETRY_DELAYS_MS = [250, 500, 1000];

/**
 * Longest a request waits for its response, or for the next bytes of its body, before the try is given up as
 * stalled (and tried again): a connection that hangs is never waited on silently.
 */
export const STALL_MS = 10_000;

/**
 * The stall limit each try starts with: STALL_MS, unless lowered (session.requestStallLimitMs) by a test that holds
 * a request back and should not wait out the real limit 4 times.
 */
export const requestLimits = { stallMs: STALL_MS };

/** Counts the requests this page made to the API, so the page (and tests) can show what a visit costs. */
export const requestCounter = { count: 0, bytes: 0 };

/** One try: the response's body, read with a watchdog that gives the request up when it stalls (requestLimits). */
async function getOnce(path: string, init?: RequestInit): Promise<Uint8Array> {
  requestCounter.count++;
  const { stallMs } = requestLimits;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let giveUp = () => {};
  const stalled = new Promise<never>((_, reject) => {
    giveUp = () => {
      // Said first: the abort then fails the fetch too, and the race has already settled on this reason.
      reject(new StorageError(`${path}: no answer for ${stallMs / 1000} s`, true));
      controller.abort();
    };
  });
  stalled.catch(() => undefined);
  const watch = () => {
    clearTimeout(timer);
    timer = setTimeout(giveUp, stallMs);
  };
  watch();
  try {
    const response = await Promise.race([fetch(path, { ...init, signal: controller.signal }), stalled]);
    if (!response.ok) {
      const detail = await Promise.race([response.json(), stalled])
        .then((body: unknown) => (body as { error?: string }).error)
        .catch(() => undefined);
      throw new StorageError(`${path}: ${response.status} ${detail ?? response.statusText}`, response.status >= 500 || response.status === 429);
    }
    const chunks: Uint8Array[] = [];
    const reader = response.body!.getReader();
    stalled.catch(() => reader.cancel().catch(() => undefined));
    for (watch(); ; watch()) {
      const { done, value } = await Promise.race([reader.read(), stalled]);
      if (done) break;
      chunks.push(value);
    }
    const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
    return bytes;
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError(`${path}: ${(error as Error).message || 'network error'}`, true);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `attempt` tried until it succeeds or fails for good: a transient failure (a stall, a server error, a dropped
 * connection, bytes damaged on the way) is tried again after each of RETRY_DELAYS_MS; the error of the last try
 * says how many there were.
 */
async function retrying<T>(attempt: (retry: number) => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry);
    } catch (error) {
      const retryable = error instanceof StorageError && error.transient;
      if (!retryable || retry >= RETRY_DELAYS_MS.length) {
        throw retry === 0 ? error : new StorageError(`${(error as Error).message} (${retry + 1} tries)`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[retry]));
    }
  }
}

async function getJson<T>(path: string, schema: v.GenericSchema<unknown, T>): Promise<T> {
  const body = await retrying(async () => {
    const bytes = await getOnce(path);
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    } catch {
      throw new StorageError(`${path} is not JSON`);
    }
  });
  const parsed = v.safeParse(schema, body);
  if (!parsed.success) throw new StorageError(`${path} is not valid: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

async function getBytes(path: string, init?: RequestInit): Promise<Uint8Array> {
  const bytes = await getOnce(path, init);
  requestCounter.bytes += bytes.byteLength;
  return bytes;
}

export const listModels = () => getJson('/api/models', v.array(ModelRecordSchema));
export const listDatasets = () => getJson('/api/datasets', v.array(DatasetRecordSchema));
export const getManifest = (id: string): Promise<DatasetManifest> =>
  getJson(`/api/datasets/${encodeURIComponent(id)}/manifest.json`, DatasetManifestSchema);

/**
 * A shard's bytes, refused unless they hash to what the manifest promises; tried again (`retrying`) when a try
 * stalls, fails on the way or brings other bytes.
 */
export function getShard(datasetId: string, shard: { file: string; sha256: string }): Promise<Blob> {
  const path = `/api/datasets/${encodeURIComponent(datasetId)}/shards/${shard.file}`;
  return retrying(async (retry) => {
    // A retry skips the HTTP cache: shards are cached as immutable, wrong bytes included.
    const bytes = await getBytes(path, retry === 0 ? undefined : { cache: 'reload' });
    const hash = await sha256Hex(bytes);
    if (hash !== shard.sha256) throw new StorageError(`shard ${shard.file} is corrupt (sha256 ${hash.slice(0, 12)}…)`, true);
    return new Blob([bytes as Uint8Array<ArrayBuffer>]);
  });
}

/**
 * The base model's model.json and all weight bytes, downloaded once and checked against the record's
 * weights hash; the farm hands copies to its workers instead of each worker downloading them. Each file is
 * tried again when it stalls or fails on the way; a download that still fails names the model.
 */
export async function downloadModel(record: ModelRecord): Promise<ModelArtifactsData> {
  const base = `/api/models/${encodeURIComponent(record.id)}/`;
  try {
    const modelJson = (await getJson(`${base}model.json`, v.unknown())) as ModelArtifactsData['modelJson'];
    const paths = modelJson.weightsManifest.flatMap((group) => group.paths);
    const parts = await Promise.all(paths.map((path) => retrying(() => getBytes(base + path))));
    const weights = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    parts.reduce((at, part) => (weights.set(part, at), at + part.byteLength), 0);
    const hash = await sha256Hex(weights);
    if (hash !== record.weightsHash) {
      throw new StorageError(`its weights are corrupt: sha256 ${hash.slice(0, 12)}… instead of ${record.weightsHash.slice(0, 12)}…`);
    }
    return { modelJson, weightData: weights.buffer };
  } catch (error) {
    throw new StorageError(`The base model “${record.name}” could not be downloaded: ${(error as Error).message}`);
  }
}
