/**
 * Ids and file names in paths: anything but [a-z0-9._-] (no '..', no leading '.', at most 128 characters)
 * is refused with 400 before storage is touched, on read and write routes alike. Hono hands handlers
 * percent-decoded params, so '%2F' and '%2e' arrive as '/' and '.'.
 *
 * A whole '..' or '%2e%2e' path segment never reaches the Worker as such: the URL standard resolves it
 * when the Request is built (also in workerd in front of the Worker), so the request lands on another
 * path. Those cases are checked to end on a route that touches no stored object.
 */
import { reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, api, storedKeys } from './api';

beforeEach(() => reset());

const HASHED = 'w-0123456789abcdef0123456789abcdef.bin';
const LONG = 'a'.repeat(129);

/** [path, expected error] for a bad id or file name reaching a handler. */
const BAD_NAMES: [string, string][] = [
  ['/api/models/x%2e%2e/model.json', 'bad model id "x..": it may not contain ".."'],
  ['/api/models/%2e%2e%2fdatasets/model.json', 'bad model id "../datasets": it may contain only a-z, 0-9, ".", "_" and "-"'],
  ['/api/models/a%2Fb/model.json', 'bad model id "a/b": it may contain only a-z, 0-9, ".", "_" and "-"'],
  ['/api/models/a%2fb/model.json', 'bad model id "a/b": it may contain only a-z, 0-9, ".", "_" and "-"'],
  ['/api/models/%2ehidden/model.json', 'bad model id ".hidden": it may not start with "."'],
  [`/api/models/${LONG}/model.json`, `bad model id "${'a'.repeat(80)}": it is longer than 128 characters`],
  ['/api/models/MobileNet/model.json', 'bad model id "MobileNet": it may contain only a-z, 0-9, ".", "_" and "-"'],
  ['/api/models/a%00b/model.json', 'bad model id "a\\u0000b": it may contain only a-z, 0-9, ".", "_" and "-"'],
  [`/api/models/ok/%2e%2e%2f${HASHED}`, `bad file name "../${HASHED}": it may contain only a-z, 0-9, ".", "_" and "-"`],
  [`/api/models/ok/W-0123456789abcdef0123456789abcdef.bin`, 'bad file name "W-0123456789abcdef0123456789abcdef.bin": it may contain only a-z, 0-9, ".", "_" and "-"'],
  ['/api/datasets/x%2e%2e/manifest.json', 'bad dataset id "x..": it may not contain ".."'],
  ['/api/datasets/a%2Fb/manifest.json', 'bad dataset id "a/b": it may contain only a-z, 0-9, ".", "_" and "-"'],
  [`/api/datasets/${LONG}/manifest.json`, `bad dataset id "${'a'.repeat(80)}": it is longer than 128 characters`],
  [`/api/datasets/Pets/shards/${HASHED}`, 'bad dataset id "Pets": it may contain only a-z, 0-9, ".", "_" and "-"'],
  [`/api/datasets/pets/shards/..%2F..%2F${HASHED}`, `bad shard name "../../${HASHED}": it may contain only a-z, 0-9, ".", "_" and "-"`],
  ['/api/datasets/pets/shards/x%2e%2e', 'bad shard name "x..": it may not contain ".."'],
];

describe('bad ids and file names', () => {
  it.each(BAD_NAMES)('GET and HEAD %s -> 400', async (path, error) => {
    const res = await api(path);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error });
    expect((await api(path, { method: 'HEAD' })).status).toBe(400);
  });

  it.each(BAD_NAMES)('PUT %s -> 400, nothing stored', async (path, error) => {
    const res = await api(path, { method: 'PUT', body: 'bytes', headers: ADMIN });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error });
    expect(await storedKeys()).toEqual([]);
  });

  it('DELETE with a bad id -> 400', async () => {
    for (const [path, error] of [
      ['/api/models/a%2Fb', 'bad model id "a/b": it may contain only a-z, 0-9, ".", "_" and "-"'],
      ['/api/datasets/x%2e%2e', 'bad dataset id "x..": it may not contain ".."'],
    ]) {
      const res = await api(path!, { method: 'DELETE', headers: ADMIN });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error });
    }
  });
});

describe('dot segments and extra segments', () => {
  const RESOLVED: [method: string, path: string, status: number][] = [
    ['GET', '/api/models/%2e%2e/model.json', 404], // -> /api/model.json
    ['GET', '/api/models/../model.json', 404],
    ['GET', '/api/datasets/%2E%2E/%2e%2e/index/models/x.json', 404], // -> /api/index/models/x.json
    ['GET', `/api/models/m/%2e%2e`, 404], // -> /api/models/
    ['PUT', `/api/models/%2e%2e/${HASHED}`, 404], // -> /api/<file>
    ['PUT', '/api/datasets/%2e%2e/manifest.json', 404], // -> /api/manifest.json
    ['PUT', `/api/datasets/pets/shards/%2e%2e/%2e%2e/manifest.json`, 405], // -> /api/datasets/manifest.json, DELETE-only
    ['GET', '/api/models/a/b/c', 404],
    ['PUT', `/api/datasets/pets/shards/a/${HASHED}`, 404],
  ];

  it.each(RESOLVED)('%s %s -> %i without touching storage', async (method, path, status) => {
    const res = await api(path, { method, body: method === 'PUT' ? 'bytes' : undefined, headers: ADMIN });
    expect(res.status).toBe(status);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await storedKeys()).toEqual([]);
  });
});
