/**
 * The defaults this repository carries in defaults/: the photos are the ones its README's rule picks from
 * ../shared, byte for byte, each with its attribution line; the base model is ../shared's with its notice and
 * licence; all of it fits the budget. Then how they are stored: a seed given no source stores both, one given
 * only a dataset stores the base with it, and `npm start`'s step seeds a new state once and leaves it alone after.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetManifest } from '../../shared/records';
import { DEFAULT_MODEL_DIR, DEMO_DATASET_DIR } from '../../tools/ingest/defaults';
import { SEEDED_STAMP, seedNewState } from '../../tools/ingest/new-state';
import { parseSeedArgs } from '../../tools/ingest/options';
import { seed } from '../../tools/ingest/run';
import { FLOWERS, MODEL_V2, REPO_ROOT, SHARED, linkClassFolders, openLocalR2, readJson, sampleFiles } from '../support/ingest-fixtures';

const PHOTOS_PER_CLASS = 40;
/** The largest photo the demo takes: 40 of them per class fit the budget beside the model. */
const MAX_PHOTO_BYTES = 18_000;
const BUDGET_BYTES = 5_000_000;
const MAX_TRACKED_FILE_BYTES = 4 * 1024 * 1024;
const ATTRIBUTION = join(REPO_ROOT, 'defaults', 'flowers-demo-ATTRIBUTION.txt');

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const byMd5 = (a: string, b: string) => (md5(a) < md5(b) ? -1 : md5(a) > md5(b) ? 1 : 0);

/** The rule of defaults/README.md: per class, in the order of the MD5 of the file name, the first 40 of at most 18,000 bytes. */
async function demoRule(): Promise<Record<string, string[]>> {
  const picked: Record<string, string[]> = {};
  for (const name of (await readdir(FLOWERS)).sort()) {
    const files = await readdir(join(FLOWERS, name));
    const sizes = await Promise.all(files.map(async (file) => (await stat(join(FLOWERS, name, file))).size));
    picked[name] = files.filter((_, i) => sizes[i] <= MAX_PHOTO_BYTES).sort(byMd5).slice(0, PHOTOS_PER_CLASS).sort();
  }
  return picked;
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the defaults in the repository', () => {
  it('are the demo photos the rule picks from ../shared, byte for byte', async () => {
    const expected = await demoRule();
    const classes = (await readdir(DEMO_DATASET_DIR)).sort();
    expect(classes).toEqual(['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']);
    for (const name of classes) {
      const files = (await readdir(join(DEMO_DATASET_DIR, name))).sort();
      expect(files, name).toEqual(expected[name]);
      for (const file of files) {
        const [ours, theirs] = await Promise.all([readFile(join(DEMO_DATASET_DIR, name, file)), readFile(join(FLOWERS, name, file))]);
        expect(Buffer.compare(ours, theirs), `${name}/${file}`).toBe(0);
      }
    }
  });

  it('credit every photo with the line of the dataset’s own attribution file, under the licence', async () => {
    const lines = (await readFile(ATTRIBUTION, 'utf8')).trimEnd().split('\n');
    const credits = lines.filter((line) => /^[a-z]+\/\S+\.jpg /.test(line));
    const shared = new Map(
      (await readFile(join(SHARED, 'datasets', 'flowers_ATTRIBUTION.txt'), 'utf8')).split('\n').map((line) => [line.split(' ')[0], line]),
    );
    const photos = Object.entries(await demoRule()).flatMap(([name, files]) => files.map((file) => `${name}/${file}`));
    expect(credits).toEqual(photos.map((photo) => shared.get(photo)));
    expect(lines.slice(0, lines.length - credits.length).join('\n')).toContain('https://creativecommons.org/licenses/by/2.0/');
  });

  it('carry the base model of ../shared with its notice and its licence', async () => {
    for (const file of ['model.json', 'group1-shard1of1.bin', 'NOTICE.txt']) {
      const [ours, theirs] = await Promise.all([readFile(join(DEFAULT_MODEL_DIR, file)), readFile(join(MODEL_V2, file))]);
      expect(Buffer.compare(ours, theirs), file).toBe(0);
    }
    expect(await readFile(join(DEFAULT_MODEL_DIR, 'LICENSE.txt'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });

  it('fit in 5 MB, and no file the repository tracks is over 4 MB', async () => {
    const files = await filesBelow(join(REPO_ROOT, 'defaults'));
    const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BUDGET_BYTES);
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    const large = [];
    for (const file of tracked) {
      const size = (await stat(join(REPO_ROOT, file)).catch(() => null))?.size ?? 0;
      if (size > MAX_TRACKED_FILE_BYTES) large.push(`${file}: ${size} bytes`);
    }
    expect(large).toEqual([]);
  });
});

describe('storing the defaults', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'graft-defaults-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  const runSeed = async (args: string[]) => {
    const lines: string[] = [];
    const report = await seed(parseSeedArgs(args)!, (line) => lines.push(line));
    return { report, output: lines.join('\n') };
  };

  it('a seed given no source stores the base model and the demo dataset; given only a dataset, the base with it', async () => {
    const bare = await runSeed(['--persist-to', join(work, 'bare')]);
    expect(bare.report.exitCode).toBe(0);
    expect(bare.report.results.map((r) => [r.kind, r.id, r.skipped.length])).toEqual([
      ['model', 'mobilenet_v2_0.35_224_no_top', 0],
      ['dataset', 'flowers-demo', 0],
    ]);
    expect(bare.output).toContain('daisy 40, dandelion 40, roses 40, sunflowers 40, tulips 40');

    const mine = join(work, 'mine');
    await linkClassFolders(mine, FLOWERS, await sampleFiles(FLOWERS, ['daisy', 'roses'], 3));
    const datasetOnly = await runSeed(['--dataset', mine, '--follow-links', '--persist-to', join(work, 'mine-state')]);
    expect(datasetOnly.report.results.map((r) => [r.kind, r.id])).toEqual([
      ['model', 'mobilenet_v2_0.35_224_no_top'],
      ['dataset', 'mine'],
    ]);
  });

  it('npm start seeds a new state once, says what it stored, and leaves the store alone after, deletions included', async () => {
    const state = join(work, 'start-state');
    const lines: string[] = [];
    expect(await seedNewState(state, (line) => lines.push(line))).toBe(0);
    expect(lines.join('\n')).toContain('Seeded the base model mobilenet_v2_0.35_224_no_top and the demo dataset flowers-demo.');
    expect(JSON.parse(await readFile(join(state, SEEDED_STAMP), 'utf8'))).toMatchObject({
      models: ['mobilenet_v2_0.35_224_no_top'],
      datasets: ['flowers-demo'],
    });

    const r2 = await openLocalR2(state);
    try {
      const manifest = await readJson<DatasetManifest>(r2.bucket, 'datasets/flowers-demo/manifest.json');
      expect(manifest.images).toHaveLength(200);
      // The store's owner deletes the demo dataset from the list.
      await r2.bucket.delete('index/datasets/flowers-demo.json');
    } finally {
      await r2.dispose();
    }

    const again: string[] = [];
    expect(await seedNewState(state, (line) => again.push(line))).toBe(0);
    expect(again).toEqual([expect.stringMatching(/^The defaults \(mobilenet_v2_0\.35_224_no_top and flowers-demo\) were seeded into .* on \d{4}-\d\d-\d\d: the store is left as it is\.$/)]);
    const after = await openLocalR2(state);
    try {
      expect(await after.bucket.head('index/datasets/flowers-demo.json')).toBeNull();
      expect(await after.bucket.head('index/models/mobilenet_v2_0.35_224_no_top.json')).not.toBeNull();
    } finally {
      await after.dispose();
    }
  });

  it('takes a damaged stamp for a seeded store too, and says so', async () => {
    const state = join(work, 'damaged-stamp');
    await mkdir(state);
    await writeFile(join(state, SEEDED_STAMP), '{"seededAt": ');
    const lines: string[] = [];
    expect(await seedNewState(state, (line) => lines.push(line))).toBe(0);
    expect(lines).toEqual([`${join(state, SEEDED_STAMP)} cannot be read, but says the defaults were seeded: the store is left as it is.`]);
    expect(await readdir(state)).toEqual([SEEDED_STAMP]);
  });
});
