/**
 * @module
 * Guards write routes: the request must carry `Authorization: Bearer <GRAFT_ADMIN_TOKEN>`.
 * Missing secret, missing header and wrong token all answer 401 before any body is read.
 * adminCredential() is the same check for routes that other credentials may also pass (publishing, unpublishing).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../env';
import { apiError } from '../../errors';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * @see https://www.rfc-editor.org/rfc/rfc6750 (Bearer tokens)
 * @example app.put('/x', adminAuth(), (c) => ...)
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    if ((await adminCredential(c)) === 'none') {
      throw unauthorized(
        c.env.GRAFT_ADMIN_TOKEN
          ? 'this request needs an Authorization: Bearer <admin token> header'
          : 'writes are disabled: the server has no GRAFT_ADMIN_TOKEN set',
      );
    }
    await next();
  };
}

/**
 * 'admin' when the request carries the admin token, 'none' when it carries no Authorization header at all;
 * any other Authorization header (a wrong token, another scheme, or any token while the server has none) is 401.
 */
export async function adminCredential(c: Context<AppEnv>): Promise<'admin' | 'none'> {
  const header = c.req.header('Authorization');
  if (header === undefined) return 'none';
  const expected = c.env.GRAFT_ADMIN_TOKEN;
  if (!expected) throw unauthorized('writes are disabled: the server has no GRAFT_ADMIN_TOKEN set');
  const presented = BEARER.exec(header)?.[1];
  if (presented === undefined) throw unauthorized('this request needs an Authorization: Bearer <admin token> header');
  if (!(await secretsEqual(presented, expected))) throw unauthorized('the admin token is wrong');
  return 'admin';
}

/** Compares the digests, so the time taken reveals neither the secret's content nor its length. */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([a, b].map((s) => crypto.subtle.digest('SHA-256', encoder.encode(s))));
  return crypto.subtle.timingSafeEqual(da!, db!);
}

export function unauthorized(message: string) {
  return apiError(401, message, { 'WWW-Authenticate': 'Bearer' });
}
