/**
 * Test helpers for ingest: class-folder trees linked to the real photos in ../shared, a tiny static HTTP
 * server for the URL sources, the local R2 a seed wrote, and loading a stored model with tfjs-layers.
 */
import { createServer } from 'node:http';
import { mkdir, readFile, readdir, symlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { getPlatformProxy } from 'wrangler';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const FLOWERS = join(SHARED, 'datasets', 'flowers');
export const MODEL_V1 = join(SHARED, 'models', 'mobilenet_v1_0.25_224');
export const MODEL_V2 = join(SHARED, 'models', 'mobilenet_v2_0.35_224_no_top');

/** The first `perClass` files (sorted) of each class of a ../shared dataset. */
export async function sampleFiles(dataset: string, classes: string[], perClass: number): Promise<Record<string, string[]>> {
  const picked: Record<string, string[]> = {};
  for (const name of classes) picked[name] = (await readdir(join(dataset, name))).sort().slice(0, perClass);
  return picked;
}

/** Builds root/<class>/<file> as symbolic links to the real photos, so nothing is copied. */
export async function linkClassFolders(root: string, dataset: string, files: Record<string, string[]>): Promise<void> {
  for (const [name, list] of Object.entries(files)) {
    await mkdir(join(root, name), { recursive: true });
    for (const file of list) await symlink(join(dataset, name, file), join(root, name, file));
  }
}

/** The sha256 of all weight bytes that a model's NOTICE.txt states. */
export async function noticeWeightsHash(modelDir: string): Promise<string> {
  const notice = await readFile(join(modelDir, 'NOTICE.txt'), 'utf8');
  const match = /sha256\((?!model\.json)[^)]*\) = ([0-9a-f]{64})/.exec(notice);
  if (!match) throw new Error(`${modelDir}/NOTICE.txt states no weights hash`);
  return match[1];
}

/** Serves the files below `root` over http on 127.0.0.1 (GET only, 404 for anything else). */
export async function serveDirectory(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    const path = resolve(root, `.${decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)}`);
    const body = path.startsWith(root + sep) ? await readFile(path).catch(() => null) : null;
    if (request.method !== 'GET' || body === null) response.writeHead(404).end('not found');
    else response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** The local R2 that `seed --persist-to <persistTo>` wrote. */
export async function openLocalR2(persistTo: string): Promise<{ bucket: R2Bucket; dispose(): Promise<void> }> {
  const { env, dispose } = await getPlatformProxy<{ STORE: R2Bucket }>({
    configPath: join(REPO_ROOT, 'wrangler.toml'),
    persist: { path: join(persistTo, 'v3') },
  });
  return { bucket: env.STORE, dispose };
}

export async function readObject(bucket: R2Bucket, key: string): Promise<Uint8Array> {
  const object = await bucket.get(key);
  if (!object) throw new Error(`${key} is not stored`);
  // One synchronous proxy round trip (the body stream) instead of two (arrayBuffer, then its call):
  // miniflare's synchronous proxy calls can get out of step when the machine is busy.
  return new Uint8Array(await new Response(object.body).arrayBuffer());
}

export async function readJson<T>(bucket: R2Bucket, key: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await readObject(bucket, key))) as T;
}

/** Loads models/<id>/model.json and its weight files from R2 with tfjs-layers, as a browser would over HTTP. */
export async function loadStoredModel(bucket: R2Bucket, id: string): Promise<tfl.LayersModel> {
  const modelJson = await readJson<tf.io.ModelJSON>(bucket, `models/${id}/model.json`);
  return tfl.loadLayersModel({
    load: async () => {
      // tfjs reads a group's weights across the concatenation of its paths.
      const parts = [];
      for (const group of modelJson.weightsManifest) {
        for (const path of group.paths) parts.push(await readObject(bucket, `models/${id}/${path}`));
      }
      const weightData = tf.io.concatenateArrayBuffers(parts.map((part) => part.slice().buffer));
      return tf.io.getModelArtifactsForJSON(modelJson, async () => [modelJson.weightsManifest.flatMap((g) => g.weights), weightData]);
    },
  });
}

/**
 * A decompression bomb: a single-colour 16000x16000 PNG, under 1 MB on disk, 768 MB once decoded (RGB).
 * Written at test time rather than kept in the repository.
 */
export async function writePngBomb(path: string): Promise<void> {
  await sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#33aa77' } })
    .png({ compressionLevel: 9 })
    .toFile(path);
}

/** A real photo as a [1, size, size, 3] MobileNet input (x / 127.5 - 1). */
export async function photoInput(path: string, size = 224): Promise<tf.Tensor4D> {
  const pixels = await sharp(path).resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  return tf.tidy(() => tf.sub(tf.div(tf.tensor4d(Float32Array.from(pixels), [1, size, size, 3]), 127.5), 1) as tf.Tensor4D);
}
