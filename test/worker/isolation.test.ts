/**
 * Every Worker response carries the cross-origin isolation headers (the page is COOP/COEP isolated for
 * threaded wasm and loads API responses under COEP), whatever its status: one table over many requests.
 */
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, api, put } from './api';
import { mobilenetModel, type ModelFixture } from './fixtures';

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

let model: ModelFixture;
let listEtag: string;
let modelEtag: string;

beforeAll(async () => {
  model = await mobilenetModel('iso');
  await put(`/api/models/iso/${model.weightsFile}`, model.weights);
  await put('/api/models/iso/model.json', model.modelJson);
  listEtag = (await api('/api/models')).headers.get('ETag')!;
  modelEtag = (await env.STORE.head('models/iso/model.json'))!.httpEtag;
});

const weights = () => `/api/models/iso/${model.weightsFile}`;

/** Run in order (the last one deletes the model). */
const REQUESTS: { what: string; request: () => Promise<Response>; status: number }[] = [
  { what: 'health', request: () => api('/api/health'), status: 200 },
  { what: 'HEAD health', request: () => api('/api/health', { method: 'HEAD' }), status: 200 },
  { what: 'list', request: () => api('/api/models'), status: 200 },
  { what: 'list, not modified', request: () => api('/api/models', { headers: { 'If-None-Match': listEtag } }), status: 304 },
  { what: 'dataset list', request: () => api('/api/datasets'), status: 200 },
  { what: 'model.json', request: () => api('/api/models/iso/model.json'), status: 200 },
  { what: 'HEAD model.json', request: () => api('/api/models/iso/model.json', { method: 'HEAD' }), status: 200 },
  { what: 'model.json, not modified', request: () => api('/api/models/iso/model.json', { headers: { 'If-None-Match': modelEtag } }), status: 304 },
  { what: 'weights range', request: () => api(weights(), { headers: { Range: 'bytes=0-99' } }), status: 206 },
  { what: 'weights range past the end', request: () => api(weights(), { headers: { Range: 'bytes=9999999-' } }), status: 416 },
  { what: 'weights again', request: () => put(weights(), model.weights), status: 200 },
  { what: 'model.json again', request: () => put('/api/models/iso/model.json', model.modelJson), status: 201 },
  { what: 'weights with wrong bytes', request: () => put(weights(), model.weights.subarray(1)), status: 400 },
  { what: 'bad id', request: () => api('/api/models/a%2Fb/model.json'), status: 400 },
  { what: 'write without token', request: () => api(weights(), { method: 'PUT', body: model.weights }), status: 401 },
  { what: 'missing file', request: () => api('/api/models/iso/w-00000000000000000000000000000000.bin'), status: 404 },
  { what: 'unknown api path', request: () => api('/api/nope'), status: 404 },
  { what: 'page path reaching the Worker', request: () => api('/'), status: 404 },
  { what: 'page path through the entry point', request: () => exports.default.fetch('http://graft.test/index.html'), status: 404 },
  { what: 'wrong method', request: () => api('/api/models', { method: 'POST', headers: ADMIN }), status: 405 },
  { what: 'too large', request: () => put(weights(), 'x', { 'Content-Length': String(64 * 1024 * 1024 + 1) }), status: 413 },
  { what: 'delete unknown', request: () => api('/api/datasets/none', { method: 'DELETE', headers: ADMIN }), status: 404 },
  { what: 'delete', request: () => api('/api/models/iso', { method: 'DELETE', headers: ADMIN }), status: 200 },
];

describe('isolation headers', () => {
  it.each(REQUESTS)('$what: $status with COOP, COEP, CORP and nosniff', async ({ request, status }) => {
    const res = await request();
    expect(res.status).toBe(status);
    for (const [name, value] of Object.entries(ISOLATION)) expect(res.headers.get(name), name).toBe(value);
  });
});
