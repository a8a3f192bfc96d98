/**
 * /api/datasets: the list, a dataset's manifest and content-addressed shards, uploads and delete.
 * A dataset is listed once its manifest is stored, which needs all its shards stored first.
 */
import { Hono } from 'hono';
import { etag } from 'hono/etag';
import { contentHashOf } from '../../shared/names';
import { DatasetManifestSchema, datasetRecordOf, type DatasetRecord } from '../../shared/records';
import type { AppEnv } from '../env';
import { apiError, methodNotAllowed } from '../errors';
import { adminAuth } from '../middleware/admin-auth';
import { safeParams } from '../params';
import { objectPolicy, serveObject } from '../r2-object';
import { deleteEntry, manifestKey, publishEntry, readIndex, shardKey, storedSizes } from '../storage';
import { limitBody, parseDocument, readBody, storeContentAddressed, type StoreResult } from '../uploads';

export const datasets = new Hono<AppEnv>();

datasets.get('/', etag(), async (c) => {
  c.header('Cache-Control', 'no-cache');
  return c.json(await readIndex<DatasetRecord>(c.env.STORE, 'datasets'));
});

datasets.get('/:id/manifest.json', safeParams({ id: 'dataset id' }), async (c) => {
  const { id } = c.req.valid('param');
  const response = await serveObject(c.env.STORE, manifestKey(id), c.req.raw, objectPolicy('manifest.json'));
  if (!response) throw apiError(404, `dataset ${id} has no manifest.json`);
  return response;
});

datasets.get('/:id/shards/:file', safeParams({ id: 'dataset id', file: 'shard name' }), async (c) => {
  const { id, file } = c.req.valid('param');
  const response = await serveObject(c.env.STORE, shardKey(id, file), c.req.raw, objectPolicy(file));
  if (!response) throw apiError(404, `dataset ${id} has no shard ${file}`);
  return response;
});

datasets.put('/:id/manifest.json', adminAuth(), safeParams({ id: 'dataset id' }), limitBody, async (c) => {
  const { id } = c.req.valid('param');
  const body = await readBody(c.req);
  const text = new TextDecoder().decode(body);
  const manifest = parseDocument(DatasetManifestSchema, text, 'manifest.json');
  if (manifest.id !== id) throw apiError(400, `manifest.json is for dataset ${manifest.id}, not ${id}`);
  await publishEntry(c.env.STORE, 'datasets', datasetRecordOf(manifest), async () => {
    const sizes = await storedSizes(c.env.STORE, manifest.shards.map((shard) => shardKey(id, shard.file)));
    for (const [i, shard] of manifest.shards.entries()) {
      const promised = contentHashOf(shard.file);
      if (promised === null || !shard.sha256.startsWith(promised)) {
        throw apiError(400, `manifest.json: shard name ${shard.file} does not carry the start of its sha256 ${shard.sha256}`);
      }
      if (sizes[i] === null) {
        throw apiError(400, `manifest.json names shard ${shard.file}, which is not stored for dataset ${id}: upload it first`);
      }
      if (sizes[i] !== shard.bytes) {
        throw apiError(400, `manifest.json says shard ${shard.file} holds ${shard.bytes} bytes, but ${sizes[i]} are stored`);
      }
    }
  }, { key: manifestKey(id), body });
  return c.json({ stored: true, bytes: body.byteLength } satisfies StoreResult, 201);
});

datasets.put('/:id/shards/:file', adminAuth(), safeParams({ id: 'dataset id', file: 'shard name' }), limitBody, async (c) => {
  const { id, file } = c.req.valid('param');
  const result = await storeContentAddressed(c.env.STORE, shardKey(id, file), file, c.req);
  return c.json(result, result.stored ? 201 : 200);
});

datasets.delete('/:id', adminAuth(), safeParams({ id: 'dataset id' }), async (c) => {
  const { id } = c.req.valid('param');
  const deleted = await deleteEntry(c.env.STORE, 'datasets', id);
  if (deleted === null) throw apiError(404, `there is no dataset ${id}`);
  return c.json({ deleted });
});

datasets.all('/', methodNotAllowed('GET, HEAD'));
datasets.all('/:id', methodNotAllowed('DELETE'));
datasets.all('/:id/manifest.json', methodNotAllowed('GET, HEAD, PUT'));
datasets.all('/:id/shards/:file', methodNotAllowed('GET, HEAD, PUT'));
