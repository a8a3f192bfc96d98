/**
 * Publishing under the real `wrangler dev` (tools/graft-server.ts) with PUBLISH=open: a visitor publishes through
 * the pages' client module running in Node, the host manages it with `npm run publish` (list, pin, unpin,
 * delete), wrangler dev's rate-limiting binding refuses a client over the limit, and /m/<id> is a static asset.
 * Needs the built page (dist/client): `npx vite build`, which `npm test` runs first.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublicationError, publicationsApi, runnableModel, type PublishInput } from '../../client/api/publications';
import type { PublishResult } from '../../shared/publication';
import { startGraft, type GraftServer } from '../../tools/graft-server';
import { DEFAULT_REMOTE, parsePublishArgs, runPublishCli, UsageError } from '../../tools/publications/cli';
import { CARD, smallTflite } from '../support/publication-fixture';

const CATS = fileURLToPath(new URL('../../../shared/datasets/cats_vs_dogs/cats/', import.meta.url));

/** The client module in Node, as the visitor at `address` (CF-Connecting-IP, which wrangler dev passes on). */
const clientFrom = (origin: string, address: string) =>
  publicationsApi({ origin, fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'CF-Connecting-IP': address } }) });

async function runCli(argv: string[], token: string) {
  const lines: string[] = [];
  const code = await runPublishCli(parsePublishArgs(argv)!, (line) => lines.push(line), { GRAFT_ADMIN_TOKEN: token });
  return { code, output: lines.join('\n') };
}

describe('publishing under wrangler dev with PUBLISH=open, managed with npm run publish', () => {
  const token = randomBytes(16).toString('hex');
  let work: string;
  let server: GraftServer;
  let input: PublishInput;
  let published: PublishResult;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'graft-publish-'));
    server = await startGraft({ persistTo: join(work, 'state'), adminToken: token, vars: { PUBLISH: 'open' } });
    input = {
      name: 'Cats or dogs?',
      description: 'Published from Node.',
      card: CARD,
      models: [smallTflite('int8'), smallTflite('float32')],
      runs: 'float32',
      examples: [{ class: 'cats', jpeg: new Uint8Array(await readFile(join(CATS, 'cat.103.jpg'))) }],
    };
    published = await clientFrom(server.origin, '192.0.2.10').publish(input);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('a visitor publishes without a token; the record and the file the page runs come back, hash-checked', async () => {
    const client = clientFrom(server.origin, '192.0.2.10');
    expect(await client.policy()).toEqual({ mode: 'open', maxBytes: 8388608, ttlDays: 30 });
    expect(published.path).toBe(`/m/${published.id}`);
    const record = (await client.record(published.id))!;
    expect([record.name, record.pinned, record.runs]).toEqual(['Cats or dogs?', false, 'float32']);
    const model = runnableModel(record);
    expect(await client.file(record, model.name)).toEqual(input.models[1]!.file);
  });

  it('--list shows it with its link and expiry; --json gives the same list as JSON', async () => {
    const { code, output } = await runCli(['--remote', server.origin, '--list'], token);
    expect(code).toBe(0);
    expect(output).toMatch(new RegExp(`^${server.origin}/m/${published.id}  published \\S+ \\S+  expires \\S+ \\S+  \\d+ kB  "Cats or dogs\\?"$`, 'm'));
    expect(output).toMatch(/^1 publication\(s\), [\d.]+ MB$/m);
    const json = await runCli(['--remote', server.origin, '--list', '--json'], token);
    expect(JSON.parse(json.output)).toEqual([expect.objectContaining({ id: published.id, pinned: false, bytes: published.bytes })]);
  });

  it('--pin keeps it for good, --unpin lets it expire again, --delete unpublishes it and every file', async () => {
    const client = clientFrom(server.origin, '192.0.2.10');
    expect(await runCli(['--remote', server.origin, '--pin', published.id], token)).toEqual({ code: 0, output: `pin ${published.id}: pinned: it no longer expires` });
    expect((await client.record(published.id))!.expiresAt).toBeNull();
    const unpin = await runCli(['--remote', server.origin, '--unpin', published.id], token);
    expect(unpin.output).toMatch(new RegExp(`^unpin ${published.id}: unpinned: it expires \\d{4}-`));
    const record = (await client.record(published.id))!;
    expect(record.pinned).toBe(false);

    expect(await runCli(['--remote', server.origin, '--delete', published.id], token)).toEqual({ code: 0, output: `delete ${published.id}: deleted (4 files)` });
    expect(await client.record(published.id)).toBeNull();
    expect((await fetch(`${server.origin}/api/publications/${published.id}/${record.files[0]!.name}`)).status).toBe(404);
    const again = await runCli(['--remote', server.origin, '--delete', published.id], token);
    expect(again.code).toBe(1);
    expect(again.output).toBe(`delete ${published.id}: refused: 404 there is no publication ${published.id}: it was unpublished, expired or never existed`);
  });

  it('says what is wrong with the token, and when the server cannot be reached', async () => {
    const wrong = await runCli(['--remote', server.origin, '--list'], 'not-the-token');
    expect(wrong).toEqual({ code: 1, output: 'list: refused: 401 the admin token is wrong (check GRAFT_ADMIN_TOKEN)' });
    const none = await runPublishCli(parsePublishArgs(['--list'])!, () => {}, {});
    expect(none).toBe(1);
    const unreachable = await runCli(['--remote', 'http://127.0.0.1:9', '--list'], token);
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toMatch(/^list: cannot reach http:\/\/127\.0\.0\.1:9: .+ \(is the server running\?\)$/);
  });

  it("wrangler dev's rate limiter: the 6th publication of a client within a minute gets 429 with Retry-After", async () => {
    // The limiter counts in fixed one-minute windows: start early in one, so all six fall in it.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoWindow));
    const client = clientFrom(server.origin, '198.51.100.77');
    const outcomes: (string | number)[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(await client.publish(input).then(() => 201, (error: PublicationError) => `${error.status} ${error.retryAfter} ${error.message}`));
    }
    expect(outcomes).toEqual([201, 201, 201, 201, 201, '429 60 too many publications from your address: try again in 60 seconds']);
  });

  it('/m/<id> is answered by the static assets with headers that let any site frame it, never by the Worker', async () => {
    const res = await fetch(`${server.origin}/m/${'A'.repeat(22)}`, { headers: { 'Sec-Fetch-Mode': 'navigate' } });
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(res.headers.get('content-security-policy')).not.toContain("frame-ancestors 'none'");
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('content-type') ?? '').not.toContain('application/json');
    await res.arrayBuffer();
  });
});

describe('the command line of npm run publish', () => {
  const id = 'Ab0_-Ab0_-Ab0_-Ab0_-Ab';

  it('reads the actions and the remote, with the local server as the default', () => {
    expect(parsePublishArgs(['--list'])).toEqual({ list: true, json: false, pin: [], unpin: [], delete: [], origin: DEFAULT_REMOTE });
    expect(parsePublishArgs(['--pin', id, '--delete', id, '--delete', id, '--remote', 'https://g.example.dev/path'])).toEqual({
      list: false,
      json: false,
      pin: [id],
      unpin: [],
      delete: [id, id],
      origin: 'https://g.example.dev',
    });
    expect(parsePublishArgs(['--help'])).toBeNull();
  });

  it.each([
    [[], 'give at least one of --list, --pin, --unpin, --delete'],
    [['--delete', 'x'], '--delete x is not a publication id (22 letters, digits, "-" or "_", as in /m/<id>)'],
    [['--json', '--pin', id], '--json goes with --list'],
    [['--list', '--remote', 'not a url'], '--remote not a url is not a URL (expected e.g. https://graft.example.workers.dev)'],
    [['--list', '--force'], /Unknown option '--force'/],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parsePublishArgs(argv as string[])).toThrow(UsageError);
    expect(() => parsePublishArgs(argv as string[])).toThrow(message);
  });
});
