/** /api/models: uploading the real MobileNetV2 (weights, then model.json), listing, serving and deleting it. */
import { reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../shared/sha256';
import { api, put, storedKeys } from './api';
import { mobilenetModel, ORIGINAL_MODEL_JSON } from './fixtures';

beforeEach(() => reset());

async function listedIds(): Promise<string[]> {
  return ((await (await api('/api/models')).json()) as { id: string }[]).map((record) => record.id);
}

describe('GET /api/models', () => {
  it('lists nothing while nothing is stored', async () => {
    const res = await api('/api/models');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]{40}"$/);
    expect(await res.json()).toEqual([]);
  });

  it('lists records sorted by id, with an ETag that answers 304 until the list changes', async () => {
    const model = await mobilenetModel('zeta');
    for (const id of ['zeta', 'alpha']) {
      expect((await put(`/api/models/${id}/${model.weightsFile}`, model.weights)).status).toBe(201);
      expect((await put(`/api/models/${id}/model.json`, model.modelJson)).status).toBe(201);
    }
    const res = await api('/api/models');
    expect(await res.json()).toEqual([{ ...model.record, id: 'alpha' }, model.record]);
    const etag = res.headers.get('ETag')!;

    const again = await api('/api/models', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('ETag')).toBe(etag);
    expect(again.headers.get('Cache-Control')).toBe('no-cache');
    expect(await again.text()).toBe('');

    expect((await api('/api/models/alpha', { method: 'DELETE', headers: { Authorization: 'Bearer test-admin-token' } })).status).toBe(200);
    const changed = await api('/api/models', { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('ETag')).not.toBe(etag);
    expect(await changed.json()).toEqual([model.record]);
  });
});

describe('PUT /api/models/:id/:file (weights)', () => {
  it('stores a content-addressed weight file once: 201, then 200 without rewriting it', async () => {
    const model = await mobilenetModel('mobilenet');
    const first = await put(`/api/models/mobilenet/${model.weightsFile}`, model.weights);
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ stored: true, bytes: 1640832 });
    const written = await env.STORE.head(`models/mobilenet/${model.weightsFile}`);

    const second = await put(`/api/models/mobilenet/${model.weightsFile}`, model.weights);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ stored: false, bytes: 1640832 });
    const after = await env.STORE.head(`models/mobilenet/${model.weightsFile}`);
    expect(after?.version).toBe(written?.version);
  });

  it('refuses bytes that do not hash to the name (content hash mismatch) and stores nothing', async () => {
    const model = await mobilenetModel('mobilenet');
    const tampered = model.weights.slice();
    tampered[1000] = tampered[1000]! ^ 0xff;
    const res = await put(`/api/models/mobilenet/${model.weightsFile}`, tampered);
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(((await res.json()) as { error: string }).error).toMatch(/^content hash mismatch: /);
    expect(await storedKeys()).toEqual([]);
  });

  it('refuses a weight file whose name is not content-addressed', async () => {
    const model = await mobilenetModel('mobilenet');
    const res = await put('/api/models/mobilenet/group1-shard1of1.bin', model.weights);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain('group1-shard1of1.bin is not a content-addressed name');
    expect(await storedKeys()).toEqual([]);
  });
});

describe('PUT /api/models/:id/model.json', () => {
  it('stores model.json after its weights; the model is listed only then, and serves what was put', async () => {
    const model = await mobilenetModel('mobilenet-v2');
    expect((await put(`/api/models/mobilenet-v2/${model.weightsFile}`, model.weights)).status).toBe(201);
    expect(await listedIds()).toEqual([]);

    const res = await put('/api/models/mobilenet-v2/model.json', model.modelJson, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ stored: true, bytes: new TextEncoder().encode(model.modelJson).byteLength });
    expect(await (await api('/api/models')).json()).toEqual([model.record]);

    const got = await api('/api/models/mobilenet-v2/model.json');
    expect(got.status).toBe(200);
    expect(got.headers.get('Content-Type')).toBe('application/json');
    expect(got.headers.get('Cache-Control')).toBe('public, max-age=60');
    expect(got.headers.get('ETag')).toBe((await env.STORE.head('models/mobilenet-v2/model.json'))!.httpEtag);
    expect(await got.text()).toBe(model.modelJson);

    const weights = await api(`/api/models/mobilenet-v2/${model.weightsFile}`);
    expect(weights.status).toBe(200);
    expect(weights.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(await sha256Hex(await weights.arrayBuffer())).toBe(model.record.weightsHash);
  });

  it('refuses model.json naming a weight file that is not stored, and does not list the model', async () => {
    const model = await mobilenetModel('mobilenet');
    const res = await put('/api/models/mobilenet/model.json', model.modelJson);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: `model.json names weight file ${model.weightsFile}, which is not stored for model mobilenet: upload it first`,
    });
    expect(await listedIds()).toEqual([]);
    expect((await api('/api/models/mobilenet/model.json')).status).toBe(404);
  });

  it('refuses model.json whose graft.bytes is not the size of its weights', async () => {
    const model = await mobilenetModel('mobilenet');
    await put(`/api/models/mobilenet/${model.weightsFile}`, model.weights);
    const wrong = JSON.parse(model.modelJson);
    wrong.userDefinedMetadata.graft.bytes += 4;
    const res = await put('/api/models/mobilenet/model.json', JSON.stringify(wrong));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'userDefinedMetadata.graft.bytes is 1640836, but the weight files hold 1640832 bytes',
    });
    expect(await storedKeys()).toEqual([`models/mobilenet/${model.weightsFile}`]);
  });

  it('refuses the model.json from ../shared as it is: it has no graft metadata', async () => {
    const res = await put('/api/models/mobilenet/model.json', ORIGINAL_MODEL_JSON);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/^model\.json is not valid: userDefinedMetadata: /);
    expect(await storedKeys()).toEqual([]);
  });

  it('refuses a body that is not JSON', async () => {
    const res = await put('/api/models/mobilenet/model.json', '{"format": "layers-model",');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^model\.json is not JSON: /);
    expect(await storedKeys()).toEqual([]);
  });
});

describe('DELETE /api/models/:id', () => {
  it('removes the model from the list and all its files; a second delete is 404', async () => {
    const model = await mobilenetModel('mobilenet');
    await put(`/api/models/mobilenet/${model.weightsFile}`, model.weights);
    await put('/api/models/mobilenet/model.json', model.modelJson);

    const res = await api('/api/models/mobilenet', { method: 'DELETE', headers: { Authorization: 'Bearer test-admin-token' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 2 });
    expect(await listedIds()).toEqual([]);
    expect((await api('/api/models/mobilenet/model.json')).status).toBe(404);
    // Only the marker saying it was deleted stays (worker/storage.ts: it keeps a late upload from publishing).
    expect(await storedKeys()).toEqual(['index/models/mobilenet.json']);

    const again = await api('/api/models/mobilenet', { method: 'DELETE', headers: { Authorization: 'Bearer test-admin-token' } });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: 'there is no model mobilenet' });
  });

  it('also cleans up weights whose model.json never arrived', async () => {
    const model = await mobilenetModel('mobilenet');
    await put(`/api/models/mobilenet/${model.weightsFile}`, model.weights);
    const res = await api('/api/models/mobilenet', { method: 'DELETE', headers: { Authorization: 'Bearer test-admin-token' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 1 });
    expect(await storedKeys()).toEqual(['index/models/mobilenet.json']);
  });
});
