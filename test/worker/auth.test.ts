/** Writes need `Authorization: Bearer <GRAFT_ADMIN_TOKEN>`; without it nothing is stored or deleted. */
import { reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../worker/index';
import { ADMIN, api, put, storedKeys } from './api';
import { mobilenetModel } from './fixtures';

beforeEach(() => reset());

const WRONG_CREDENTIALS: [string, Record<string, string>, string][] = [
  ['no Authorization header', {}, 'this request needs an Authorization: Bearer <admin token> header'],
  ['a wrong token', { Authorization: 'Bearer not-the-token' }, 'the admin token is wrong'],
  ['the token in another case', { Authorization: 'Bearer TEST-ADMIN-TOKEN' }, 'the admin token is wrong'],
  ['a prefix of the token', { Authorization: 'Bearer test-admin' }, 'the admin token is wrong'],
  ['an empty Bearer', { Authorization: 'Bearer ' }, 'this request needs an Authorization: Bearer <admin token> header'],
  ['another scheme', { Authorization: 'Basic dGVzdC1hZG1pbi10b2tlbg==' }, 'this request needs an Authorization: Bearer <admin token> header'],
];

describe('admin auth', () => {
  it.each(WRONG_CREDENTIALS)('answers 401 to a write with %s and stores nothing', async (_, headers, error) => {
    const model = await mobilenetModel('mobilenet');
    for (const [path, body] of [
      [`/api/models/mobilenet/${model.weightsFile}`, model.weights],
      ['/api/models/mobilenet/model.json', model.modelJson],
      ['/api/datasets/pets/manifest.json', '{}'],
      [`/api/datasets/pets/shards/${model.weightsFile}`, model.weights],
    ] as const) {
      const res = await api(path, { method: 'PUT', body, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer');
      expect(res.headers.get('Content-Type')).toBe('application/json');
      expect(await res.json()).toEqual({ error });
    }
    expect(await storedKeys()).toEqual([]);
  });

  it('answers 401 to a delete without the token and keeps the model', async () => {
    const model = await mobilenetModel('mobilenet');
    await put(`/api/models/mobilenet/${model.weightsFile}`, model.weights);
    await put('/api/models/mobilenet/model.json', model.modelJson);
    const res = await api('/api/models/mobilenet', { method: 'DELETE', headers: { Authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    expect(await (await api('/api/models')).json()).toEqual([model.record]);
    expect((await api('/api/datasets/pets', { method: 'DELETE' })).status).toBe(401);
  });

  it('refuses every write with 401 when the server has no GRAFT_ADMIN_TOKEN, even with the test token', async () => {
    const model = await mobilenetModel('mobilenet');
    const unconfigured = { ...env, GRAFT_ADMIN_TOKEN: undefined };
    const res = await app.request(`/api/models/mobilenet/${model.weightsFile}`, { method: 'PUT', body: model.weights, headers: ADMIN }, unconfigured);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'writes are disabled: the server has no GRAFT_ADMIN_TOKEN set' });
    expect(await storedKeys()).toEqual([]);
    const reads = await app.request('/api/models', {}, unconfigured);
    expect(reads.status).toBe(200);
  });
});
