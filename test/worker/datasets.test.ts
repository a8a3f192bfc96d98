/** /api/datasets: uploading real photos packed in shards, then the manifest; listing, serving, deleting. */
import { reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { datasetRecordOf } from '../../shared/records';
import { ADMIN, api, put, storedKeys } from './api';
import { catsAndDogs, type DatasetFixture } from './fixtures';

beforeEach(() => reset());

async function listed(): Promise<unknown> {
  return (await api('/api/datasets')).json();
}

async function putShards(id: string, dataset: DatasetFixture, count = dataset.shards.length) {
  for (const { file, bytes } of dataset.shards.slice(0, count)) {
    const res = await put(`/api/datasets/${id}/shards/${file}`, bytes);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ stored: true, bytes: bytes.byteLength });
  }
}

const manifestError = async (res: Response) => {
  expect(res.status).toBe(400);
  return ((await res.json()) as { error: string }).error;
};

describe('GET /api/datasets', () => {
  it('lists nothing while nothing is stored', async () => {
    const res = await api('/api/datasets');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]{40}"$/);
    expect(await res.json()).toEqual([]);
  });
});

describe('PUT /api/datasets/:id/manifest.json', () => {
  it('lists a dataset only once its manifest is stored, with the shared record', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset);
    expect(await listed()).toEqual([]);

    const text = JSON.stringify(dataset.manifest);
    const res = await put('/api/datasets/pets/manifest.json', text, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ stored: true, bytes: new TextEncoder().encode(text).byteLength });

    const record = datasetRecordOf(dataset.manifest);
    expect(record).toMatchObject({ classes: ['cats', 'dogs'], classCounts: [2, 2], imageCount: 4 });
    expect(await listed()).toEqual([record]);
    expect(await (await api('/api/datasets/pets/manifest.json')).text()).toBe(text);
    const shard = dataset.shards[1]!;
    const served = await api(`/api/datasets/pets/shards/${shard.file}`);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(shard.bytes);
  });

  it('refuses a manifest naming a shard that is not stored, and does not list the dataset', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset, 1);
    const res = await put('/api/datasets/pets/manifest.json', JSON.stringify(dataset.manifest));
    expect(await manifestError(res)).toBe(
      `manifest.json names shard ${dataset.shards[1]!.file}, which is not stored for dataset pets: upload it first`,
    );
    expect(await listed()).toEqual([]);
    expect((await api('/api/datasets/pets/manifest.json')).status).toBe(404);
    expect(await storedKeys()).toEqual([`datasets/pets/shards/${dataset.shards[0]!.file}`]);
  });

  it('refuses a manifest whose shard size differs from the stored shard', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset);
    const manifest = structuredClone(dataset.manifest);
    manifest.shards[0]!.bytes += 1;
    const error = await manifestError(await put('/api/datasets/pets/manifest.json', JSON.stringify(manifest)));
    expect(error).toBe(
      `manifest.json says shard ${manifest.shards[0]!.file} holds ${manifest.shards[0]!.bytes} bytes, but ${manifest.shards[0]!.bytes - 1} are stored`,
    );
    expect(await listed()).toEqual([]);
  });

  it('refuses a manifest whose shard sha256 does not match the shard name', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset);
    const manifest = structuredClone(dataset.manifest);
    manifest.shards[1]!.sha256 = manifest.shards[0]!.sha256;
    const error = await manifestError(await put('/api/datasets/pets/manifest.json', JSON.stringify(manifest)));
    expect(error).toBe(
      `manifest.json: shard name ${manifest.shards[1]!.file} does not carry the start of its sha256 ${manifest.shards[0]!.sha256}`,
    );
  });

  it('refuses a manifest for another id', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('other', dataset);
    const error = await manifestError(await put('/api/datasets/other/manifest.json', JSON.stringify(dataset.manifest)));
    expect(error).toBe('manifest.json is for dataset pets, not other');
    expect(await listed()).toEqual([]);
  });

  it('refuses a manifest that breaks the schema, saying where', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset);
    const manifest = structuredClone(dataset.manifest);
    manifest.images[2]!.class = 'birds';
    const error = await manifestError(await put('/api/datasets/pets/manifest.json', JSON.stringify(manifest)));
    expect(error).toBe('manifest.json is not valid: every image must name one of the classes');
    const { images: _, ...noImages } = dataset.manifest;
    const missing = await manifestError(await put('/api/datasets/pets/manifest.json', JSON.stringify(noImages)));
    expect(missing).toMatch(/^manifest\.json is not valid: images: /);
    expect(await listed()).toEqual([]);
  });
});

describe('PUT /api/datasets/:id/shards/:file', () => {
  it('answers 200 stored:false for a shard already stored', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset, 1);
    const { file, bytes } = dataset.shards[0]!;
    const res = await put(`/api/datasets/pets/shards/${file}`, bytes);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stored: false, bytes: bytes.byteLength });
  });

  it('refuses a shard whose bytes do not match its name, and a name that is not content-addressed', async () => {
    const dataset = await catsAndDogs('pets');
    const [cats, dogs] = dataset.shards;
    const mismatch = await put(`/api/datasets/pets/shards/${cats!.file}`, dogs!.bytes);
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as { error: string }).error).toMatch(/^content hash mismatch: /);
    const plain = await put('/api/datasets/pets/shards/cats.bin', cats!.bytes);
    expect(plain.status).toBe(400);
    expect(await storedKeys()).toEqual([]);
  });
});

describe('DELETE /api/datasets/:id', () => {
  it('removes the dataset from the list, then its manifest and shards', async () => {
    const dataset = await catsAndDogs('pets');
    await putShards('pets', dataset);
    await put('/api/datasets/pets/manifest.json', JSON.stringify(dataset.manifest));
    const res = await api('/api/datasets/pets', { method: 'DELETE', headers: ADMIN });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 3 });
    expect(await listed()).toEqual([]);
    // Only the marker saying it was deleted stays (worker/storage.ts: it keeps a late upload from publishing).
    expect(await storedKeys()).toEqual(['index/datasets/pets.json']);
    expect((await api(`/api/datasets/pets/shards/${dataset.shards[0]!.file}`)).status).toBe(404);
  });

  it('answers 404 for a dataset it does not have', async () => {
    const res = await api('/api/datasets/nothing-here', { method: 'DELETE', headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'there is no dataset nothing-here' });
  });
});
