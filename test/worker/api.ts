/**
 * Helpers for the worker tests: requests through app.request() with the pool's bindings, the admin
 * header, and content-addressed names made the way ingest makes them.
 */
import { env } from 'cloudflare:workers';
import { contentAddressedName } from '../../shared/names';
import { sha256Hex } from '../../shared/sha256';
import app from '../../worker/index';

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
