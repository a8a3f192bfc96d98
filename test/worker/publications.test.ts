/**
 * /api/publications: publishing a classifier in one request (admin and open modes), its record and files as the
 * classify page reads them, unpublishing with the delete key or the admin token, pinning, the admin's list.
 */
import { reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { runnableModel } from '../../client/api/publications';
import { DELETE_KEY_HEADER, PUBLICATION_ID, type PublicationRecord, type PublishResult } from '../../shared/publication';
import { clientKey } from '../../worker/publish-policy';
import { sha256Hex } from '../../shared/sha256';
import { api, storedKeys } from './api';
import { ADMIN, builtPublication, clientOf, openEnv, postPublication, publishInput } from './publication-fixtures';

beforeEach(() => reset());

const DAY_MS = 24 * 3600_000;
const IMMUTABLE = 'public, max-age=31536000, immutable';

async function publishAsAdmin(): Promise<{ result: PublishResult; built: Awaited<ReturnType<typeof builtPublication>> }> {
  const built = await builtPublication();
  const res = await postPublication(built.form, ADMIN);
  expect(res.status).toBe(201);
  return { result: (await res.json()) as PublishResult, built };
}

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('POST /api/publications (admin mode, the default)', () => {
  it('publishes with the admin token: 201 with an unguessable id, the page path and a delete key; pinned', async () => {
    const built = await builtPublication();
    const res = await postPublication(built.form, ADMIN);
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const result = (await res.json()) as PublishResult;
    expect(result.id).toMatch(PUBLICATION_ID);
    expect(res.headers.get('Location')).toBe(`/api/publications/${result.id}`);
    expect(result).toEqual({ id: result.id, path: `/m/${result.id}`, deleteKey: result.deleteKey, expiresAt: null, bytes: built.fileBytes });
    expect(result.deleteKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The files under their content-addressed names, then the record; int8 runs and is stored once.
    const names = built.manifest.files.map((file) => file.name);
    expect(names.filter((name) => name.startsWith('model-int8-'))).toHaveLength(1);
    expect((await storedKeys()).sort()).toEqual(
      [`index/publications/${result.id}.json`, ...names.map((name) => `publications/${result.id}/${name}`)].sort(),
    );
  });

  it('gives each publication its own id and delete key', async () => {
    const first = (await publishAsAdmin()).result;
    const second = (await publishAsAdmin()).result;
    expect(second.id).not.toBe(first.id);
    expect(second.deleteKey).not.toBe(first.deleteKey);
  });

  it.each([
    ['no Authorization header', {}, 'publishing on this server needs the admin token: an Authorization: Bearer <admin token> header'],
    ['a wrong token', { Authorization: 'Bearer nope' }, 'the admin token is wrong'],
  ])('answers 401 to a publication with %s and stores nothing', async (_, headers, error) => {
    const res = await postPublication((await builtPublication()).form, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ error });
    expect(await storedKeys()).toEqual([]);
  });

  it('answers 401 saying why when publishing needs a token the server does not have', async () => {
    const res = await postPublication((await builtPublication()).form, {}, { ...env, GRAFT_ADMIN_TOKEN: undefined });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('publishing is disabled: PUBLISH is "admin" and the server has no GRAFT_ADMIN_TOKEN set');
  });

  it('answers 503 naming the setting when PUBLISH or PUBLISH_TTL_DAYS is not one it knows', async () => {
    for (const [vars, error] of [
      [{ PUBLISH: 'maybe' }, 'publishing is misconfigured on this server: PUBLISH is "maybe"; set it to "admin" or "open"'],
      [{ PUBLISH: 'open', PUBLISH_TTL_DAYS: 'thirty' }, 'publishing is misconfigured on this server: PUBLISH_TTL_DAYS is "thirty"; set it to a number of days above 0 and at most 3650'],
    ] as const) {
      const res = await postPublication((await builtPublication()).form, ADMIN, { ...env, ...vars });
      expect(res.status).toBe(503);
      expect(await errorOf(res)).toBe(error);
    }
    expect(await storedKeys()).toEqual([]);
  });
});

describe('GET /api/publications/policy', () => {
  it('tells the page who may publish and a visitor\'s limits', async () => {
    expect(await (await api('/api/publications/policy')).json()).toEqual({ mode: 'admin', maxBytes: 8388608, ttlDays: 30 });
    const open = await clientOf(openEnv({ PUBLISH_TTL_DAYS: '7' })).policy();
    expect(open).toEqual({ mode: 'open', maxBytes: 8388608, ttlDays: 7 });
  });
});

describe('GET /api/publications/:id and its files', () => {
  it('serves the record (manifest, dates, no key) with no-cache and an ETag that answers 304', async () => {
    const { result, built } = await publishAsAdmin();
    const res = await api(`/api/publications/${result.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    const text = await res.text();
    const record = JSON.parse(text) as PublicationRecord;
    expect(record).toEqual({ id: result.id, ...built.manifest, createdAt: record.createdAt, expiresAt: null, pinned: true, bytes: built.fileBytes });
    expect(Math.abs(Date.parse(record.createdAt) - Date.now())).toBeLessThan(60_000);
    // Neither the delete key nor its hash is ever served.
    expect(text).not.toContain(result.deleteKey);
    expect(text).not.toContain(await sha256Hex(result.deleteKey));

    const again = await api(`/api/publications/${result.id}`, { headers: { 'If-None-Match': res.headers.get('ETag')! } });
    expect(again.status).toBe(304);
  });

  it('serves every file with immutable caching, its type, ETag and ranges; the bytes hash to the record', async () => {
    const { result, built } = await publishAsAdmin();
    for (const file of built.manifest.files) {
      const res = await api(`/api/publications/${result.id}/${file.name}`);
      expect([file.name, res.status]).toEqual([file.name, 200]);
      expect(res.headers.get('Cache-Control')).toBe(IMMUTABLE);
      expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]+"$/);
      expect(res.headers.get('Content-Type')).toBe({ model: 'application/octet-stream', labels: 'text/plain; charset=utf-8', example: 'image/jpeg' }[file.role]);
      expect(await sha256Hex(await res.arrayBuffer())).toBe(file.sha256);
    }
    const model = built.manifest.files[0]!;
    const part = await api(`/api/publications/${result.id}/${model.name}`, { headers: { Range: 'bytes=4-7' } });
    expect(part.status).toBe(206);
    expect(new TextDecoder().decode(await part.arrayBuffer())).toBe('TFL3');
  });

  it('answers 404 JSON for an unknown id, an id that cannot be one, and a file it does not have', async () => {
    const { result } = await publishAsAdmin();
    for (const [path, error] of [
      ['/api/publications/AAAAAAAAAAAAAAAAAAAAAA', 'there is no publication AAAAAAAAAAAAAAAAAAAAAA: it was unpublished, expired or never existed'],
      ['/api/publications/not-an-id', 'there is no publication not-an-id: it was unpublished, expired or never existed'],
      [`/api/publications/${result.id}/model-00000000000000000000000000000000.tflite`, `publication ${result.id} has no file model-00000000000000000000000000000000.tflite`],
    ]) {
      const res = await api(path!);
      expect([path, res.status]).toEqual([path, 404]);
      expect(await res.json()).toEqual({ error });
    }
  });

  it('lets the client read the record and the file the page runs, checked against its hash', async () => {
    const { result } = await publishAsAdmin();
    const client = clientOf();
    const record = (await client.record(result.id))!;
    const model = runnableModel(record);
    expect([model.kind, model.signature.input.type]).toEqual(['int8', 'uint8']);
    const bytes = await client.file(record, model.name);
    expect(bytes.byteLength).toBe(model.bytes);
    expect(await client.record('AAAAAAAAAAAAAAAAAAAAAA')).toBeNull();

    // Bytes changed in storage are refused with a message, not handed to the runtime.
    await env.STORE.put(`publications/${result.id}/${model.name}`, bytes.slice(1));
    await expect(client.file(record, model.name)).rejects.toThrow(/^file model-int8-[0-9a-f]{32}\.tflite failed its hash check/);
  });
});

describe('open mode (PUBLISH = "open")', () => {
  it('lets a visitor publish without a token: the publication expires after PUBLISH_TTL_DAYS (30 by default)', async () => {
    for (const [vars, days] of [[{}, 30], [{ PUBLISH_TTL_DAYS: '2' }, 2]] as const) {
      const res = await postPublication((await builtPublication()).form, { 'CF-Connecting-IP': `192.0.2.${days}` }, openEnv(vars));
      expect(res.status).toBe(201);
      const result = (await res.json()) as PublishResult;
      const record = (await (await api(`/api/publications/${result.id}`)).json()) as PublicationRecord;
      expect(record.pinned).toBe(false);
      expect(result.expiresAt).toBe(record.expiresAt);
      expect(Date.parse(record.expiresAt!) - Date.parse(record.createdAt)).toBe(days * DAY_MS);
    }
  });

  it('answers 429 with Retry-After once a client has published 5 times in a minute; other clients go on', async () => {
    const from = (ip: string) => ({ 'CF-Connecting-IP': ip });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await postPublication((await builtPublication()).form, from('198.51.100.7'), openEnv())).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const refused = await postPublication((await builtPublication()).form, from('198.51.100.7'), openEnv());
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('60');
    expect(await refused.json()).toEqual({ error: 'too many publications from your address: try again in 60 seconds' });
    // Another address of the same IPv6 /64 counts as the same client; another client and the admin are not limited.
    const sixty4 = ['2001:db8:7:1::1', '2001:db8:7:1:ffff::2', '2001:db8:7:1:0:0:0:3', '2001:db8:7:1::4', '2001:db8:7:1::5', '2001:db8:7:1::6'];
    const v6: number[] = [];
    for (const ip of sixty4) v6.push((await postPublication((await builtPublication()).form, from(ip), openEnv())).status);
    expect(v6).toEqual([201, 201, 201, 201, 201, 429]);
    expect((await postPublication((await builtPublication()).form, from('203.0.113.9'), openEnv())).status).toBe(201);
    expect((await postPublication((await builtPublication()).form, { ...from('198.51.100.7'), ...ADMIN }, openEnv())).status).toBe(201);
  });

  it('pins what the admin publishes in open mode', async () => {
    const res = await postPublication((await builtPublication()).form, ADMIN, openEnv());
    expect(((await res.json()) as PublishResult).expiresAt).toBeNull();
  });
});

describe('DELETE /api/publications/:id', () => {
  it('with the delete key: 200, then the record and every file are gone (404)', async () => {
    const { result, built } = await publishAsAdmin();
    const res = await api(`/api/publications/${result.id}`, { method: 'DELETE', headers: { [DELETE_KEY_HEADER]: result.deleteKey } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: built.manifest.files.length });
    expect((await api(`/api/publications/${result.id}`)).status).toBe(404);
    for (const file of built.manifest.files) expect((await api(`/api/publications/${result.id}/${file.name}`)).status).toBe(404);
    expect(await storedKeys()).toEqual([`index/publications/${result.id}.json`]);
    const again = await api(`/api/publications/${result.id}`, { method: 'DELETE', headers: { [DELETE_KEY_HEADER]: result.deleteKey } });
    expect(again.status).toBe(404);
  });

  it('answers 403 to a wrong key, 401 to no key or a wrong token, and keeps the publication', async () => {
    const { result } = await publishAsAdmin();
    const other = (await publishAsAdmin()).result;
    const attempts: [Record<string, string>, number, string][] = [
      [{ [DELETE_KEY_HEADER]: other.deleteKey }, 403, `that is not the delete key of publication ${result.id}`],
      [{ [DELETE_KEY_HEADER]: '' }, 403, `that is not the delete key of publication ${result.id}`],
      [{}, 401, `unpublishing needs the publication's delete key in a ${DELETE_KEY_HEADER} header, or the admin token`],
      [{ Authorization: 'Bearer nope', [DELETE_KEY_HEADER]: result.deleteKey }, 401, 'the admin token is wrong'],
    ];
    for (const [headers, status, error] of attempts) {
      const res = await api(`/api/publications/${result.id}`, { method: 'DELETE', headers });
      expect([headers, res.status]).toEqual([headers, status]);
      expect(await res.json()).toEqual({ error });
    }
    expect((await api(`/api/publications/${result.id}`)).status).toBe(200);
  });

  it('with the admin token: any publication; 404 for one that does not exist', async () => {
    const { result } = await publishAsAdmin();
    expect((await api(`/api/publications/${result.id}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    expect((await api(`/api/publications/${result.id}`)).status).toBe(404);
    const missing = await api('/api/publications/AAAAAAAAAAAAAAAAAAAAAA', { method: 'DELETE', headers: ADMIN });
    expect(missing.status).toBe(404);
  });

  it('through the client: unpublish with the key, then the record reads as null', async () => {
    const client = clientOf();
    const result = await client.publish(await publishInput(), { adminToken: 'test-admin-token' });
    expect(await client.unpublish(result.id, { deleteKey: result.deleteKey })).toBe(5);
    expect(await client.record(result.id)).toBeNull();
  });
});

describe('admin: list and pin', () => {
  it('lists every publication, newest first, for the admin only', async () => {
    const first = (await publishAsAdmin()).result;
    const second = (await publishAsAdmin()).result;
    const res = await api('/api/publications', { headers: ADMIN });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { id: string; name: string; pinned: boolean }[];
    expect(list.map((p) => p.id)).toEqual([second.id, first.id]);
    expect(Object.keys(list[0]!).sort()).toEqual(['bytes', 'createdAt', 'expiresAt', 'id', 'name', 'pinned']);
    expect((await api('/api/publications')).status).toBe(401);
  });

  it('pins an open publication (never expires) and unpins it (expires the TTL from now)', async () => {
    const open = openEnv();
    const res = await postPublication((await builtPublication()).form, { 'CF-Connecting-IP': '192.0.2.50' }, open);
    const { id } = (await res.json()) as PublishResult;
    const client = clientOf(open);
    const pinned = await client.setPinned(id, true, { adminToken: 'test-admin-token' });
    expect([pinned.pinned, pinned.expiresAt]).toEqual([true, null]);
    expect(await client.record(id)).toEqual(pinned);
    const unpinned = await client.setPinned(id, false, { adminToken: 'test-admin-token' });
    expect(unpinned.pinned).toBe(false);
    expect(Math.abs(Date.parse(unpinned.expiresAt!) - (Date.now() + 30 * DAY_MS))).toBeLessThan(60_000);
    await expect(client.setPinned(id, true, { adminToken: 'wrong' })).rejects.toMatchObject({ status: 401 });
    const bad = await api(`/api/publications/${id}`, { method: 'PATCH', headers: ADMIN, body: '{"pinned": "yes"}' });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatch(/^the body is not valid: pinned: /);
  });
});

describe('the rate limit\'s client key', () => {
  it('is the IPv4 address, or the /64 network of an IPv6 address however it is written', () => {
    expect(clientKey('203.0.113.5')).toBe('203.0.113.5');
    for (const address of ['2001:db8:7:1::1', '2001:0DB8:0007:0001:ffff:ffff:ffff:ffff', '2001:db8:7:1:0:0:0:9']) {
      expect([address, clientKey(address)]).toEqual([address, '2001:db8:7:1::/64']);
    }
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::')).toBe('fe80:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });
});
