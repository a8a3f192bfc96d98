/**
 * A seeded, running Graft for browser tests: a class-folder directory made of real photos from ../shared
 * (symlinks in a temp folder), seeded with the real ingest into a temp state folder, served by the real
 * server (tools/serve.ts, wrangler's dev environment).
 */
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGraft, type GraftServer } from '../../tools/graft-server';
import { parseSeedArgs } from '../../tools/ingest/options';
import { seed } from '../../tools/ingest/run';

export const SHARED = resolve(fileURLToPath(new URL('../../../shared', import.meta.url)));
export const MODEL_V2 = join(SHARED, 'models/mobilenet_v2_0.35_224_no_top');
export const MODEL_V2_ID = 'mobilenet_v2_0.35_224_no_top';

export interface DatasetSpec {
  id: string;
  /** Folder under ../shared/datasets. */
  source: string;
  /** Class folder -> how many of its files (sorted by name) to take. */
  perClass: Record<string, number>;
  /** Class folder -> the class's name in the subset, where it is not the folder's. */
  renamed?: Record<string, string>;
}

/** A class-folder directory of symlinks to the first files of each class. */
export async function classFolderSubset(root: string, spec: DatasetSpec): Promise<string> {
  const dir = join(root, spec.id);
  for (const [name, count] of Object.entries(spec.perClass)) {
    const from = join(SHARED, 'datasets', spec.source, name);
    const to = join(dir, spec.renamed?.[name] ?? name);
    await mkdir(to, { recursive: true });
    const files = (await readdir(from)).sort().slice(0, count);
    await Promise.all(files.map((f) => symlink(join(from, f), join(to, f))));
  }
  return dir;
}

export interface SeededGraft {
  server: GraftServer;
  origin: string;
  close(): Promise<void>;
}

export interface SeedOptions {
  /** Approximate shard size (the seed's --shard-mb): small shards give a small dataset several of them. */
  shardMb?: number;
  /** Model folders seeded beside MobileNetV2 (each under its folder's name as id). */
  extraModels?: string[];
  /** The server's admin token and wrangler.toml [vars] overrides, e.g. { PUBLISH: 'open' }. */
  adminToken?: string;
  vars?: Record<string, string>;
}

export async function seededGraft(datasets: DatasetSpec[], options: SeedOptions = {}): Promise<SeededGraft> {
  const root = await mkdtemp(join(tmpdir(), 'graft-browser-'));
  const state = join(root, 'state');
  // The subsets are links into ../shared, outside their folder: read them.
  const args = ['--model', MODEL_V2, ...(options.extraModels ?? []).flatMap((dir) => ['--model', dir]), '--persist-to', state, '--follow-links'];
  if (options.shardMb !== undefined) args.push('--shard-mb', String(options.shardMb));
  for (const spec of datasets) args.push('--dataset', await classFolderSubset(root, spec), '--dataset-id', spec.id);
  const report = await seed(parseSeedArgs(args)!, () => {});
  if (report.exitCode !== 0) throw new Error(`seeding failed with exit code ${report.exitCode}`);
  const server = await startGraft({ persistTo: state, adminToken: options.adminToken, vars: options.vars });
  return {
    server,
    origin: server.origin,
    async close() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
