/**
 * Expiry through the Cron Trigger's scheduled handler, and requests racing on one publication: a DELETE during a
 * publish, a pin during a DELETE or the sweep, two DELETEs. Storage calls are stepped as in races.test.ts (one
 * request paused before each of its calls in turn while the other runs whole). Whatever the interleaving, a
 * publication whose record is served has every file, and one that is gone has none left.
 */
import { createExecutionContext, createScheduledController, reset, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PublicationManifest, PublishResult } from '../../shared/publication';
import worker, { app } from '../../worker/index';
import { api, pausingEnv, storedKeys } from './api';
import { ADMIN, builtPublication, openEnv, postPublication } from './publication-fixtures';

beforeEach(() => reset());

const DAY_MS = 24 * 3600_000;
const PIN = { method: 'PATCH', headers: { ...ADMIN, 'Content-Type': 'application/json' }, body: '{"pinned":true}' };

async function sweepAt(time: number, bindings: object = env) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: time, cron: '17 * * * *' }), bindings as typeof env, ctx);
  await waitOnExecutionContext(ctx);
}

async function publish(bindings: object = env, headers: Record<string, string> = ADMIN) {
  const built = await builtPublication();
  const res = await postPublication(built.form, headers, bindings);
  expect(res.status).toBe(201);
  return { ...((await res.json()) as PublishResult), manifest: built.manifest };
}

let visitors = 0;
/** A new client address each time: the rate limiter's counts outlive reset(). */
const visitor = () => ({ 'CF-Connecting-IP': `10.19.${visitors >> 8}.${visitors++ & 255}` });

/** Served whole (record and every file) or gone whole (neither): what a visitor of /m/<id> may ever see. */
async function expectWholeOrGone(id: string, manifest: PublicationManifest, when: string): Promise<'whole' | 'gone'> {
  const record = (await api(`/api/publications/${id}`)).status;
  expect([when, [200, 404].includes(record)]).toEqual([when, true]);
  for (const file of manifest.files) {
    const status = (await api(`/api/publications/${id}/${file.name}`, { method: 'HEAD' })).status;
    if (record === 200) expect([when, file.name, status]).toEqual([when, file.name, 200]);
  }
  return record === 200 ? 'whole' : 'gone';
}

/** After a request settled: gone means no file is left either. */
async function expectSettled(id: string, manifest: PublicationManifest, when: string) {
  if ((await expectWholeOrGone(id, manifest, when)) === 'gone') {
    expect([when, (await storedKeys()).filter((key) => key.startsWith(`publications/${id}/`))]).toEqual([when, []]);
  }
}

describe('the scheduled sweep (Cron Trigger)', () => {
  it('deletes open publications once expired, with their files; pinned ones stay', async () => {
    const open = await publish(openEnv(), visitor());
    const admin = await publish();
    await sweepAt(Date.now() + 29 * DAY_MS);
    expect((await api(`/api/publications/${open.id}`)).status).toBe(200);
    await sweepAt(Date.now() + 31 * DAY_MS);
    expect((await api(`/api/publications/${open.id}`)).status).toBe(404);
    for (const file of open.manifest.files) expect((await api(`/api/publications/${open.id}/${file.name}`)).status).toBe(404);
    expect((await api(`/api/publications/${admin.id}`)).status).toBe(200);
    expect((await storedKeys()).filter((key) => key.includes(open.id))).toEqual([`index/publications/${open.id}.json`]);
  });

  it('keeps an open publication the admin pinned', async () => {
    const open = await publish(openEnv(), visitor());
    expect((await api(`/api/publications/${open.id}`, PIN)).status).toBe(200);
    await sweepAt(Date.now() + 365 * DAY_MS);
    expect((await api(`/api/publications/${open.id}`)).status).toBe(200);
  });

  it('serves an expired publication as 404 before the sweep has run; its delete key still removes it', async () => {
    const short = openEnv({ PUBLISH_TTL_DAYS: String(0.5 / (24 * 3600)) });
    const open = await publish(short, visitor());
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await api(`/api/publications/${open.id}`)).status).toBe(404);
    const res = await api(`/api/publications/${open.id}`, { method: 'DELETE', headers: { 'Graft-Delete-Key': open.deleteKey } });
    expect(res.status).toBe(200);
  });

  it('removes files an interrupted upload left without a record (after an hour), and old deleted markers (after a day)', async () => {
    await env.STORE.put('publications/BBBBBBBBBBBBBBBBBBBBBB/model-int8-0123456789abcdef0123456789abcdef.tflite', 'TFL3');
    const gone = await publish();
    expect((await api(`/api/publications/${gone.id}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    const kept = await publish();
    await sweepAt(Date.now());
    expect((await storedKeys()).some((key) => key.startsWith('publications/BBBBBBBBBBBBBBBBBBBBBB/'))).toBe(true);
    await sweepAt(Date.now() + 2 * 3600_000);
    expect((await storedKeys()).some((key) => key.startsWith('publications/BBBBBBBBBBBBBBBBBBBBBB/'))).toBe(false);
    expect(await storedKeys()).toContain(`index/publications/${gone.id}.json`);
    await sweepAt(Date.now() + 2 * DAY_MS);
    const left = await storedKeys();
    expect(left.filter((key) => key.startsWith('index/'))).toEqual([`index/publications/${kept.id}.json`]);
    expect(await expectWholeOrGone(kept.id, kept.manifest, 'kept')).toBe('whole');
  });
});

/** Runs `round(step)` for step 0, 1, ... on fresh storage until the paused request no longer reaches its pause. */
async function atEveryStep(round: (step: number) => Promise<boolean>) {
  for (let step = 0; ; step++) {
    await reset();
    if (!(await round(step))) return;
  }
}

describe('requests racing on one publication', () => {
  it('a DELETE during a publish: the publish is whole (201) or refused (409) and leaves nothing', () =>
    atEveryStep(async (step) => {
      const built = await builtPublication();
      let deleted: string | null = null;
      const stepped = pausingEnv(step, async () => {
        // The id is secret until the 201; a DELETE can only race the upload once files under it exist.
        const key = (await storedKeys()).find((k) => k.startsWith('publications/'));
        if (key === undefined) return;
        deleted = key.split('/')[1]!;
        expect([200, 404]).toContain((await api(`/api/publications/${deleted}`, { method: 'DELETE', headers: ADMIN })).status);
        await expectWholeOrGone(deleted, built.manifest, `during the publish, before its call ${step}`);
      });
      const res = await app.request('/api/publications', { method: 'POST', body: built.form, headers: ADMIN }, stepped.env);
      expect([step, [201, 409].includes(res.status)]).toEqual([step, true]);
      const id = res.status === 201 ? ((await res.json()) as PublishResult).id : deleted;
      if (id !== null) await expectSettled(id, built.manifest, `after both, the DELETE before publish call ${step}`);
      if (res.status === 409) expect(await storedKeys()).toEqual([`index/publications/${deleted}.json`]);
      return stepped.paused();
    }));

  it('a pin during a DELETE: deleted whole, or (409) kept whole and pinned', () =>
    atEveryStep(async (step) => {
      const published = await publish(openEnv(), visitor());
      const stepped = pausingEnv(step, async () => {
        expect([200, 404, 409]).toContain((await api(`/api/publications/${published.id}`, PIN)).status);
        await expectWholeOrGone(published.id, published.manifest, `during the DELETE, before its call ${step}`);
      });
      const headers = { 'Graft-Delete-Key': published.deleteKey };
      const res = await app.request(`/api/publications/${published.id}`, { method: 'DELETE', headers }, stepped.env);
      expect([step, [200, 404, 409].includes(res.status)]).toEqual([step, true]);
      await expectSettled(published.id, published.manifest, `after both, pin before DELETE call ${step}`);
      if (res.status === 409) expect(((await (await api(`/api/publications/${published.id}`)).json()) as { pinned: boolean }).pinned).toBe(true);
      return stepped.paused();
    }));

  it('a DELETE during a pin: the pin (409) never brings back a deleted publication', () =>
    atEveryStep(async (step) => {
      const published = await publish(openEnv(), visitor());
      const stepped = pausingEnv(step, async () => {
        const headers = { 'Graft-Delete-Key': published.deleteKey };
        expect((await api(`/api/publications/${published.id}`, { method: 'DELETE', headers })).status).toBe(200);
      });
      const res = await app.request(`/api/publications/${published.id}`, PIN, stepped.env);
      expect([step, [200, 404, 409].includes(res.status)]).toEqual([step, true]);
      // Once the pin has no call left to pause before, no DELETE ran: there is nothing more to try.
      if (!stepped.paused()) return false;
      expect([step, res.status, await expectWholeOrGone(published.id, published.manifest, `the pin paused before its call ${step}`)]).toEqual([step, res.status, 'gone']);
      await expectSettled(published.id, published.manifest, `the pin paused before its call ${step}`);
      return stepped.paused();
    }));

  it('a pin during the sweep of an expired publication: deleted whole, or kept whole and pinned', () =>
    atEveryStep(async (step) => {
      const published = await publish(openEnv(), visitor());
      let pin = 0;
      const stepped = pausingEnv(step, async () => {
        pin = (await api(`/api/publications/${published.id}`, PIN)).status;
        expect([200, 404, 409]).toContain(pin);
      });
      await sweepAt(Date.now() + 31 * DAY_MS, stepped.env);
      const when = `after the sweep, pin (${pin}) before its call ${step}`;
      const state = await expectWholeOrGone(published.id, published.manifest, when);
      await expectSettled(published.id, published.manifest, when);
      // A pin the server accepted is never undone by an expiry decided before it.
      if (pin === 200) expect([when, state]).toEqual([when, 'whole']);
      if (state === 'whole') expect(((await (await api(`/api/publications/${published.id}`)).json()) as { pinned: boolean }).pinned).toBe(true);
      return stepped.paused();
    }));

  it('two DELETEs: it ends gone whole, whichever call of one the other runs before', () =>
    atEveryStep(async (step) => {
      const published = await publish();
      const stepped = pausingEnv(step, async () => {
        expect([200, 404, 409]).toContain((await api(`/api/publications/${published.id}`, { method: 'DELETE', headers: ADMIN })).status);
      });
      const headers = { 'Graft-Delete-Key': published.deleteKey };
      const res = await app.request(`/api/publications/${published.id}`, { method: 'DELETE', headers }, stepped.env);
      expect([step, [200, 404, 409].includes(res.status)]).toEqual([step, true]);
      expect(await expectWholeOrGone(published.id, published.manifest, `step ${step}`)).toBe('gone');
      await expectSettled(published.id, published.manifest, `step ${step}`);
      return stepped.paused();
    }));
});
