/**
 * A DELETE racing an upload of the same model or dataset, and two uploads racing. Storage calls are stepped
 * deterministically: one request is paused before each of its storage calls in turn while the other runs to
 * its end, so every way the two can interleave at call granularity is tried. Whatever the interleaving, the
 * list only ever shows entries whose model.json or manifest and every file they name are stored, with the
 * record of that document.
 */
import { reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { datasetRecordOf, type DatasetManifest, type LayersModelJson } from '../../shared/records';
import { app } from '../../worker/index';
import { ADMIN, api, pausingEnv, put } from './api';
import { catsAndDogs, mobilenetModel } from './fixtures';

beforeEach(() => reset());

interface Kind {
  path: 'models' | 'datasets';
  /** Stores the parts (weights or shards) through the API; returns the path of the document that publishes them. */
  uploadParts(id: string): Promise<string>;
  document(id: string): Promise<string>;
  /** Every file the stored document of a listed entry names. */
  namedFiles(document: string, id: string): string[];
  /** The list record a document gives. */
  recordOf(document: string): object;
  /** Another version of the document, naming the same files under another display name. */
  renamed(document: string): string;
}

const DATASETS: Kind = {
  path: 'datasets',
  async uploadParts(id) {
    for (const { file, bytes } of (await catsAndDogs(id)).shards) await put(`/api/datasets/${id}/shards/${file}`, bytes);
    return `/api/datasets/${id}/manifest.json`;
  },
  document: async (id) => JSON.stringify((await catsAndDogs(id)).manifest),
  namedFiles: (text, id) => (JSON.parse(text) as DatasetManifest).shards.map((s) => `/api/datasets/${id}/shards/${s.file}`),
  recordOf: (text) => datasetRecordOf(JSON.parse(text) as DatasetManifest),
  renamed: (text) => JSON.stringify({ ...(JSON.parse(text) as DatasetManifest), name: 'Another version' }),
};

const MODELS: Kind = {
  path: 'models',
  async uploadParts(id) {
    const model = await mobilenetModel(id);
    await put(`/api/models/${id}/${model.weightsFile}`, model.weights);
    return `/api/models/${id}/model.json`;
  },
  document: async (id) => (await mobilenetModel(id)).modelJson,
  namedFiles: (text, id) =>
    (JSON.parse(text) as LayersModelJson).weightsManifest.flatMap((g) => g.paths.map((p) => `/api/models/${id}/${p}`)),
  recordOf: (text) => {
    const model = JSON.parse(text) as LayersModelJson & { id?: string };
    return model.userDefinedMetadata.graft;
  },
  renamed: (text) => {
    const model = JSON.parse(text) as LayersModelJson;
    return JSON.stringify({ ...model, userDefinedMetadata: { graft: { ...model.userDefinedMetadata.graft, name: 'Another version' } } });
  },
};

/** Every listed entry has its document and every file that document names, and its record describes that document. */
async function expectListedComplete(kind: Kind, when: string) {
  const listed = (await (await api(`/api/${kind.path}`)).json()) as { id: string }[];
  for (const { id, ...record } of listed) {
    const document = await api(`/api/${kind.path}/${id}/${kind.path === 'models' ? 'model.json' : 'manifest.json'}`);
    expect([when, id, document.status]).toEqual([when, id, 200]);
    const text = await document.text();
    const { id: _, ...described } = kind.recordOf(text) as { id?: string };
    expect([when, record]).toEqual([when, described]);
    for (const file of kind.namedFiles(text, id)) {
      expect([when, file, (await api(file, { method: 'HEAD' })).status]).toEqual([when, file, 200]);
    }
  }
}

const upload = (path: string, body: string, stepped = env) => app.request(path, { method: 'PUT', body, headers: ADMIN }, stepped);
const remove = (id: string, kind: Kind, stepped = env) =>
  app.request(`/api/${kind.path}/${id}`, { method: 'DELETE', headers: ADMIN }, stepped);

/**
 * One round per step from 0 on, each on fresh storage with the entry's parts uploaded: `round` runs the
 * paused request and says whether it reached the pause. The rounds end when one no longer does: every
 * storage call of that request has been tried.
 */
async function atEveryStep(kind: Kind, round: (step: number, path: string, document: string) => Promise<boolean>) {
  for (let step = 0; ; step++) {
    await reset();
    const path = await kind.uploadParts('pets');
    if (!(await round(step, path, await kind.document('pets')))) return;
  }
}

/**
 * Uploads `document`, pausing before the upload's `step`-th storage call while `meanwhile` runs; then checks the
 * upload's status and the list. Says whether the upload reached the pause.
 */
async function pausedUpload(kind: Kind, step: number, path: string, document: string, meanwhile: () => Promise<void>) {
  const stepped = pausingEnv(step, meanwhile);
  const res = await upload(path, document, stepped.env);
  expect([`step ${step}`, [201, 400, 409].includes(res.status)]).toEqual([`step ${step}`, true]);
  await expectListedComplete(kind, `after both, the other request before upload call ${step}`);
  return stepped.paused();
}

describe.each([
  ['dataset', DATASETS],
  ['model', MODELS],
])('requests racing on one %s', (_, kind) => {
  it('a DELETE never leaves it listed incomplete, whichever storage call of the upload it runs before', () =>
    atEveryStep(kind, (step, path, document) =>
      pausedUpload(kind, step, path, document, async () => {
        expect([400, 404, 200]).toContain((await remove('pets', kind)).status);
        await expectListedComplete(kind, `during the upload, before its call ${step}`);
      }),
    ));

  it('an upload never leaves it listed incomplete, whichever storage call of the DELETE it runs before', () =>
    atEveryStep(kind, async (step, path, document) => {
      expect((await upload(path, document)).status).toBe(201);
      const stepped = pausingEnv(step, async () => {
        expect([201, 400, 409]).toContain((await upload(path, document)).status);
        await expectListedComplete(kind, `during the DELETE, before its call ${step}`);
      });
      expect((await remove('pets', kind, stepped.env)).status).toBe(200);
      await expectListedComplete(kind, `after both, upload before DELETE call ${step}`);
      return stepped.paused();
    }));

  it('of two uploads of different versions, the listed record describes the stored document, whichever call one runs before', () =>
    atEveryStep(kind, (step, path, document) =>
      pausedUpload(kind, step, path, document, async () => {
        expect((await upload(path, kind.renamed(document))).status).toBe(201);
      }),
    ));
});

describe('after a DELETE', () => {
  it('takes the same dataset again: 201 and listed', async () => {
    const path = await DATASETS.uploadParts('pets');
    const document = await DATASETS.document('pets');
    expect((await upload(path, document)).status).toBe(201);
    expect((await remove('pets', DATASETS)).status).toBe(200);
    await DATASETS.uploadParts('pets');
    expect((await upload(path, document)).status).toBe(201);
    expect(((await (await api('/api/datasets')).json()) as { id: string }[]).map((r) => r.id)).toEqual(['pets']);
  });

  it('an interrupted DELETE refuses uploads with 409 saying what to do, until it is run again', async () => {
    const path = await DATASETS.uploadParts('pets');
    const document = await DATASETS.document('pets');
    const interrupted = pausingEnv(3, () => Promise.reject(new Error('the Worker was stopped')));
    expect((await remove('pets', DATASETS, interrupted.env)).status).toBe(500);
    const refused = await upload(path, document);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: 'dataset pets is being deleted: upload it again once the DELETE has finished (if none is running, one was interrupted: DELETE it again)',
    });
    expect((await remove('pets', DATASETS)).status).toBe(200);
    await DATASETS.uploadParts('pets');
    expect((await upload(path, document)).status).toBe(201);
  });
});
