/**
 * Every API error is JSON `{"error": "<message>"}` (shared ApiError). Handlers throw apiError(); the app's
 * onError and notFound render the rest.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiError } from '../shared/records';

/** An exception that becomes a JSON error response with `status` (and any extra headers). */
export function apiError(status: ContentfulStatusCode, message: string, headers?: HeadersInit): HTTPException {
  const body: ApiError = { error: message };
  return new HTTPException(status, { message, res: Response.json(body, { status, headers }) });
}

/** Handler for a known path asked with a method it does not support. */
export function methodNotAllowed(allow: string) {
  return (c: Context) => {
    throw apiError(405, `${c.req.method} is not allowed here; use ${allow}`, { Allow: allow });
  };
}

export const renderError: ErrorHandler = (err, c) => {
  if (err instanceof HTTPException) return err.res ? err.getResponse() : c.json({ error: err.message }, err.status);
  console.error(err);
  return c.json({ error: 'internal error' } satisfies ApiError, 500);
};

export const notFound: NotFoundHandler = (c) =>
  c.json({ error: `nothing at ${c.req.method} ${c.req.path}` } satisfies ApiError, 404);
