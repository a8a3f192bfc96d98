/**
 * /api/publications: a trained classifier published as one upload, read by the classify page /m/<id>.
 *
 *   GET    /policy       who may publish here and a visitor's limits (PublishPolicy)
 *   POST   /             publish (multipart: manifest + files) -> 201 PublishResult; 401, 413, 415, 400, 429, 409
 *   GET    /             admin: every publication (PublicationSummary[], newest first)
 *   GET    /:id          the record (no-cache, ETag); 404 when unknown, deleted or expired
 *   GET    /:id/:file    a file (immutable, ETag, Range), as every stored file is served
 *   PATCH  /:id          admin: {"pinned": true|false} -> the record
 *   DELETE /:id          with Graft-Delete-Key: <key> or the admin token -> {"deleted": files}; 401, 403, 404
 *
 * Contract types in shared/publication.ts; storage in ../publication-store.ts.
 */
import { Hono } from 'hono';
import { etag } from 'hono/etag';
import { validator } from 'hono/validator';
import {
  DELETE_KEY_BYTES,
  DELETE_KEY_HEADER,
  PUBLICATION_ID,
  PUBLICATION_ID_BYTES,
  PublicationPatchSchema,
  publicationPath,
  type PublicationRecord,
  type PublicationSummary,
  type PublishResult,
} from '../../shared/publication';
import type { AppEnv } from '../env';
import { apiError, methodNotAllowed } from '../errors';
import { adminAuth, adminCredential, secretsEqual, unauthorized } from '../middleware/admin-auth';
import { safeParams } from '../params';
import { receivePublication } from '../publication-upload';
import {
  deletePublication,
  hasExpired,
  listPublications,
  readPublication,
  storePublication,
  updatePublication,
} from '../publication-store';
import { publisherOf, publishPolicy } from '../publish-policy';
import { objectPolicy, serveObject } from '../r2-object';
import { publicationFileKey } from '../storage';
import { sha256Hex } from '../../shared/sha256';
import { parseDocument, readLimited } from '../uploads';

export const publications = new Hono<AppEnv>();

const DAY_MS = 24 * 3600_000;

const notPublished = (id: string) => apiError(404, `there is no publication ${id.slice(0, 40)}: it was unpublished, expired or never existed`);

/** An id that cannot be one (not 22 base64url characters) is simply not there: 404, as for an unknown one. */
const publicationId = validator('param', (params: Record<string, string>) => {
  const id = params.id ?? '';
  if (!PUBLICATION_ID.test(id)) throw notPublished(id);
  return params as { id: string };
});

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomToken = (length: number) => base64url(crypto.getRandomValues(new Uint8Array(length)));

publications.get('/policy', (c) => c.json(publishPolicy(c.env)));

publications.post('/', async (c) => {
  const publisher = await publisherOf(c);
  const { manifest, files, bytes } = await receivePublication(c.req.raw, publisher.maxBytes);
  const id = randomToken(PUBLICATION_ID_BYTES);
  const deleteKey = randomToken(DELETE_KEY_BYTES);
  const now = Date.now();
  const record: PublicationRecord = {
    id,
    ...manifest,
    createdAt: new Date(now).toISOString(),
    expiresAt: publisher.pinned ? null : new Date(now + publisher.ttlDays * DAY_MS).toISOString(),
    pinned: publisher.pinned,
    bytes,
  };
  await storePublication(c.env.STORE, record, files, await sha256Hex(new TextEncoder().encode(deleteKey)));
  c.header('Location', `/api/publications/${id}`);
  c.header('Cache-Control', 'no-store');
  return c.json({ id, path: publicationPath(id), deleteKey, expiresAt: record.expiresAt, bytes } satisfies PublishResult, 201);
});

publications.get('/', adminAuth(), etag(), async (c) => {
  c.header('Cache-Control', 'no-store');
  const records = await listPublications(c.env.STORE);
  return c.json(records.map(({ id, name, createdAt, expiresAt, pinned, bytes }): PublicationSummary => ({ id, name, createdAt, expiresAt, pinned, bytes })));
});

publications.get('/:id', publicationId, etag(), async (c) => {
  const { id } = c.req.valid('param');
  const stored = await readPublication(c.env.STORE, id);
  if (stored === null || hasExpired(stored.record, Date.now())) throw notPublished(id);
  c.header('Cache-Control', 'no-cache');
  return c.json(stored.record);
});

publications.get('/:id/:file', publicationId, safeParams({ file: 'file name' }), async (c) => {
  const { id } = c.req.valid('param');
  const file = c.req.param('file');
  const response = await serveObject(c.env.STORE, publicationFileKey(id, file), c.req.raw, objectPolicy(file));
  if (!response) throw apiError(404, `publication ${id} has no file ${file}`);
  return response;
});

publications.patch('/:id', adminAuth(), publicationId, async (c) => {
  const { id } = c.req.valid('param');
  const body = await readLimited(c.req.raw, 1024, () => apiError(413, 'the body is larger than 1024 bytes'));
  const { pinned } = parseDocument(PublicationPatchSchema, new TextDecoder().decode(body), 'the body');
  const stored = await readPublication(c.env.STORE, id);
  if (stored === null) throw notPublished(id);
  const expiresAt = pinned ? null : new Date(Date.now() + publishPolicy(c.env).ttlDays * DAY_MS).toISOString();
  c.header('Cache-Control', 'no-store');
  return c.json(await updatePublication(c.env.STORE, stored, { pinned, expiresAt }));
});

publications.delete('/:id', publicationId, async (c) => {
  const { id } = c.req.valid('param');
  const key = c.req.header(DELETE_KEY_HEADER);
  const admin = (await adminCredential(c)) === 'admin';
  if (!admin && key === undefined) {
    throw unauthorized(`unpublishing needs the publication's delete key in a ${DELETE_KEY_HEADER} header, or the admin token`);
  }
  const stored = await readPublication(c.env.STORE, id);
  if (!admin) {
    if (stored === null) throw notPublished(id);
    const presented = await sha256Hex(new TextEncoder().encode(key));
    if (!(await secretsEqual(presented, stored.deleteKeySha256))) throw apiError(403, `that is not the delete key of publication ${id}`);
  }
  // The admin may also remove what an upload that never finished left (files without a record).
  const deleted = await deletePublication(c.env.STORE, id, stored ?? undefined);
  if (deleted === null) throw notPublished(id);
  return c.json({ deleted });
});

publications.all('/', methodNotAllowed('GET, HEAD, POST'));
publications.all('/policy', methodNotAllowed('GET, HEAD'));
publications.all('/:id', methodNotAllowed('GET, HEAD, PATCH, DELETE'));
publications.all('/:id/:file', methodNotAllowed('GET, HEAD'));
