/**
 * @module
 * Guards write routes: the request must carry `Authorization: Bearer <GRAFT_ADMIN_TOKEN>`.
 * Missing secret, missing header and wrong token all answer 401 before any body is read.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../env';
import { apiError } from '../../errors';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * @see https://www.rfc-editor.org/rfc/rfc6750 (Bearer tokens)
 * @example app.put('/x', adminAuth(), (c) => ...)
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    const expected = c.env.GRAFT_ADMIN_TOKEN;
    if (!expected) throw unauthorized('writes are disabled: the server has no GRAFT_ADMIN_TOKEN set');
    const presented = BEARER.exec(c.req.header('Authorization') ?? '')?.[1];
    if (presented === undefined) throw unauthorized('this request needs an Authorization: Bearer <admin token> header');
    if (!(await tokensEqual(presented, expected))) throw unauthorized('the admin token is wrong');
    await next();
  };
}

/** Compares the digests, so the time taken reveals neither the token's content nor its length. */
async function tokensEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([a, b].map((s) => crypto.subtle.digest('SHA-256', encoder.encode(s))));
  return crypto.subtle.timingSafeEqual(da!, db!);
}

function unauthorized(message: string) {
  return apiError(401, message, { 'WWW-Authenticate': 'Bearer' });
}
