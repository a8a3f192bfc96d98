/**
 * `npm run publish`: the host's view of the classifiers published on a Graft (`/m/<id>` links): list them, pin
 * (never expire) or unpin them, delete them. Talks to the API of a running Graft with the admin token from
 * GRAFT_ADMIN_TOKEN, through the same client module as the pages (client/api/publications.ts).
 */
import { parseArgs } from 'node:util';
import { PublicationError, publicationsApi } from '../../client/api/publications';
import { PUBLICATION_ID, publicationPath, type PublicationSummary } from '../../shared/publication';

export const DEFAULT_REMOTE = 'http://127.0.0.1:8787';

export const USAGE = `Usage: npm run publish -- [--list] [--pin <id>] [--unpin <id>] [--delete <id>] [--remote <origin>]

Manages the classifiers published on a Graft: the /m/<id> links visitors (or you) made from the trainer's page.

Actions (any together, done in this order: pin, unpin, delete, list; each may be repeated):
  --pin <id>          Keep a publication for good: it no longer expires.
  --unpin <id>        Let it expire again, PUBLISH_TTL_DAYS (default 30) from now.
  --delete <id>       Unpublish it: its record and every file are deleted, its link shows the "unpublished" page.
  --list              List every publication, newest first: link, published, expiry (or pinned), size, name.
  --json              With --list: print the list as JSON instead.

Target:
  --remote <origin>   The Graft to manage. Default ${DEFAULT_REMOTE} (\`npm start\`).
                      The admin token is read from the environment variable GRAFT_ADMIN_TOKEN (for \`npm start\`,
                      the one in .dev.vars).

  -h, --help          Show this text.

Examples:
  GRAFT_ADMIN_TOKEN=... npm run publish -- --list
  GRAFT_ADMIN_TOKEN=... npm run publish -- --remote https://graft.example.workers.dev --pin 3q2-7wEjhfRqTmGgYx5UQw`;

export interface PublishCliOptions {
  list: boolean;
  json: boolean;
  pin: string[];
  unpin: string[];
  delete: string[];
  origin: string;
}

/** A command line that cannot be run; the message says what to change. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `argv` (without node and script); null means --help was asked for. */
export function parsePublishArgs(argv: string[]): PublishCliOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        list: { type: 'boolean' },
        json: { type: 'boolean' },
        pin: { type: 'string', multiple: true },
        unpin: { type: 'string', multiple: true },
        delete: { type: 'string', multiple: true },
        remote: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const ids = (flag: 'pin' | 'unpin' | 'delete') =>
    (values[flag] ?? []).map((id) => {
      if (!PUBLICATION_ID.test(id)) throw new UsageError(`--${flag} ${id} is not a publication id (22 letters, digits, "-" or "_", as in /m/<id>)`);
      return id;
    });
  const options = { list: values.list ?? false, json: values.json ?? false, pin: ids('pin'), unpin: ids('unpin'), delete: ids('delete') };
  if (!options.list && options.pin.length + options.unpin.length + options.delete.length === 0) {
    throw new UsageError('give at least one of --list, --pin, --unpin, --delete');
  }
  if (options.json && !options.list) throw new UsageError('--json goes with --list');
  let origin: string;
  try {
    origin = new URL(values.remote ?? DEFAULT_REMOTE).origin;
  } catch {
    throw new UsageError(`--remote ${values.remote} is not a URL (expected e.g. https://graft.example.workers.dev)`);
  }
  return { ...options, origin };
}

/** Runs the actions; returns the exit code (0: all done, 1: something was refused or failed). */
export async function runPublishCli(
  options: PublishCliOptions,
  log: (line: string) => void = console.log,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const token = env.GRAFT_ADMIN_TOKEN;
  if (!token) {
    log('error: set the admin token in the environment variable GRAFT_ADMIN_TOKEN (it is never read from a flag, so it stays out of shell history)');
    return 1;
  }
  const api = publicationsApi({ origin: options.origin });
  const admin = { adminToken: token };
  let failures = 0;
  const attempt = async (what: string, action: () => Promise<string>) => {
    try {
      log(`${what}: ${await action()}`);
    } catch (error) {
      failures++;
      log(`${what}: ${failureOf(error, options.origin)}`);
    }
  };
  for (const id of options.pin) await attempt(`pin ${id}`, async () => ((await api.setPinned(id, true, admin)), 'pinned: it no longer expires'));
  for (const id of options.unpin) {
    await attempt(`unpin ${id}`, async () => `unpinned: it expires ${(await api.setPinned(id, false, admin)).expiresAt}`);
  }
  for (const id of options.delete) await attempt(`delete ${id}`, async () => `deleted (${await api.unpublish(id, admin)} files)`);
  if (options.list) {
    try {
      const list = await api.list(admin);
      if (options.json) log(JSON.stringify(list, null, 2));
      else for (const line of listLines(list, options.origin)) log(line);
    } catch (error) {
      failures++;
      log(`list: ${failureOf(error, options.origin)}`);
    }
  }
  return failures > 0 ? 1 : 0;
}

/** One line a publication, then a total. */
export function listLines(list: readonly PublicationSummary[], origin: string): string[] {
  const lines = list.map((p) => {
    const expiry = p.pinned ? 'pinned' : `expires ${p.expiresAt?.slice(0, 16).replace('T', ' ')}`;
    return `${origin}${publicationPath(p.id)}  published ${p.createdAt.slice(0, 16).replace('T', ' ')}  ${expiry}  ${(p.bytes / 1024).toFixed(0)} kB  ${JSON.stringify(p.name)}`;
  });
  const bytes = list.reduce((sum, p) => sum + p.bytes, 0);
  return [...lines, `${list.length} publication(s), ${(bytes / (1024 * 1024)).toFixed(1)} MB`];
}

function failureOf(error: unknown, origin: string): string {
  if (!(error instanceof PublicationError)) throw error;
  if (error.status === 0) return `cannot reach ${origin}: ${error.message} (is the server running?)`;
  const hint = error.status === 401 || error.status === 403 ? ' (check GRAFT_ADMIN_TOKEN)' : '';
  return `refused: ${error.status} ${error.message}${hint}`;
}
