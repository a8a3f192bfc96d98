/**
 * Stores a class-folder dataset (and a base model, when given as a folder) into a local state folder with the
 * real ingest (tools/ingest, as `npm run seed` does), and makes class-folder subsets of real photos as symlinks.
 */
import { mkdir, readdir, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSeedArgs } from '../ingest/options';
import { seed } from '../ingest/run';
import type { SkippedFile } from '../../shared/class-folders';

export interface SeededState {
  /** Id of the dataset as stored. */
  datasetId: string;
  /** Id of the model stored from a folder, or null when `model` named an id already stored. */
  modelId: string | null;
  /** Files of the dataset the ingest left out, with why. */
  skipped: SkippedFile[];
}

export const isDirectory = async (path: string): Promise<boolean> => (await stat(path).catch(() => null))?.isDirectory() ?? false;

/** Seeds `dataset` (a class-folder directory) and, when `modelDir` is set, that model into `persistTo`. */
export async function seedState(
  persistTo: string,
  dataset: string,
  modelDir: string | null,
  log: (line: string) => void,
): Promise<SeededState> {
  // A kept state may hold an earlier run's dataset under the same id: a measurement is of what it is given now,
  // and subsets are links to photos elsewhere.
  const args = ['--dataset', dataset, '--persist-to', persistTo, '--replace', '--follow-links', ...(modelDir ? ['--model', modelDir] : [])];
  const report = await seed(parseSeedArgs(args)!, (line) => line && log(`  seed: ${line}`));
  const failed = report.results.filter((r) => r.error !== undefined);
  if (report.targetError) throw new Error(`seeding failed: ${report.targetError}`);
  if (failed.length > 0) throw new Error(`seeding failed: ${failed.map((r) => `${r.source}: ${r.error}`).join('; ')}`);
  const datasetResult = report.results.find((r) => r.kind === 'dataset')!;
  // Without a model folder the seed also stores the repository's default base: that is not the model asked for.
  const modelResult = modelDir ? report.results.find((r) => r.kind === 'model') : undefined;
  return { datasetId: datasetResult.id!, modelId: modelResult?.id ?? null, skipped: datasetResult.skipped };
}

/**
 * `root/<class>/<file>` as symlinks to `perClass` files of each class of a class-folder dataset, spread evenly over
 * each class's sorted files (a stable subset, not just the first names).
 */
export async function linkSubset(root: string, source: string, perClass: number): Promise<string> {
  for (const name of (await readdir(source)).sort()) {
    if (name.startsWith('.') || !(await isDirectory(join(source, name)))) continue;
    const files = (await readdir(join(source, name))).filter((f) => !f.startsWith('.')).sort();
    const take = Math.min(perClass, files.length);
    await mkdir(join(root, name), { recursive: true });
    for (let i = 0; i < take; i++) {
      const file = files[Math.floor((i * files.length) / take)];
      await symlink(join(source, name, file), join(root, name, file));
    }
  }
  return root;
}
