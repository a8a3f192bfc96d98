/**
 * `npm start`'s first step: a local state folder that was never seeded gets the repository's defaults (the base
 * model and the demo dataset of defaults/, as a bare `npm run seed` stores them), so a newcomer's first page can
 * train. A stamp in the folder records it: later starts leave the store as it is (what its owner deleted stays
 * deleted) and cost no more than reading the stamp. Deleting the folder starts over.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSeedArgs } from './options';

/** Written into the state folder once its defaults are stored. */
export const SEEDED_STAMP = 'defaults-seeded.json';

interface Stamp {
  seededAt: string;
  models: string[];
  datasets: string[];
}

/** Seeds the defaults into `persistTo` unless its stamp says it was done; returns the seed's exit code (0 when skipped). */
export async function seedNewState(persistTo: string, log: (line: string) => void = console.log): Promise<number> {
  const stampPath = join(persistTo, SEEDED_STAMP);
  const text = await readFile(stampPath, 'utf8').catch(() => null);
  if (text !== null) {
    const stamp = parseStamp(text);
    const what = stamp
      ? `The defaults (${[...stamp.models, ...stamp.datasets].join(' and ')}) were seeded into ${persistTo} on ${stamp.seededAt.slice(0, 10)}`
      : `${stampPath} cannot be read, but says the defaults were seeded`;
    log(`${what}: the store is left as it is.`);
    return 0;
  }
  log(`A new local store: seeding the defaults this repository carries into ${persistTo}.`);
  // Loaded only now: wrangler takes seconds to import, and a start with nothing to seed should not wait for it.
  const { seed } = await import('./run');
  const report = await seed(parseSeedArgs(['--persist-to', persistTo])!, log);
  if (report.exitCode !== 0) return report.exitCode;
  const ids = (kind: 'model' | 'dataset') => report.results.filter((r) => r.kind === kind).map((r) => r.id!);
  const seeded: Stamp = { seededAt: new Date().toISOString(), models: ids('model'), datasets: ids('dataset') };
  await writeFile(stampPath, `${JSON.stringify(seeded, null, 2)}\n`);
  log(`Seeded the base model ${seeded.models.join(', ')} and the demo dataset ${seeded.datasets.join(', ')}.`);
  return 0;
}

function parseStamp(text: string): Stamp | null {
  try {
    const stamp = JSON.parse(text) as Stamp;
    return typeof stamp.seededAt === 'string' && Array.isArray(stamp.models) && Array.isArray(stamp.datasets) ? stamp : null;
  } catch {
    return null;
  }
}
