/**
 * Helpers for the worker tests: requests through app.request() with the pool's bindings, the admin
 * header, and content-addressed names made the way ingest makes them.
 */
import { env } from 'cloudflare:workers';
import { contentAddressedName } from '../../shared/names';
import { sha256Hex } from '../../shared/sha256';
import { app } from '../../worker/index';

/** The token vitest.config.ts gives the Worker as GRAFT_ADMIN_TOKEN. */
export const ADMIN = { Authorization: 'Bearer test-admin-token' } as const;

export function api(path: string, init?: RequestInit): Promise<Response> {
  return Promise.resolve(app.request(path, init, env));
}

/** An authorised PUT. */
export function put(path: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, { method: 'PUT', body, headers: { ...ADMIN, ...headers } });
}

/** `<stem>-<sha256 prefix>.<ext>` for these bytes. */
export async function contentName(stem: string, bytes: Uint8Array, ext: string): Promise<string> {
  return contentAddressedName(stem, await sha256Hex(bytes), ext);
}

/** Bytes behind a Vite `?url&inline` import (a data: URL). */
export async function bytesOf(dataUrl: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(dataUrl)).arrayBuffer());
}

/** Every key in the bucket, to show what a request did or did not store. */
export async function storedKeys(): Promise<string[]> {
  return (await env.STORE.list()).objects.map((object) => object.key);
}

/**
 * The Worker's env (or `bindings`) with a STORE that, before its `step`-th call (from 0), waits for `meanwhile`
 * to finish: races are stepped through every storage call of one request.
 */
export function pausingEnv<B extends { STORE: R2Bucket } = typeof env>(step: number, meanwhile: () => Promise<void>, bindings: B = env as unknown as B) {
  let calls = 0;
  let paused = false;
  const STORE = new Proxy(bindings.STORE, {
    get(bucket, property) {
      const value = Reflect.get(bucket, property);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (calls++ === step) {
          paused = true;
          await meanwhile();
        }
        return value.apply(bucket, args);
      };
    },
  });
  return { env: { ...bindings, STORE } as B, paused: () => paused };
}
