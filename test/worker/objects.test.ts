/**
 * Serving stored files (every GET/HEAD of an object goes through worker/r2-object.ts): exact headers,
 * HEAD, If-None-Match, byte ranges, If-Range, and the stored content type. The objects are the real cats-vs-dogs
 * shard and manifest.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, put } from './api';
import { catsAndDogs, type DatasetFixture } from './fixtures';

let dataset: DatasetFixture;
let shardPath: string;
let shard: Uint8Array;
let etag: string;

beforeAll(async () => {
  dataset = await catsAndDogs('pets');
  for (const { file, bytes } of dataset.shards) expect((await put(`/api/datasets/pets/shards/${file}`, bytes)).status).toBe(201);
  expect((await put('/api/datasets/pets/manifest.json', JSON.stringify(dataset.manifest))).status).toBe(201);
  const cats = dataset.shards[0]!;
  shardPath = `/api/datasets/pets/shards/${cats.file}`;
  shard = cats.bytes;
  etag = (await env.STORE.head(`datasets/pets/shards/${cats.file}`))!.httpEtag;
});

function headersOf(res: Response): Record<string, string> {
  const { 'cross-origin-opener-policy': _o, 'cross-origin-embedder-policy': _e, 'cross-origin-resource-policy': _r, 'x-content-type-options': _x, ...rest } =
    Object.fromEntries(res.headers);
  return rest;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

describe('GET and HEAD of a stored file', () => {
  it('GET answers 200 with the bytes and exact headers', async () => {
    const res = await api(shardPath);
    expect(res.status).toBe(200);
    expect(headersOf(res)).toEqual({
      'accept-ranges': 'bytes',
      'cache-control': IMMUTABLE,
      'content-length': String(shard.byteLength),
      'content-type': 'application/octet-stream',
      etag,
    });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(shard);
  });

  it('HEAD answers the same status and headers without a body', async () => {
    const res = await api(shardPath, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(headersOf(res)).toEqual(headersOf(await api(shardPath)));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves manifest.json as JSON that may change (short cache)', async () => {
    const res = await api('/api/datasets/pets/manifest.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=60');
    expect(res.headers.get('ETag')).toBe((await env.STORE.head('datasets/pets/manifest.json'))!.httpEtag);
    expect(await res.json()).toEqual(dataset.manifest);
  });

  it('answers 404 JSON for a file that is not stored', async () => {
    const res = await api('/api/datasets/pets/shards/cats-0-00000000000000000000000000000000.bin');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'dataset pets has no shard cats-0-00000000000000000000000000000000.bin' });
  });

  it('keeps a content type stored with the object, and defaults objects stored without one', async () => {
    const photo = dataset.manifest.images[0]!;
    const jpeg = shard.slice(photo.offset, photo.offset + photo.length);
    const typed = 'photo-0123456789abcdef0123456789abcdef.jpg';
    const untyped = 'photo-fedcba9876543210fedcba9876543210.jpg';
    await env.STORE.put(`datasets/pets/shards/${typed}`, jpeg, { httpMetadata: { contentType: 'image/jpeg' } });
    await env.STORE.put(`datasets/pets/shards/${untyped}`, jpeg);
    expect((await api(`/api/datasets/pets/shards/${typed}`)).headers.get('Content-Type')).toBe('image/jpeg');
    expect((await api(`/api/datasets/pets/shards/${untyped}`)).headers.get('Content-Type')).toBe('application/octet-stream');
  });
});

describe('If-None-Match', () => {
  it('answers 304 with the same ETag and Cache-Control and no body', async () => {
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const res = await api(shardPath, { headers: { 'If-None-Match': ifNoneMatch } });
      expect(res.status).toBe(304);
      expect(headersOf(res)).toEqual({ 'cache-control': IMMUTABLE, etag });
      expect(await res.text()).toBe('');
    }
  });

  it('answers 304 to HEAD and to a Range request too', async () => {
    expect((await api(shardPath, { method: 'HEAD', headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await api(shardPath, { headers: { 'If-None-Match': etag, Range: 'bytes=0-9' } })).status).toBe(304);
  });

  it('answers 200 when the ETag differs', async () => {
    const res = await api(shardPath, { headers: { 'If-None-Match': '"0123"' } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(shard.byteLength);
  });

  it('treats entity tags it cannot parse as not matching (RFC 9110): 200, and still matches the valid ones', async () => {
    for (const ifNoneMatch of ['abc', '', ' ', '""', 'W/""', '"unterminated', 'W/', etag.slice(1, -1)]) {
      const res = await api(shardPath, { headers: { 'If-None-Match': ifNoneMatch } });
      expect([ifNoneMatch, res.status]).toEqual([ifNoneMatch, 200]);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(shard);
    }
    expect((await api(shardPath, { headers: { 'If-None-Match': `abc, ${etag}` } })).status).toBe(304);
  });
});

describe('If-Range', () => {
  const manifestPath = '/api/datasets/pets/manifest.json';
  const manifestEtag = async () => (await env.STORE.head('datasets/pets/manifest.json'))!.httpEtag;

  it('serves the range when the validator is the current strong ETag', async () => {
    const res = await api(manifestPath, { headers: { Range: 'bytes=0-9', 'If-Range': await manifestEtag() } });
    expect(res.status).toBe(206);
    expect(res.headers.get('Content-Range')).toMatch(/^bytes 0-9\/\d+$/);
    expect(await res.text()).toBe(JSON.stringify(dataset.manifest).slice(0, 10));
  });

  it('answers 200 with the whole file when the validator is stale, weak or a date', async () => {
    const current = await manifestEtag();
    for (const ifRange of ['"0123"', `W/${current}`, 'Tue, 01 Jan 2030 00:00:00 GMT', 'garbage']) {
      for (const method of ['GET', 'HEAD']) {
        const res = await api(manifestPath, { method, headers: { Range: 'bytes=0-9', 'If-Range': ifRange } });
        expect([ifRange, method, res.status]).toEqual([ifRange, method, 200]);
        expect(res.headers.get('Content-Range')).toBeNull();
        expect(res.headers.get('ETag')).toBe(current);
        expect(res.headers.get('Content-Length')).toBe(String(JSON.stringify(dataset.manifest).length));
        if (method === 'GET') expect(await res.json()).toEqual(dataset.manifest);
      }
    }
    const outside = await api(manifestPath, { headers: { Range: 'bytes=999999-', 'If-Range': '"0123"' } });
    expect(outside.status).toBe(200);
    expect(await outside.json()).toEqual(dataset.manifest);
  });

  it('gives a replaced file whole to a client resuming with the old ETag', async () => {
    const old = await manifestEtag();
    const renamed = { ...dataset.manifest, name: 'Cats vs dogs, renamed' };
    expect((await put(manifestPath, JSON.stringify(renamed))).status).toBe(201);
    const res = await api(manifestPath, { headers: { Range: 'bytes=10-', 'If-Range': old } });
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe(await manifestEtag());
    expect(await res.json()).toEqual(renamed);
  });
});

describe('Range', () => {
  const size = () => shard.byteLength;

  async function expectPartial(range: string, first: number, last: number) {
    const res = await api(shardPath, { headers: { Range: range } });
    expect(res.status).toBe(206);
    expect(headersOf(res)).toEqual({
      'accept-ranges': 'bytes',
      'cache-control': IMMUTABLE,
      'content-length': String(last - first + 1),
      'content-range': `bytes ${first}-${last}/${size()}`,
      'content-type': 'application/octet-stream',
      etag,
    });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(shard.slice(first, last + 1));
  }

  it('bytes=a-b answers 206 with exactly those bytes', () => expectPartial('bytes=100-1123', 100, 1123));
  it('bytes=a- answers 206 with the rest', () => expectPartial('bytes=5000-', 5000, size() - 1));
  it('bytes=-n answers 206 with the last n bytes', () => expectPartial('bytes=-777', size() - 777, size() - 1));
  it('a last byte past the end is cut to the end', () => expectPartial(`bytes=10-${size() + 50}`, 10, size() - 1));
  it('a suffix longer than the file is the whole file', () => expectPartial(`bytes=-${size() + 1}`, 0, size() - 1));

  it('fetches one photo out of a shard by its manifest offset and length', async () => {
    const photo = dataset.manifest.images[1]!;
    const res = await api(shardPath, { headers: { Range: `bytes=${photo.offset}-${photo.offset + photo.length - 1}` } });
    expect(res.status).toBe(206);
    const jpeg = new Uint8Array(await res.arrayBuffer());
    expect(jpeg.byteLength).toBe(photo.length);
    expect([...jpeg.slice(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...jpeg.slice(-2)]).toEqual([0xff, 0xd9]);
  });

  it('HEAD with a Range answers the 206 headers without a body', async () => {
    const res = await api(shardPath, { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('Content-Range')).toBe(`bytes 0-9/${size()}`);
    expect(res.headers.get('Content-Length')).toBe('10');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 416 with Content-Range bytes */size for ranges outside the file', async () => {
    for (const range of [`bytes=${size()}-`, `bytes=${size() + 10}-${size() + 20}`, 'bytes=-0']) {
      const res = await api(shardPath, { headers: { Range: range } });
      expect(res.status).toBe(416);
      expect(res.headers.get('Content-Range')).toBe(`bytes */${size()}`);
      expect(((await res.json()) as { error: string }).error).toBe(
        `range ${range} is outside the ${size()} bytes of this file`,
      );
    }
  });

  it('answers 200 with the whole file for multi-range, malformed or other-unit ranges', async () => {
    for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'bytes=abc', 'items=0-1']) {
      const res = await api(shardPath, { headers: { Range: range } });
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Range')).toBeNull();
      expect((await res.arrayBuffer()).byteLength).toBe(size());
    }
  });
});
