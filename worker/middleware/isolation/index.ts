/**
 * @module
 * Cross-origin isolation headers on every Worker response, errors and 404s included: the page needs
 * COOP + COEP for SharedArrayBuffer (threaded wasm), and a same-origin CORP lets it embed API responses.
 * Static assets get the same headers from client/public/_headers.
 */
import type { MiddlewareHandler } from 'hono';

const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * Sets ISOLATION_HEADERS on the response after everything else ran (also after onError and notFound).
 * @example app.use(isolation())
 */
export function isolation(): MiddlewareHandler {
  return async function isolation(c, next) {
    await next();
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) c.res.headers.set(name, value);
  };
}
