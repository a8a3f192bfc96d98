/**
 * The built page (dist/client, built by `npm test` before the tests) is served by the static assets
 * service with the headers of client/public/_headers. The pool's `exports.default.fetch` / SELF go
 * straight to the Worker, not through the asset router, so the assets are checked through the ASSETS
 * binding, which applies _headers the same way; `wrangler dev` checks the full routing elsewhere.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

const PAGE_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; connect-src 'self'; " +
    "img-src 'self' blob: data:; style-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
    "frame-ancestors 'none'; form-action 'self'",
};

const asset = (path: string) => env.ASSETS.fetch(`http://graft.test${path}`);

describe('static assets', () => {
  it.each(['/', '/index.html'])('%s is the page, isolated and under the CSP', async (path) => {
    const res = await asset(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    for (const [name, value] of Object.entries(PAGE_HEADERS)) expect(res.headers.get(name), name).toBe(value);
    expect(await res.text()).toMatch(/^<!doctype html>/i);
  });

  it("the page's hashed script under /assets/ is cached for a year", async () => {
    const html = await (await asset('/')).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const res = await asset(script!);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    for (const [name, value] of Object.entries(PAGE_HEADERS)) expect(res.headers.get(name), name).toBe(value);
  });

  it.each([
    ['/litert/litert_wasm_internal.js', 'text/javascript'],
    ['/litert/litert_wasm_internal.wasm', 'application/wasm'],
    ['/litert/litert_wasm_compat_internal.wasm', 'application/wasm'],
  ])('%s, the TFLite check\'s LiteRT.js runtime, is served same-origin as %s', async (path, type) => {
    const res = await asset(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(new RegExp(`^${type}`));
    for (const [name, value] of Object.entries(PAGE_HEADERS)) expect(res.headers.get(name), name).toBe(value);
    // Not content-addressed: revalidated, never kept for a year.
    expect(res.headers.get('Cache-Control')).not.toContain('immutable');
    await res.arrayBuffer();
  });

  it('does not serve the _headers or _redirects file itself', async () => {
    expect((await asset('/_headers')).status).toBe(404);
    expect((await asset('/_redirects')).status).toBe(404);
  });

  it('answers /m/<id> from the assets (the classify page, /m/index.html), framable by any site', async () => {
    const framable = { ...PAGE_HEADERS, 'content-security-policy': PAGE_HEADERS['content-security-policy'].replace("frame-ancestors 'none'", 'frame-ancestors *'), 'cross-origin-resource-policy': 'cross-origin' };
    for (const path of ['/m/AbCdEfGhIjKlMnOpQrStUv', '/m/AbCdEfGhIjKlMnOpQrStUv?embed=1']) {
      const res = await asset(path);
      // Exactly one value each: a second CSP would apply too (and keep frame-ancestors 'none').
      for (const [name, value] of Object.entries(framable)) expect([path, name, res.headers.get(name)]).toEqual([path, name, value]);
      // Never the Worker's JSON 404: the rewrite keeps /m/* among the assets.
      expect(res.headers.get('Content-Type') ?? '').not.toContain('application/json');
      await res.arrayBuffer();
    }
  });
});
