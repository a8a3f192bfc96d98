/**
 * Turns one stored R2 object into the response to a GET or HEAD: ETag, Content-Type, Content-Length,
 * Cache-Control, If-None-Match (304), single byte ranges (206 / 416) and If-Range. Every object route uses it.
 */
import { contentHashOf } from '../shared/names';
import { apiError } from './errors';
import { parsedIfNoneMatch, rangeStillApplies } from './preconditions';
import { isSatisfiable, requestedRange, servedSpan } from './range';

/** How a stored file is described to caches and browsers. */
export interface ObjectPolicy {
  cacheControl: string;
  /** Used unless the object's stored httpMetadata names a type. */
  contentType: string;
}

/** Content-addressed files never change; model.json and manifest.json may be replaced. */
export function objectPolicy(file: string): ObjectPolicy {
  return {
    cacheControl: contentHashOf(file) !== null ? 'public, max-age=31536000, immutable' : 'public, max-age=60',
    contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
  };
}

/**
 * The response for the object at `key`, or null when there is none. HEAD gets exactly GET's status and
 * headers, without the body.
 */
export async function serveObject(
  bucket: R2Bucket,
  key: string,
  request: Request,
  policy: ObjectPolicy,
): Promise<Response | null> {
  let range = requestedRange(request.headers.get('Range'));
  // Only If-None-Match is passed on: R2 reports any failed precondition the same way (no body), and
  // If-Match or If-Unmodified-Since failing would need 412, not 304.
  const ifNoneMatch = parsedIfNoneMatch(request.headers.get('If-None-Match'));
  const onlyIf = ifNoneMatch === undefined ? undefined : new Headers({ 'If-None-Match': ifNoneMatch });
  const ifRange = request.headers.get('If-Range');

  let object: R2Object | R2ObjectBody | null;
  if (range === undefined) object = await bucket.get(key, { onlyIf });
  else {
    // If-Range is checked against the ETag of what R2 actually served, so a file replaced meanwhile is caught.
    object = await getRange(bucket, key, range, onlyIf, request);
    if (object !== null && !rangeStillApplies(ifRange, object.httpEtag)) {
      if ('body' in object) await object.body.cancel();
      range = undefined;
      object = await bucket.get(key, { onlyIf });
    }
  }
  if (object === null) return null;

  // A 304 repeats only the validator and caching headers (RFC 9110, section 15.4.5).
  const cacheHeaders = { ETag: object.httpEtag, 'Cache-Control': policy.cacheControl };
  if (!('body' in object)) return new Response(null, { status: 304, headers: cacheHeaders });

  const headers = new Headers({ 'Content-Type': policy.contentType });
  object.writeHttpMetadata(headers);
  for (const [name, value] of Object.entries(cacheHeaders)) headers.set(name, value);
  headers.set('Accept-Ranges', 'bytes');
  let status = 200;
  let length = object.size;
  // R2 reports a range even when none was asked: 206 only when the request asked for one.
  if (range) {
    const span = servedSpan(object.range ?? range, object.size);
    status = 206;
    length = span.length;
    headers.set('Content-Range', `bytes ${span.offset}-${span.offset + span.length - 1}/${object.size}`);
  }
  headers.set('Content-Length', String(length));
  if (request.method === 'HEAD') {
    await object.body.cancel();
    return new Response(null, { status, headers });
  }
  return new Response(object.body, { status, headers });
}

/**
 * The object with the range applied, or null when there is none. An unsatisfiable range is 416, unless
 * If-Range says the client's copy is stale: then the object is returned without a body (the caller then
 * fetches the whole file).
 */
async function getRange(
  bucket: R2Bucket,
  key: string,
  range: R2Range,
  onlyIf: Headers | undefined,
  request: Request,
): Promise<R2Object | R2ObjectBody | null> {
  try {
    return await bucket.get(key, { range, onlyIf });
  } catch (error) {
    // R2 throws on an unsatisfiable range; anything else is a real failure.
    const stored = await bucket.head(key);
    if (stored === null) return null;
    if (isSatisfiable(range, stored.size)) throw error;
    if (!rangeStillApplies(request.headers.get('If-Range'), stored.httpEtag)) return stored;
    throw apiError(416, `range ${request.headers.get('Range')} is outside the ${stored.size} bytes of this file`, {
      'Content-Range': `bytes */${stored.size}`,
    });
  }
}
