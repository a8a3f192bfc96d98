/** Bodies over MAX_OBJECT_BYTES (64 MiB) are refused with 413 and nothing is stored. */
import { describe, expect, it } from 'vitest';
import { MAX_OBJECT_BYTES } from '../../worker/storage';
import { api, put, storedKeys } from './api';

const SHARD = '/api/datasets/big/shards/s-0123456789abcdef0123456789abcdef.bin';
const TOO_LARGE = { error: 'the body is larger than 67108864 bytes, the most one file may hold' };

/** A body stream of `bytes` bytes, made of one reused 1 MiB chunk. */
function streamOf(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1 << 20);
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      controller.enqueue(left >= chunk.byteLength ? chunk : chunk.subarray(0, left));
      left -= chunk.byteLength;
    },
  });
}

describe('body size limit', () => {
  it('answers 413 from Content-Length alone, before reading the body', async () => {
    for (const path of [SHARD, '/api/models/m/model.json', '/api/datasets/big/manifest.json']) {
      const res = await put(path, 'small', { 'Content-Length': String(MAX_OBJECT_BYTES + 1) });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual(TOO_LARGE);
    }
    expect(await storedKeys()).toEqual([]);
  });

  it('answers 413 while reading a body sent without Content-Length', async () => {
    const res = await put(SHARD, streamOf(MAX_OBJECT_BYTES + 1));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(TOO_LARGE);
    expect(await storedKeys()).toEqual([]);
  });

  it('answers 413 when the body turns out longer than its Content-Length said', async () => {
    const res = await put(SHARD, streamOf(MAX_OBJECT_BYTES + 1), { 'Content-Length': '10' });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(TOO_LARGE);
    expect(await storedKeys()).toEqual([]);
  });

  it('lets a body of the limit through to the next check', async () => {
    const res = await api(SHARD, { method: 'PUT', body: streamOf(MAX_OBJECT_BYTES), headers: { Authorization: 'Bearer test-admin-token' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^content hash mismatch: /);
  });
});
