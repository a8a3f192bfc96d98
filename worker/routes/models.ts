/**
 * /api/models: the list, a model's files (model.json and content-addressed weights), uploads and delete.
 * A model is listed once its model.json is stored, which needs all its weights stored first.
 */
import { Hono } from 'hono';
import { etag } from 'hono/etag';
import { LayersModelJsonSchema, type ModelRecord } from '../../shared/records';
import type { AppEnv } from '../env';
import { apiError, methodNotAllowed } from '../errors';
import { adminAuth } from '../middleware/admin-auth';
import { safeParams } from '../params';
import { objectPolicy, serveObject } from '../r2-object';
import { deleteEntry, modelKey, publishEntry, readIndex, storedSizes } from '../storage';
import { limitBody, parseDocument, readBody, storeContentAddressed, type StoreResult } from '../uploads';

export const models = new Hono<AppEnv>();

models.get('/', etag(), async (c) => {
  c.header('Cache-Control', 'no-cache');
  return c.json(await readIndex<ModelRecord>(c.env.STORE, 'models'));
});

models.get('/:id/:file', safeParams({ id: 'model id', file: 'file name' }), async (c) => {
  const { id, file } = c.req.valid('param');
  const response = await serveObject(c.env.STORE, modelKey(id, file), c.req.raw, objectPolicy(file));
  if (!response) throw apiError(404, `model ${id} has no file ${file}`);
  return response;
});

models.put('/:id/model.json', adminAuth(), safeParams({ id: 'model id' }), limitBody, async (c) => {
  const { id } = c.req.valid('param');
  const body = await readBody(c.req);
  const text = new TextDecoder().decode(body);
  const model = parseDocument(LayersModelJsonSchema, text, 'model.json');
  const graft = model.userDefinedMetadata.graft;
  const paths = model.weightsManifest.flatMap((group) => group.paths);
  await publishEntry(c.env.STORE, 'models', { id, ...graft } satisfies ModelRecord, async () => {
    const sizes = await storedSizes(c.env.STORE, paths.map((path) => modelKey(id, path)));
    const missing = paths.find((_, i) => sizes[i] === null);
    if (missing !== undefined) {
      throw apiError(400, `model.json names weight file ${missing}, which is not stored for model ${id}: upload it first`);
    }
    const weightBytes = sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
    if (weightBytes !== graft.bytes) {
      throw apiError(400, `userDefinedMetadata.graft.bytes is ${graft.bytes}, but the weight files hold ${weightBytes} bytes`);
    }
  }, { key: modelKey(id, 'model.json'), body });
  return c.json({ stored: true, bytes: body.byteLength } satisfies StoreResult, 201);
});

models.put('/:id/:file', adminAuth(), safeParams({ id: 'model id', file: 'file name' }), limitBody, async (c) => {
  const { id, file } = c.req.valid('param');
  const result = await storeContentAddressed(c.env.STORE, modelKey(id, file), file, c.req);
  return c.json(result, result.stored ? 201 : 200);
});

models.delete('/:id', adminAuth(), safeParams({ id: 'model id' }), async (c) => {
  const { id } = c.req.valid('param');
  const deleted = await deleteEntry(c.env.STORE, 'models', id);
  if (deleted === null) throw apiError(404, `there is no model ${id}`);
  return c.json({ deleted });
});

models.all('/', methodNotAllowed('GET, HEAD'));
models.all('/:id', methodNotAllowed('DELETE'));
models.all('/:id/:file', methodNotAllowed('GET, HEAD, PUT'));
