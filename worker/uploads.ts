/**
 * Receiving files: the body size limit, parsing JSON documents against the shared schemas, and storing
 * content-addressed files (weights, shards) whose bytes must match the hash in their name.
 */
import { bodyLimit } from 'hono/body-limit';
import * as v from 'valibot';
import { contentHashOf } from '../shared/names';
import { describeIssues } from '../shared/records';
import { apiError } from './errors';
import { MAX_OBJECT_BYTES } from './storage';
import { sha256Hex } from '../shared/sha256';

/** What a PUT answers (201 when stored, 200 when the same content was already there). */
export interface StoreResult {
  stored: boolean;
  bytes: number;
}

const tooLarge = () => apiError(413, `the body is larger than ${MAX_OBJECT_BYTES} bytes, the most one file may hold`);

/** 413 for bodies over MAX_OBJECT_BYTES, by Content-Length before reading (or while reading a stream). */
export const limitBody = bodyLimit({
  maxSize: MAX_OBJECT_BYTES,
  onError: () => {
    throw tooLarge();
  },
});

/** The request body; 413 if it turns out longer than MAX_OBJECT_BYTES whatever Content-Length said. */
export async function readBody(request: { arrayBuffer(): Promise<ArrayBuffer> }): Promise<ArrayBuffer> {
  const body = await request.arrayBuffer();
  if (body.byteLength > MAX_OBJECT_BYTES) throw tooLarge();
  return body;
}

/**
 * The body of `request`, read chunk by chunk and refused with `tooLarge()` once it passes `maxBytes` (whatever
 * Content-Length said, which is checked first), so an endless body costs at most `maxBytes` of memory.
 */
export async function readLimited(request: Request, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let length = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > maxBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** `text` parsed as JSON and checked against `schema`, else 400 saying what is wrong with `what`. */
export function parseDocument<S extends v.GenericSchema>(schema: S, text: string, what: string): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw apiError(400, `${what} is not JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(schema, json);
  if (!result.success) throw apiError(400, `${what} is not valid: ${describeIssues(result.issues)}`);
  return result.output;
}

/**
 * Stores the request body at `key` unless already there. `file` must be a content-addressed name (stored
 * weights and shards never change) and the body must hash to what it promises; both are 400 otherwise.
 */
export async function storeContentAddressed(
  bucket: R2Bucket,
  key: string,
  file: string,
  request: { arrayBuffer(): Promise<ArrayBuffer> },
): Promise<StoreResult> {
  const promised = contentHashOf(file);
  if (promised === null) {
    throw apiError(400, `${file} is not a content-addressed name (<stem>-<first 32 hex digits of its sha256>.<ext>)`);
  }
  const body = await readBody(request);
  const actual = await sha256Hex(body);
  if (!actual.startsWith(promised)) {
    throw apiError(400, `content hash mismatch: ${file} names sha256 ${promised}..., the body's sha256 is ${actual}`);
  }
  if ((await bucket.head(key)) !== null) return { stored: false, bytes: body.byteLength };
  await bucket.put(key, body, { httpMetadata: { contentType: 'application/octet-stream' }, sha256: actual });
  return { stored: true, bytes: body.byteLength };
}
