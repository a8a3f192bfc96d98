/**
 * Where ingest writes: the local R2 that `npm start` serves (through wrangler's getPlatformProxy), or a
 * running Graft through its admin API. Both skip what is already stored: a content-addressed object
 * when its key exists, any other object when the stored bytes are the same.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getPlatformProxy } from 'wrangler';
import { SourceError } from './errors';
import { sha256Hex } from '../../shared/sha256';

export interface StoredObject {
  /** R2 key, e.g. models/<id>/model.json; the API path is /api/<key>. */
  key: string;
  bytes: number;
  contentType: string;
  /** Content-addressed: its name promises its bytes, so being present is enough. */
  immutable: boolean;
  read(): Promise<Uint8Array>;
}

export type StoreOutcome = 'stored' | 'present';

export interface Target {
  /** Where the objects go, for messages. */
  readonly description: string;
  /** True when ingest writes the index/ records itself; the API writes its own. */
  readonly writesIndex: boolean;
  store(object: StoredObject): Promise<StoreOutcome>;
  /** Whether other bytes than the object's are stored at its key. */
  differs(object: StoredObject): Promise<boolean>;
  close(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/**
 * The local R2 of `wrangler dev --persist-to <persistTo>`, which keeps it under <persistTo>/v3.
 *
 * Each object is one conditional put: only if absent (content-addressed) or only if its ETag (the MD5 of a
 * single-part object) differs. Reading stored objects back through the proxy would cost synchronous
 * round trips, which miniflare's proxy can mix up under heavy CPU load; a put with a Blob body stays async.
 */
export async function openLocalTarget(persistTo: string): Promise<Target> {
  const { env, dispose } = await getPlatformProxy<{ STORE: R2Bucket }>({
    configPath: join(REPO_ROOT, 'wrangler.toml'),
    persist: { path: join(resolve(persistTo), 'v3') },
  });
  return {
    description: `the local R2 in ${persistTo}`,
    writesIndex: true,
    async store(object) {
      const bytes = new Uint8Array(await object.read());
      const stored = await env.STORE.put(object.key, new Blob([bytes]), {
        httpMetadata: { contentType: object.contentType },
        onlyIf: { etagDoesNotMatch: object.immutable ? '*' : createHash('md5').update(bytes).digest('hex') },
        // As the API does for content-addressed files: R2 refuses the put if the bytes were damaged on the way.
        ...(object.immutable ? { sha256: await sha256Hex(bytes) } : {}),
      });
      return stored === null ? 'present' : 'stored';
    },
    async differs(object) {
      const stored = await env.STORE.head(object.key);
      return stored !== null && stored.etag !== createHash('md5').update(await object.read()).digest('hex');
    },
    close: dispose,
  };
}

/** A running Graft at `origin`, written through PUT /api/... with the admin token. */
export async function openRemoteTarget(origin: string, token: string | undefined): Promise<Target> {
  if (!token) {
    throw new SourceError(
      '--remote needs the admin token in the environment variable GRAFT_ADMIN_TOKEN ' +
        '(it is never read from a flag, so it stays out of shell history and logs)',
    );
  }
  let base: URL;
  try {
    base = new URL(origin);
  } catch {
    throw new SourceError(`--remote ${origin} is not a URL (expected e.g. https://graft.example.workers.dev)`);
  }
  const call = async (method: string, key: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(`/api/${key}`, base);
    try {
      return await fetch(url, { ...init, method });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new SourceError(`cannot reach ${url.origin}: ${cause}`);
    }
  };
  const refused = async (method: string, key: string, response: Response): Promise<SourceError> => {
    const text = await response.text();
    let reason = text.slice(0, 300);
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? reason;
    } catch {
      // Not the API's JSON error: the raw text says more than nothing.
    }
    const hint = response.status === 401 || response.status === 403 ? ' (check GRAFT_ADMIN_TOKEN)' : '';
    return new SourceError(`${base.origin} refused ${method} /api/${key}: ${response.status} ${reason}${hint}`);
  };

  /** The bytes stored at `key`, or null when there are none. */
  const storedBytes = async (key: string): Promise<Uint8Array | null> => {
    const current = await call('GET', key);
    if (current.ok) return new Uint8Array(await current.arrayBuffer());
    if (current.status !== 404) throw await refused('GET', key, current);
    await current.body?.cancel();
    return null;
  };

  const health = await call('GET', 'health');
  if (!health.ok) throw await refused('GET', 'health', health);

  return {
    description: base.origin,
    writesIndex: false,
    async store(object) {
      if (object.immutable) {
        const head = await call('HEAD', object.key);
        if (head.ok) return 'present';
        if (head.status !== 404) throw await refused('HEAD', object.key, head);
      } else {
        const current = await storedBytes(object.key);
        if (current !== null && sameBytes(current, await object.read())) return 'present';
      }
      const put = await call('PUT', object.key, {
        headers: { authorization: `Bearer ${token}`, 'content-type': object.contentType },
        body: new Uint8Array(await object.read()),
      });
      if (!put.ok) throw await refused('PUT', object.key, put);
      const answer = (await put.json().catch(() => ({}))) as { stored?: boolean };
      return answer.stored === false ? 'present' : 'stored';
    },
    async differs(object) {
      const current = await storedBytes(object.key);
      return current !== null && !sameBytes(current, await object.read());
    },
    close: async () => {},
  };
}
