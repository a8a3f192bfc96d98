/**
 * `npm run seed` end to end into a local R2 (wrangler's getPlatformProxy, as `npm start` serves it):
 * the real models and photos of ../shared, bad files, duplicates, URL sources and refusals.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import * as tar from 'tar';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentAddressedName } from '../../shared/names';
import { DatasetManifestSchema, datasetRecordOf, type DatasetManifest, type LayersModelJson } from '../../shared/records';
import { SEED_FLAGS, USAGE, parseSeedArgs } from '../../tools/ingest/options';
import { seed } from '../../tools/ingest/run';
import { sha256Hex } from '../../shared/sha256';
import {
  FLOWERS,
  MODEL_V1,
  MODEL_V2,
  REPO_ROOT,
  SHARED,
  linkClassFolders,
  loadStoredModel,
  noticeWeightsHash,
  openLocalR2,
  photoInput,
  readJson,
  readObject,
  sampleFiles,
  serveDirectory,
  writePngBomb,
} from '../support/ingest-fixtures';
import { useBackend } from '../../tools/measure/tf-node';
import { craftedGif } from '../support/crafted-images';
import { prepareImage } from '../../tools/ingest/images';
import { decodeFile } from '../../tools/measure/decode-file';

async function runSeed(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const options = parseSeedArgs(args);
  if (!options) throw new Error('--help is not a seed run');
  const lines: string[] = [];
  const report = await seed(options, (line) => lines.push(line), env);
  // Without --model a seed stores the repository's base model too (tools/ingest/defaults.ts): the datasets' results follow it.
  return { report, output: lines.join('\n'), datasets: report.results.filter((r) => r.kind === 'dataset') };
}

const slice = (shard: Uint8Array, offset: number, length: number) => shard.subarray(offset, offset + length);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'graft-ingest-'));
  await useBackend('cpu');
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('seeding two real models and a class-folder dataset with bad files into the local R2', () => {
  let root: string;
  let picked: Record<string, string[]>;
  let first: Awaited<ReturnType<typeof runSeed>>;
  let second: Awaited<ReturnType<typeof runSeed>>;
  let r2: Awaited<ReturnType<typeof openLocalR2>>;

  beforeAll(async () => {
    picked = await sampleFiles(FLOWERS, ['daisy', 'roses', 'tulips'], 15);
    root = join(work, 'flowers-mini');
    await linkClassFolders(root, FLOWERS, picked);
    const rose = await readFile(join(FLOWERS, 'roses', picked.roses[0]));
    await writeFile(join(root, 'roses', 'truncated.jpg'), rose.subarray(0, rose.length >> 1));
    await writeFile(join(root, 'daisy', 'notes.txt'), 'photos from the garden, summer\n');
    await symlink(join(MODEL_V1, 'mobilenet_group1-shard1of1'), join(root, 'tulips', 'weights.bin'));

    const args = ['--model', MODEL_V1, '--model', MODEL_V2, '--dataset', root, '--follow-links', '--persist-to', join(work, 'state')];
    first = await runSeed(args);
    second = await runSeed(args);
    r2 = await openLocalR2(join(work, 'state'));
  });
  afterAll(() => r2?.dispose());

  it('ingests every source and exits 0 although files were skipped', () => {
    expect(first.report.results.map((r) => [r.kind, r.id, r.error])).toEqual([
      ['model', 'mobilenet_v1_0.25_224', undefined],
      ['model', 'mobilenet_v2_0.35_224_no_top', undefined],
      ['dataset', 'flowers-mini', undefined],
    ]);
    expect(first.report.exitCode).toBe(0);
  });

  it('stores a valid manifest with every good image of each class, listed in the index', async () => {
    const manifest = v.parse(DatasetManifestSchema, await readJson(r2.bucket, 'datasets/flowers-mini/manifest.json'));
    expect(manifest).toMatchObject({ id: 'flowers-mini', name: 'flowers-mini', classes: ['daisy', 'roses', 'tulips'] });
    for (const name of manifest.classes) {
      expect(manifest.images.filter((image) => image.class === name).map((image) => image.file)).toEqual(picked[name]);
    }
    const record = await readJson(r2.bucket, 'index/datasets/flowers-mini.json');
    expect(record).toEqual(datasetRecordOf(manifest));
    expect(record).toMatchObject({ classCounts: [15, 15, 15], imageCount: 45 });
    expect(first.output).toContain('daisy 15, roses 15, tulips 15');
  });

  it('reports exactly the three bad files, with the reason for each', () => {
    const skipped = first.report.results[2].skipped;
    expect(skipped.map((s) => s.file)).toEqual(['daisy/notes.txt', 'roses/truncated.jpg', 'tulips/weights.bin']);
    expect(skipped[0].reason).toMatch(/^not an image/);
    expect(skipped[1].reason).toMatch(/^cannot be decoded as jpeg: the data is corrupt or truncated/);
    expect(skipped[2].reason).toMatch(/^not an image/);
    expect(first.output).toContain('Skipped 3 file(s):');
    expect(first.output).toContain('flowers-mini: roses/truncated.jpg: cannot be decoded');
  });

  it('stores each photo byte for byte in its shard, at its offset, under the sha256 of its bytes', async () => {
    const manifest = await readJson<DatasetManifest>(r2.bucket, 'datasets/flowers-mini/manifest.json');
    expect(manifest.shards.length).toBe(1);
    const shards = new Map<string, Uint8Array>();
    for (const shard of manifest.shards) {
      const bytes = await readObject(r2.bucket, `datasets/flowers-mini/shards/${shard.file}`);
      expect([bytes.length, await sha256Hex(bytes)]).toEqual([shard.bytes, shard.sha256]);
      expect(shard.file).toBe(contentAddressedName('shard', shard.sha256, 'bin'));
      shards.set(shard.file, bytes);
    }
    for (const image of manifest.images) {
      const stored = slice(shards.get(image.shard)!, image.offset, image.length);
      expect(await sha256Hex(stored)).toBe(image.id);
      expect(Buffer.compare(stored, await readFile(join(FLOWERS, image.class, image.file)))).toBe(0);
      expect(image.type).toBe('image/jpeg');
    }
  });

  it('keeps the weights hash the NOTICE files state and re-shards the 55 v1 weight files into one', async () => {
    for (const [id, dir, layers, bottleneck] of [
      ['mobilenet_v1_0.25_224', MODEL_V1, 88, 'conv_pw_13_relu'],
      ['mobilenet_v2_0.35_224_no_top', MODEL_V2, 155, 'out_relu'],
    ] as const) {
      const model = await readJson<LayersModelJson>(r2.bucket, `models/${id}/model.json`);
      const graft = model.userDefinedMetadata.graft;
      expect(graft.weightsHash).toBe(await noticeWeightsHash(dir));
      expect(graft).toMatchObject({ name: id, inputSize: 224, bottleneck, layers, preprocessing: { scale: 1 / 127.5, offset: -1 } });
      expect(model.weightsManifest.length).toBe(1);
      const [weights] = model.weightsManifest[0].paths;
      const bytes = await readObject(r2.bucket, `models/${id}/${weights}`);
      expect([bytes.length, await sha256Hex(bytes)]).toEqual([graft.bytes, graft.weightsHash]);
      expect(await readJson(r2.bucket, `index/models/${id}.json`)).toEqual({ id, ...graft });
    }
  });

  it('stores models that tfjs-layers loads and that compute exactly what the originals compute', async () => {
    const models = await serveDirectory(join(SHARED, 'models'));
    const photo = await photoInput(join(FLOWERS, 'daisy', picked.daisy[0]));
    try {
      for (const [id, layers, outputShape] of [
        ['mobilenet_v1_0.25_224', 88, [null, 1000]],
        ['mobilenet_v2_0.35_224_no_top', 155, [null, 7, 7, 1280]],
      ] as const) {
        const stored = await loadStoredModel(r2.bucket, id);
        const original = await tfl.loadLayersModel(`${models.origin}/${id}/model.json`);
        expect(stored.layers.length).toBe(layers);
        expect(stored.outputs[0].shape).toEqual(outputShape);
        const [a, b] = [stored, original].map((m) => (m.predict(photo) as tf.Tensor).dataSync());
        expect(a.length).toBe(b.length);
        expect(Array.from(a)).toEqual(Array.from(b));
        stored.dispose();
        original.dispose();
      }
    } finally {
      photo.dispose();
      await models.close();
    }
  });

  it('stores nothing on a second run and says so', () => {
    expect(second.report.exitCode).toBe(0);
    expect(second.report.results.map((r) => r.storedBytes)).toEqual([0, 0, 0]);
    expect(second.output.match(/stored 0 bytes \(3 objects already present\)/g)).toHaveLength(3);
  });
});

describe('seeding a dataset with duplicates, nested folders and large photos', () => {
  let result: Awaited<ReturnType<typeof runSeed>>['report']['results'][number];
  let r2: Awaited<ReturnType<typeof openLocalR2>>;
  let picked: Record<string, string[]>;
  const bouquet = async () => (await sampleFiles(FLOWERS, ['roses'], 1)).roses[0];

  beforeAll(async () => {
    picked = await sampleFiles(FLOWERS, ['daisy', 'sunflowers'], 6);
    const root = join(work, 'dups');
    const nested = picked.sunflowers.pop()!;
    await linkClassFolders(root, FLOWERS, picked);
    await mkdir(join(root, 'sunflowers', 'field'));
    await symlink(join(FLOWERS, 'sunflowers', nested), join(root, 'sunflowers', 'field', nested));
    await symlink(join(FLOWERS, 'daisy', picked.daisy[0]), join(root, 'daisy', 'zz-copy.jpg'));
    for (const name of ['daisy', 'sunflowers']) {
      await symlink(join(FLOWERS, 'roses', await bouquet()), join(root, name, 'bouquet.jpg'));
    }
    const persistTo = join(work, 'state-dups');
    const args = ['--dataset', root, '--follow-links', '--dataset-id', 'dup-test', '--dataset-name', 'Duplicates', '--max-side', '128', '--shard-mb', '0.02'];
    ({ datasets: [result] } = await runSeed([...args, '--persist-to', persistTo]));
    r2 = await openLocalR2(persistTo);
  });
  afterAll(() => r2?.dispose());

  it('keeps one copy of a duplicate within a class and drops a photo found in two classes', async () => {
    expect(result.skipped).toEqual([
      { file: 'daisy/bouquet.jpg', reason: 'same bytes also in class sunflowers: ambiguous label, left out of every class' },
      { file: 'daisy/zz-copy.jpg', reason: `duplicate of daisy/${picked.daisy[0]}: kept once` },
      { file: 'sunflowers/bouquet.jpg', reason: 'same bytes also in class daisy: ambiguous label, left out of every class' },
    ]);
    const manifest = await readJson<DatasetManifest>(r2.bucket, 'datasets/dup-test/manifest.json');
    expect(datasetRecordOf(manifest)).toMatchObject({ name: 'Duplicates', classes: ['daisy', 'sunflowers'], classCounts: [6, 6] });
    expect(manifest.images.filter((i) => i.class === 'sunflowers').map((i) => i.file)).toContain(
      `field/${(await sampleFiles(FLOWERS, ['sunflowers'], 6)).sunflowers[5]}`,
    );
  });

  it('downscales photos to a shorter side of --max-side, keeping their shape, and packs small shards', async () => {
    const manifest = await readJson<DatasetManifest>(r2.bucket, 'datasets/dup-test/manifest.json');
    expect(manifest.shards.length).toBeGreaterThan(1);
    for (const shard of manifest.shards) {
      const bytes = await readObject(r2.bucket, `datasets/dup-test/shards/${shard.file}`);
      const images = manifest.images.filter((i) => i.shard === shard.file);
      expect(images.length === 1 || bytes.length <= 0.02 * 1024 * 1024).toBe(true);
      for (const image of images) {
        const stored = slice(bytes, image.offset, image.length);
        expect(await sha256Hex(stored)).toBe(image.id);
        const small = await sharp(stored).metadata();
        const original = await sharp(join(FLOWERS, image.class, image.file.replace('field/', ''))).metadata();
        expect([small.format, image.type, Math.min(small.width, small.height)]).toEqual(['jpeg', 'image/jpeg', 128]);
        expect(Math.abs(small.width / small.height - original.width / original.height)).toBeLessThan(0.02);
      }
    }
  });
});

describe('sources that cannot be used', () => {
  const persistTo = () => join(work, 'state-refusals');

  it('refuses a model whose weights are shorter than its manifest, stores none of it, and still ingests the rest', async () => {
    const corrupt = join(work, 'corrupt-model');
    await mkdir(corrupt);
    await symlink(join(MODEL_V2, 'model.json'), join(corrupt, 'model.json'));
    const weights = await readFile(join(MODEL_V2, 'group1-shard1of1.bin'));
    await writeFile(join(corrupt, 'group1-shard1of1.bin'), weights.subarray(0, 1_000_000));
    const good = join(work, 'good-mini');
    await linkClassFolders(good, FLOWERS, await sampleFiles(FLOWERS, ['roses', 'tulips'], 2));

    const { report, output } = await runSeed(['--model', corrupt, '--dataset', good, '--follow-links', '--persist-to', persistTo()]);
    expect(report.exitCode).toBe(1);
    expect(report.results[0].error).toBe(
      `${corrupt}: weight group 1 (group1-shard1of1.bin) holds 1000000 bytes but its 260 weights need 1640832: the model is truncated or corrupt`,
    );
    expect(output).toContain('1 source(s) could not be ingested');
    expect(report.results[1]).toMatchObject({ id: 'good-mini', storedObjects: 3 });
    expect(report.results[1].error).toBeUndefined();
    const r2 = await openLocalR2(persistTo());
    try {
      expect((await r2.bucket.list({ prefix: 'models/' })).objects).toEqual([]);
      expect((await r2.bucket.list({ prefix: 'index/' })).objects.map((o) => o.key)).toEqual(['index/datasets/good-mini.json']);
    } finally {
      await r2.dispose();
    }
  });

  it('refuses a dataset without class folders, a bottleneck the model lacks, and --remote without a token', async () => {
    const flat = join(work, 'flat');
    await mkdir(flat);
    for (const file of (await sampleFiles(FLOWERS, ['daisy'], 2)).daisy) await symlink(join(FLOWERS, 'daisy', file), join(flat, file));
    const { report } = await runSeed([
      '--dataset', flat,
      '--model', MODEL_V2, '--bottleneck', 'block_99_out',
      '--persist-to', persistTo(),
    ]);
    expect(report.exitCode).toBe(1);
    expect(report.results.map((r) => r.error)).toEqual([
      `${MODEL_V2}: no top-level layer named 'block_99_out' (last layers: block_16_project, block_16_project_BN, Conv_1, Conv_1_bn, out_relu)`,
      `${flat} has no class folders: expected one subfolder per class holding its images (root/<class>/<image>)`,
    ]);

    const remote = await runSeed(['--dataset', flat, '--remote', 'http://127.0.0.1:9'], {});
    expect(remote.report).toMatchObject({ exitCode: 1, results: [] });
    expect(remote.report.targetError).toMatch(/^--remote needs the admin token in the environment variable GRAFT_ADMIN_TOKEN/);
  });

});

describe('entries that are skipped one by one, each with its reason', () => {
  /** root/<class>/<file> as copies of real photos: a dataset folder with no links in it. */
  async function copyClassFolders(root: string, files: Record<string, string[]>) {
    for (const [name, list] of Object.entries(files)) {
      await mkdir(join(root, name), { recursive: true });
      for (const file of list) await copyFile(join(FLOWERS, name, file), join(root, name, file));
    }
  }

  it('skips links that lead outside the dataset folder unless --follow-links, and follows links inside it', async () => {
    const root = join(work, 'links');
    const picked = await sampleFiles(FLOWERS, ['daisy', 'roses', 'sunflowers'], 3);
    await copyClassFolders(root, { daisy: picked.daisy.slice(0, 2), roses: picked.roses.slice(0, 2) });
    await copyClassFolders(join(root, '.extra'), { daisy: [picked.daisy[2]], roses: [picked.roses[2]] });
    await symlink(join(root, '.extra', 'daisy'), join(root, 'daisy', 'more'));
    await symlink(join(root, '.extra', 'roses', picked.roses[2]), join(root, 'roses', 'inside.jpg'));
    await symlink(join(FLOWERS, 'sunflowers', picked.sunflowers[0]), join(root, 'daisy', 'outside.jpg'));
    const elsewhere = join(work, 'links-elsewhere');
    await copyClassFolders(elsewhere, await sampleFiles(FLOWERS, ['tulips'], 2));
    await symlink(join(elsewhere, 'tulips'), join(root, 'tulips'));

    const persistTo = join(work, 'state-links');
    const strict = await runSeed(['--dataset', root, '--dataset-id', 'strict', '--persist-to', persistTo]);
    expect(strict.report.exitCode).toBe(0);
    const outside = 'link to outside the dataset folder: not read (give --follow-links to read such links)';
    expect(strict.datasets[0].skipped).toEqual([
      { file: '.extra', reason: 'hidden entry in the dataset root' },
      { file: 'daisy/outside.jpg', reason: outside },
      { file: 'tulips', reason: outside },
    ]);
    expect(datasetRecordOf(strict.datasets[0].manifest!)).toMatchObject({ classes: ['daisy', 'roses'], classCounts: [3, 3] });

    const followed = (await runSeed(['--dataset', root, '--dataset-id', 'followed', '--follow-links', '--persist-to', persistTo])).datasets[0];
    expect(followed.skipped.map((s) => s.file)).toEqual(['.extra']);
    expect(datasetRecordOf(followed.manifest!)).toMatchObject({
      classes: ['daisy', 'roses', 'tulips'],
      classCounts: [4, 3, 2],
    });
  });

  it('skips archive entries with ".." or an absolute path, saying so, and unpacks the rest', async () => {
    const tree = join(work, 'evil-tree');
    const picked = await sampleFiles(FLOWERS, ['daisy', 'roses'], 2);
    await copyClassFolders(join(tree, 'top', 'flowers'), picked);
    await copyFile(join(FLOWERS, 'tulips', (await sampleFiles(FLOWERS, ['tulips'], 1)).tulips[0]), join(tree, 'top', 'escape.jpg'));
    const absolute = join(tree, 'top', 'escape.jpg');
    const archive = join(work, 'evil.tgz');
    await tar.c({ gzip: true, preservePaths: true, file: archive, cwd: join(tree, 'top', 'flowers') }, [
      'daisy',
      'roses',
      '../escape.jpg',
      absolute,
    ]);
    const { report, datasets } = await runSeed(['--dataset', archive, '--persist-to', join(work, 'state-evil')]);
    expect(report.exitCode).toBe(0);
    expect(datasets[0].skipped).toEqual([
      { file: '../escape.jpg', reason: 'archive entry that leads outside the archive\'s folder (".." or an absolute path): not unpacked' },
      { file: absolute, reason: 'archive entry that leads outside the archive\'s folder (".." or an absolute path): not unpacked' },
    ]);
    expect(datasetRecordOf(datasets[0].manifest!)).toMatchObject({ classes: ['daisy', 'roses'], classCounts: [2, 2] });
  });

  it('skips a class whose name is too long and a file whose path is too long, keeping the rest of the dataset', async () => {
    const root = join(work, 'long-names');
    const picked = await sampleFiles(FLOWERS, ['daisy', 'roses', 'tulips'], 2);
    await copyClassFolders(root, { daisy: picked.daisy, roses: picked.roses });
    const longClass = 't'.repeat(201);
    await mkdir(join(root, longClass));
    for (const file of picked.tulips) await copyFile(join(FLOWERS, 'tulips', file), join(root, longClass, file));
    const deep = join(root, 'roses', ...Array.from({ length: 5 }, (_, i) => `${i}`.repeat(200)));
    await mkdir(deep, { recursive: true });
    await copyFile(join(FLOWERS, 'roses', picked.roses[0]), join(deep, 'deep.jpg'));
    const deepPath = `${deep.slice(join(root, 'roses').length + 1)}/deep.jpg`;

    const { report, datasets } = await runSeed(['--dataset', root, '--persist-to', join(work, 'state-long')]);
    expect(report.exitCode).toBe(0);
    expect(datasets[0].skipped).toEqual([
      { file: `roses/${deepPath}`, reason: `path below its class folder is ${deepPath.length} characters long: at most 1000 are stored` },
      { file: `${longClass}/`, reason: 'class name is 201 characters long: at most 200 are stored; class left out' },
    ]);
    expect(datasetRecordOf(datasets[0].manifest!)).toMatchObject({ classes: ['daisy', 'roses'], classCounts: [2, 2] });
  });
});

describe('decompression bombs and large photos', () => {
  it('refuses a 776 KB PNG that declares 16000x16000 pixels by its header, and ingests the rest', async () => {
    const root = join(work, 'bomb');
    await linkClassFolders(root, FLOWERS, await sampleFiles(FLOWERS, ['daisy', 'roses'], 2));
    const bomb = join(root, 'daisy', 'bomb.png');
    await writePngBomb(bomb);
    expect((await readFile(bomb)).length).toBeLessThan(1_000_000);

    const { report, datasets } = await runSeed(['--dataset', root, '--follow-links', '--persist-to', join(work, 'state-bomb')]);
    expect(report.exitCode).toBe(0);
    expect(datasets[0].skipped).toEqual([
      {
        file: 'daisy/bomb.png',
        reason:
          '16000x16000 is 256.0 megapixels, more than the 50.0 megapixels an image may have: not decoded (a decompression bomb, or a photo to shrink first)',
      },
    ]);
    expect(datasetRecordOf(datasets[0].manifest!)).toMatchObject({ classCounts: [2, 2] });
  });

  it('refuses a GIF whose 1x1 screen hides an 8000x6400 frame, in the seed and in the eval\'s decode (one limit)', async () => {
    const gif = craftedGif(1, 1, [{ width: 8000, height: 6400 }]);
    expect(await prepareImage(gif, 256)).toEqual({
      ok: false,
      reason: '8000x6400 is 51.2 megapixels, more than the 50.0 megapixels an image may have: not decoded (a decompression bomb, or a photo to shrink first)',
    });
    const path = join(work, 'hidden-frame.gif');
    await writeFile(path, gif);
    await expect(decodeFile(path)).rejects.toThrow(/pixel limit/);
  });

  it('decodes a 48-megapixel PNG straight into its stored size, never holding its 144 MB of pixels', async () => {
    const photo = join(work, 'large.png');
    const daisy = join(FLOWERS, 'daisy', (await sampleFiles(FLOWERS, ['daisy'], 1)).daisy[0]);
    await sharp(daisy).resize(8000, 6000, { fit: 'fill' }).png({ compressionLevel: 1 }).toFile(photo);
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'test/support/prepare-image-peak.ts', photo, '256'], { cwd: REPO_ROOT });
    const measured = JSON.parse(stdout) as { peakGrowth: number; ok: boolean; reason: string };
    expect(measured).toMatchObject({ ok: true, reason: 'downscaled from 8000x6000 (shorter side 256)' });
    // Decoded at full size, its RGB pixels alone would take 8000 * 6000 * 3 = 144 MB.
    expect(measured.peakGrowth).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('dataset ids from folder names in other scripts, and replacing a stored dataset', () => {
  it('seeds "Цветы" and "花" as two datasets, and replaces a different dataset under the same id only with --replace', async () => {
    const persistTo = join(work, 'state-ids');
    const parent = join(work, 'scripts');
    const [russian, chinese] = [join(parent, 'Цветы'), join(parent, '花')];
    await linkClassFolders(russian, FLOWERS, await sampleFiles(FLOWERS, ['daisy', 'roses'], 2));
    await linkClassFolders(chinese, FLOWERS, await sampleFiles(FLOWERS, ['tulips', 'sunflowers'], 2));
    const first = await runSeed(['--dataset', russian, '--dataset', chinese, '--follow-links', '--persist-to', persistTo]);
    expect(first.report.exitCode).toBe(0);
    const [russianId, chineseId] = first.datasets.map((r) => r.id!);
    expect(russianId).not.toBe(chineseId);

    const stored = async () => {
      const r2 = await openLocalR2(persistTo);
      try {
        const manifests = [];
        for (const id of [russianId, chineseId]) manifests.push(await readJson<DatasetManifest>(r2.bucket, `datasets/${id}/manifest.json`));
        const shards = (await r2.bucket.list({ prefix: 'datasets/' })).objects.map((o) => o.key).filter((k) => k.includes('/shards/'));
        return { names: manifests.map((m) => [m.name, ...m.classes]), shards };
      } finally {
        await r2.dispose();
      }
    };
    const before = await stored();
    expect(before.names).toEqual([
      ['Цветы', 'daisy', 'roses'],
      ['花', 'sunflowers', 'tulips'],
    ]);

    const refused = await runSeed(['--dataset', chinese, '--follow-links', '--dataset-id', russianId, '--persist-to', persistTo]);
    expect(refused.report.exitCode).toBe(1);
    expect(refused.datasets[0].error).toBe(
      `a different dataset is already stored as ${russianId}: give --replace to replace it, or --dataset-id to store this one under another id`,
    );
    expect(await stored()).toEqual(before);

    const replaced = await runSeed(['--dataset', chinese, '--follow-links', '--dataset-id', russianId, '--replace', '--persist-to', persistTo]);
    expect(replaced.report.exitCode).toBe(0);
    expect((await stored()).names).toEqual([
      ['花', 'sunflowers', 'tulips'],
      ['花', 'sunflowers', 'tulips'],
    ]);
    const again = await runSeed(['--dataset', chinese, '--follow-links', '--dataset-id', russianId, '--persist-to', persistTo]);
    expect([again.report.exitCode, again.datasets[0].storedBytes]).toEqual([0, 0]);
  });
});

describe('the seed command line', () => {
  it('documents every flag it accepts in --help', () => {
    expect(parseSeedArgs(['--help'])).toBeNull();
    for (const flag of Object.keys(SEED_FLAGS)) expect(USAGE).toContain(`--${flag} `);
  });

  it('exits 2 with a hint on a bad command line, and 1 when a source is unusable after storing the others', async () => {
    const run = (args: string[]) =>
      promisify(execFile)('npx', ['tsx', 'tools/seed.ts', ...args], { cwd: REPO_ROOT }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const usage = await run(['--dataset', 'a', '--dataset-id', 'x', '--dataset-id', 'y']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--dataset-id was given 2 time(s) for 1 --dataset');
    const missing = join(work, 'no-such-folder');
    const unusable = await run(['--dataset', missing, '--persist-to', join(work, 'state-cli')]);
    expect(unusable.code).toBe(1);
    expect(unusable.stdout).toContain(`error: ${missing} does not exist`);
    // The default base model was stored meanwhile: the command says how to use it.
    expect(unusable.stdout).toContain('Serve this state with `npx vite build && npx tsx tools/serve.ts --persist-to');
  });
});

describe('seeding from URLs: a .tgz of class folders and a model.json', () => {
  let www: { origin: string; close(): Promise<void> };
  let r2: Awaited<ReturnType<typeof openLocalR2>>;
  let picked: Record<string, string[]>;
  let run: Awaited<ReturnType<typeof runSeed>>;

  beforeAll(async () => {
    // Like flower_photos.tgz: one top folder holding the class folders and a LICENSE.txt.
    const tree = join(work, 'archive-tree');
    picked = await sampleFiles(FLOWERS, ['daisy', 'tulips'], 4);
    await linkClassFolders(join(tree, 'flower_photos'), FLOWERS, picked);
    await symlink(join(SHARED, 'datasets', 'flowers_ATTRIBUTION.txt'), join(tree, 'flower_photos', 'LICENSE.txt'));
    const site = join(work, 'www');
    await mkdir(site);
    await tar.c({ gzip: true, follow: true, file: join(site, 'flower_photos.tgz'), cwd: tree }, ['flower_photos']);
    await symlink(join(SHARED, 'models'), join(site, 'models'));
    www = await serveDirectory(site);

    const persistTo = join(work, 'state-urls');
    run = await runSeed([
      '--dataset', `${www.origin}/flower_photos.tgz`,
      '--dataset', `${www.origin}/missing.tgz`,
      '--model', `${www.origin}/models/mobilenet_v1_0.25_224/model.json`,
      '--persist-to', persistTo,
    ]);
    r2 = await openLocalR2(persistTo);
  });
  afterAll(async () => {
    await r2?.dispose();
    await www?.close();
  });

  it('unpacks the archive, takes its single top folder as the dataset and skips the LICENSE.txt beside the classes', async () => {
    const [model, dataset, missing] = run.report.results;
    expect([dataset.id, dataset.error]).toEqual(['flower_photos', undefined]);
    expect(dataset.skipped).toEqual([
      { file: 'LICENSE.txt', reason: 'file in the dataset root: only files inside class folders are images' },
    ]);
    const manifest = await readJson<DatasetManifest>(r2.bucket, 'datasets/flower_photos/manifest.json');
    expect(datasetRecordOf(manifest)).toMatchObject({ name: 'flower_photos', classes: ['daisy', 'tulips'], classCounts: [4, 4] });
    expect(manifest.images.map((i) => i.file)).toEqual([...picked.daisy, ...picked.tulips]);
    expect(missing.error).toBe(`cannot download ${www.origin}/missing.tgz: HTTP 404 Not Found`);
    expect(run.report.exitCode).toBe(1);
    expect(model.error).toBeUndefined();
  });

  it('fetches a model.json URL with its 55 weight files and stores the same model as from the folder', async () => {
    const modelJson = await readJson<LayersModelJson>(r2.bucket, 'models/mobilenet_v1_0.25_224/model.json');
    expect(modelJson.userDefinedMetadata.graft.weightsHash).toBe(await noticeWeightsHash(MODEL_V1));
    expect(run.output).toContain('in 1 file(s) (was 55)');
    const model = await loadStoredModel(r2.bucket, 'mobilenet_v1_0.25_224');
    expect(model.layers.length).toBe(88);
    model.dispose();
  });
});
