/**
 * Bad publications get a clear 4xx naming what is wrong and store nothing; no input makes a 500. Each case spoils
 * one thing of a valid upload (built by the page's client module); then seeded random damage to the whole body.
 */
import { reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildPublication, PublicationError } from '../../client/api/publications';
import { MAX_ADMIN_PUBLICATION_BYTES, MAX_OPEN_PUBLICATION_BYTES, type PublicationManifest } from '../../shared/publication';
import { mulberry32 } from '../../shared/seeded-random';
import { sha256Hex } from '../../shared/sha256';
import { api, storedKeys } from './api';
import { ADMIN, builtPublication, examplePhotos, openEnv, postPublication, publishInput } from './publication-fixtures';

beforeEach(() => reset());

/** The default upload's manifest and file parts, to be changed and sent again. */
async function parts() {
  const built = await builtPublication();
  const files = new Map(built.manifest.files.map((file) => [file.name, built.form.get(file.name) as File]));
  return { manifest: structuredClone(built.manifest), files };
}

function formOf(manifest: PublicationManifest | string, files: Map<string, Blob | string>): FormData {
  const form = new FormData();
  form.append('manifest', typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  for (const [name, part] of files) typeof part === 'string' ? form.append(name, part) : form.append(name, part, name);
  return form;
}

async function expectRefused(res: Response, status: number, error: string | RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/json');
  const body = (await res.json()) as { error: string };
  if (typeof error === 'string') expect(body.error).toBe(error);
  else expect(body.error).toMatch(error);
  expect(await storedKeys()).toEqual([]);
}

const nameOf = (manifest: PublicationManifest, role: string) => manifest.files.find((f) => f.role === role)!.name;

describe('a publication whose manifest is wrong is refused with 400 naming the field', () => {
  const cases: [string, (m: PublicationManifest) => void, string | RegExp][] = [
    ['a name over 80 characters', (m) => (m.name = 'x'.repeat(81)), 'the manifest is not valid: name: must be at most 80 characters'],
    ['an empty name', (m) => (m.name = ''), 'the manifest is not valid: name: must not be empty'],
    ['a name on two lines', (m) => (m.name = 'Cats\nDogs'), 'the manifest is not valid: name: must be plain text on one line (no control characters)'],
    ['a name that writes right to left by an override', (m) => (m.name = 'Cats \u202Egod'), 'the manifest is not valid: name: must be plain text on one line (no control characters)'],
    ['a description over 500 characters', (m) => (m.description = 'y'.repeat(501)), 'the manifest is not valid: description: must be at most 500 characters'],
    ['a NUL in the description', (m) => (m.description = 'a\u0000b'), /^the manifest is not valid: description: must be plain text/],
    ['a version it does not know', (m) => ((m as { version: number }).version = 2), /^the manifest is not valid: version: /],
    ['counts for another number of classes', (m) => (m.card.dataset.imageCounts = [1]), 'the manifest is not consistent: card.dataset.imageCounts: has 1 counts for 2 classes'],
    ['a confusion matrix of the wrong size', (m) => (m.card.evaluation.confusion = [[1, 2, 3]]), 'the manifest is not consistent: card.evaluation.confusion: must be 2 rows of 2 counts'],
    ['an accuracy over 1', (m) => (m.card.evaluation.accuracy = 97.5), /^the manifest is not valid: card\.evaluation\.accuracy: /],
    ['a date that is not one', (m) => (m.card.trainedAt = 'yesterday'), /^the manifest is not valid: card\.trainedAt: /],
    ['runs naming a model it does not hold', (m) => (m.runs = 'float16'), 'the manifest is not consistent: runs: names float16, but files hold no float16 model'],
    ['no labels file', (m) => (m.files = m.files.filter((f) => f.role !== 'labels')), 'the manifest is not consistent: files: must hold exactly one labels file (holds 0)'],
    ['a file listed twice', (m) => m.files.push(m.files[0]!), /^the manifest is not consistent: files\[5\] \(model-int8-[0-9a-f]{32}\.tflite\): the name is listed twice; files\[5\] .*: a second int8 model$/],
    ['a file name without its hash', (m) => (m.files[2]!.name = 'labels.txt'), /^the manifest is not consistent: files\[2\] \(labels\.txt\): a labels file must be named <stem>-<first 32 hex digits of its sha256>\.txt$/],
    ['a model whose output is not one per class', (m) => {
      const model = m.files[0]!;
      if (model.role === 'model') model.signature.output.shape = [1, 3];
    }, /^the manifest is not consistent: files\[0\] \(model-int8-[0-9a-f]{32}\.tflite\): signature output\.shape \[1,3\] is not \[1, 2\]$/],
    ['an example of a class it does not have', (m) => {
      const example = m.files.find((f) => f.role === 'example')!;
      if (example.role === 'example') example.class = 'birds';
    }, /^the manifest is not consistent: files\[3\] \(example-[0-9a-f]{32}\.jpg\): class "birds" is not one of card\.classes$/],
    ['an unknown role', (m) => ((m.files[2] as { role: string }).role = 'weights'), /^the manifest is not valid: files\.2\.role: /],
  ];

  it.each(cases)('%s', async (_, spoil, error) => {
    const { manifest, files } = await parts();
    spoil(manifest);
    await expectRefused(await postPublication(formOf(manifest, files), ADMIN), 400, error);
  });

  it('a manifest that is not JSON, or not there, or there twice', async () => {
    const { manifest, files } = await parts();
    await expectRefused(await postPublication(formOf('{"version": 1,', files), ADMIN), 400, /^the manifest is not JSON: /);
    const none = new FormData();
    for (const [name, part] of files) none.append(name, part, name);
    await expectRefused(await postPublication(none, ADMIN), 400, 'the body must hold one "manifest" part (it holds 0)');
    const twice = formOf(manifest, files);
    twice.append('manifest', JSON.stringify(manifest));
    await expectRefused(await postPublication(twice, ADMIN), 400, 'the body must hold one "manifest" part (it holds 2)');
  });
});

describe('a publication whose files do not match the manifest is refused with 400 naming the file', () => {
  it('a file missing, sent twice, sent as text, or one the manifest does not list', async () => {
    const { manifest, files } = await parts();
    const labels = nameOf(manifest, 'labels');
    const without = new Map(files);
    without.delete(labels);
    await expectRefused(await postPublication(formOf(manifest, without), ADMIN), 400, `file ${labels} is listed in the manifest but not sent`);
    const twice = formOf(manifest, files);
    twice.append(labels, files.get(labels)!, labels);
    await expectRefused(await postPublication(twice, ADMIN), 400, `file ${labels} is sent 2 times`);
    const asText = new Map<string, Blob | string>(files).set(labels, 'cats\ndogs\n');
    await expectRefused(await postPublication(formOf(manifest, asText), ADMIN), 400, `file ${labels} must be sent as a file part (with a filename), not as a text field`);
    const extra = new Map<string, Blob | string>(files).set('x'.repeat(5000), new Blob(['x']));
    await expectRefused(await postPublication(formOf(manifest, extra), ADMIN), 400, `part "${'x'.repeat(200)}" is not a file the manifest lists`);
  });

  it('bytes that are not what the manifest says: size, sha256, and content of the wrong kind', async () => {
    const { manifest, files } = await parts();
    const model = nameOf(manifest, 'model');
    const example = nameOf(manifest, 'example');
    const modelBytes = new Uint8Array(await files.get(model)!.arrayBuffer());

    const shorter = new Map<string, Blob>(files).set(model, new Blob([modelBytes.slice(1)]));
    await expectRefused(await postPublication(formOf(manifest, shorter), ADMIN), 400, `file ${model} holds ${modelBytes.byteLength - 1} bytes, the manifest says ${modelBytes.byteLength}`);

    const flipped = modelBytes.slice();
    flipped[100] = flipped[100]! ^ 0xff;
    const damaged = new Map<string, Blob>(files).set(model, new Blob([flipped]));
    await expectRefused(await postPublication(formOf(manifest, damaged), ADMIN), 400, new RegExp(`^file ${model}: its sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}$`));

    // A client that names and hashes its files right can still send something that is not what the role says.
    const { manifest: wrongKinds, form } = await buildPublication(
      await publishInput({ models: [{ ...(await publishInput()).models[0]!, file: new TextEncoder().encode('not a model at all') }], runs: 'int8' }),
    );
    await expectRefused(await postPublication(form, ADMIN), 400, `file ${nameOf(wrongKinds, 'model')} is not a .tflite file (no TFL3 identifier)`);
    const notJpeg = await buildPublication(await publishInput({ examples: [{ class: 'cats', jpeg: modelBytes }] }));
    await expectRefused(await postPublication(notJpeg.form, ADMIN), 400, `file ${nameOf(notJpeg.manifest, 'example')} is not a JPEG photo`);
    expect(example).toMatch(/^example-/);
  });

  it('labels.txt that are not the card\'s classes', async () => {
    const { manifest, files } = await parts();
    const labels = manifest.files.find((f) => f.role === 'labels')!;
    const wrong = new TextEncoder().encode('dogs\ncats\n');
    Object.assign(labels, { bytes: wrong.byteLength, sha256: await sha256Hex(wrong) });
    labels.name = `labels-${labels.sha256.slice(0, 32)}.txt`;
    const sent = new Map<string, Blob>([...files].filter(([name]) => !name.startsWith('labels-'))).set(labels.name, new Blob([wrong]));
    await expectRefused(await postPublication(formOf(manifest, sent), ADMIN), 400, `file ${labels.name} must hold card.classes, one a line, each line ended by a line feed`);
  });

  it('too many example photos', async () => {
    const [cat] = await examplePhotos();
    const many = Array.from({ length: 13 }, (_, i) => ({ class: 'cats', jpeg: Uint8Array.from([...cat!.jpeg, i]) }));
    await expect(buildPublication(await publishInput({ examples: many }))).rejects.toThrow('files: at most 12 example photos (holds 13)');
    const { manifest, files } = await parts();
    for (let i = 0; i < 11; i++) manifest.files.push({ ...manifest.files.at(-1)! });
    await expectRefused(await postPublication(formOf(manifest, files), ADMIN), 400, /^the manifest is not consistent: files: at most 12 example photos \(holds 13\); files\[5\] /);
  });
});

describe('bodies that are not a publication', () => {
  it.each([
    ['JSON', { 'Content-Type': 'application/json' }, JSON.stringify({ manifest: {} }), 415],
    ['no Content-Type', {}, new Uint8Array([1, 2, 3]), 415],
    ['urlencoded', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'manifest=%7B%7D', 415],
    ['multipart without a boundary', { 'Content-Type': 'multipart/form-data' }, 'x', 415],
    ['a boundary that never comes', { 'Content-Type': 'multipart/form-data; boundary=zzz' }, '--aaa\r\n\r\nhello', 400],
    ['an empty multipart body', { 'Content-Type': 'multipart/form-data; boundary=zzz' }, '', 400],
    ['a part with no name', { 'Content-Type': 'multipart/form-data; boundary=zzz' }, '--zzz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--zzz--\r\n', 400],
  ])('%s: refused with %s… and nothing stored', async (_, headers, body, status) => {
    const res = await postPublication(body, { ...ADMIN, ...headers });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error.length).toBeGreaterThan(10);
    expect(await storedKeys()).toEqual([]);
  });

  it('over 8 MB when publishing is open: 413 naming the limit, by Content-Length or while reading; the admin may send more', async () => {
    const open = openEnv();
    const ip = { 'CF-Connecting-IP': '192.0.2.80' };
    const error = 'the publication is larger than 8 MB (8388608 bytes), the most one publication may hold here';
    const { form } = await builtPublication();
    const declared = await postPublication(form, { ...ip, 'Content-Length': String(MAX_OPEN_PUBLICATION_BYTES + 1) }, open);
    await expectRefused(declared, 413, error);
    const big = formOf((await parts()).manifest, new Map([['padding', new Blob([new Uint8Array(MAX_OPEN_PUBLICATION_BYTES)])]]));
    await expectRefused(await postPublication(big, ip, open), 413, error);
    // The admin's limit is larger: the same body is read and refused for what it holds instead.
    await expectRefused(await postPublication(big, ADMIN, open), 400, 'part "padding" is not a file the manifest lists');
    const huge = await postPublication(form, { ...ADMIN, 'Content-Length': String(MAX_ADMIN_PUBLICATION_BYTES + 1) });
    await expectRefused(huge, 413, 'the publication is larger than 32 MB (33554432 bytes), the most one publication may hold here');
  });

  it('never answers 500, whatever bytes of a valid body are damaged (200 seeded damages)', async () => {
    const { form } = await builtPublication();
    const request = new Request('http://x/', { method: 'POST', body: form });
    const contentType = request.headers.get('Content-Type')!;
    const body = new Uint8Array(await request.arrayBuffer());
    const random = mulberry32(19);
    const statuses = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const damaged = body.slice(0, random() < 0.2 ? Math.floor(random() * body.byteLength) : body.byteLength);
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        const at = Math.floor(random() * damaged.byteLength);
        damaged[at] = Math.floor(random() * 256);
      }
      const res = await postPublication(damaged, { ...ADMIN, 'Content-Type': contentType });
      statuses.add(res.status);
      expect([i, res.status < 500]).toEqual([i, true]);
      await res.arrayBuffer();
    }
    expect(statuses.has(400)).toBe(true);
  });
});

describe('other routes refuse bad input without a 500', () => {
  it.each([
    ['an id with encoded dots and slashes', 'GET', '/api/publications/%2F..%2F..%2Findex%2Fmodels', 404],
    ['an id of 2000 characters', 'GET', `/api/publications/${'A'.repeat(2000)}`, 404],
    ['a file name with encoded dots and slashes', 'GET', '/api/publications/AAAAAAAAAAAAAAAAAAAAAA/..%2F..%2Fx', 400],
    ['a file name in capitals', 'GET', '/api/publications/AAAAAAAAAAAAAAAAAAAAAA/UPPER.tflite', 400],
    ['a PATCH body that is not JSON', 'PATCH', '/api/publications/AAAAAAAAAAAAAAAAAAAAAA', 400],
    ['PUT on a publication', 'PUT', '/api/publications/AAAAAAAAAAAAAAAAAAAAAA', 405],
    ['DELETE on the list', 'DELETE', '/api/publications', 405],
    ['POST on the policy', 'POST', '/api/publications/policy', 405],
  ])('%s: %s answers %s', async (_, method, path, status) => {
    const headers = method === 'PATCH' ? ADMIN : {};
    const res = await api(path, { method, headers, body: method === 'PATCH' ? 'not json' : undefined });
    expect(res.status).toBe(status);
    expect(res.headers.get('Content-Type')).toBe('application/json');
  });

  it('a delete key of any length or content is 403 for a publication and 404 for none, and deletes nothing', async () => {
    const published = await postPublication((await builtPublication()).form, ADMIN);
    const { id } = (await published.json()) as { id: string };
    for (const key of ['', ' ', 'x'.repeat(10_000), '\u00ff\u00fe', 'a,b']) {
      const res = await api(`/api/publications/${id}`, { method: 'DELETE', headers: { 'Graft-Delete-Key': key } });
      expect(res.status).toBe(403);
      const none = await api('/api/publications/AAAAAAAAAAAAAAAAAAAAAA', { method: 'DELETE', headers: { 'Graft-Delete-Key': key } });
      expect(none.status).toBe(404);
    }
    expect((await api(`/api/publications/${id}`)).status).toBe(200);
  });

  it('the client refuses an unpublishable input before sending anything', async () => {
    const error = await buildPublication(await publishInput({ name: 'n'.repeat(81) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublicationError);
    expect(error).toMatchObject({ status: 0, message: 'the publication is not valid: name: must be at most 80 characters' });
  });
});
