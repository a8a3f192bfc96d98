/** The route table: health, JSON 404 for unknown paths, 405 with Allow for a known path and wrong method. */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ADMIN, api } from './api';

describe('GET /api/health', () => {
  it('answers 200 {"ok":true}', async () => {
    const res = await api('/api/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers through the Worker entry point too', async () => {
    const res = await exports.default.fetch('http://graft.test/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});

describe('unknown paths', () => {
  it.each(['/api', '/api/nope', '/api/datasets/d/other.json', '/', '/index.html', '/assets/x.js'])(
    'GET %s answers 404 JSON',
    async (path) => {
      const res = await api(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('Content-Type')).toBe('application/json');
      expect(await res.json()).toEqual({ error: `nothing at GET ${path}` });
    },
  );
});

describe('wrong methods', () => {
  const CASES: [method: string, path: string, allow: string][] = [
    ['PUT', '/api/health', 'GET, HEAD'],
    ['POST', '/api/models', 'GET, HEAD'],
    ['DELETE', '/api/models', 'GET, HEAD'],
    ['POST', '/api/datasets', 'GET, HEAD'],
    ['GET', '/api/models/m', 'DELETE'],
    ['POST', '/api/models/m', 'DELETE'],
    ['PUT', '/api/datasets/d', 'DELETE'],
    ['POST', '/api/models/m/model.json', 'GET, HEAD, PUT'],
    ['DELETE', '/api/models/m/w-0123456789abcdef0123456789abcdef.bin', 'GET, HEAD, PUT'],
    ['PATCH', '/api/datasets/d/manifest.json', 'GET, HEAD, PUT'],
    ['POST', '/api/datasets/d/shards/s-0123456789abcdef0123456789abcdef.bin', 'GET, HEAD, PUT'],
  ];

  it.each(CASES)('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const res = await api(path, { method, headers: ADMIN });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe(allow);
    expect(await res.json()).toEqual({ error: `${method} is not allowed here; use ${allow}` });
  });
});
