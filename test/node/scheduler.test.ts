/**
 * The farm's work scheduler under a fake clock: every item is done exactly once whatever the workers do
 * (different speeds, dying mid-chunk, replying late), chunks follow each worker's speed, failures are
 * reported, pause/resume/cancel behave, and the ETA follows the recent rate. Items are the shared
 * cats_vs_dogs photos (file names as keys).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkScheduler, type SchedulerOptions } from '../../client/farm/scheduler';

interface Photo {
  key: string;
  file: string;
  view: number;
}

const CATS_DIR = fileURLToPath(new URL('../../../shared/datasets/cats_vs_dogs/cats', import.meta.url));
const ALL_PHOTOS: Photo[] = readdirSync(CATS_DIR)
  .sort()
  .map((file) => ({ key: `cats/${file}|0`, file, view: 0 }));

function photos(count: number): Photo[] {
  return ALL_PHOTOS.slice(0, count);
}

function fakeClock() {
  const clock = { ms: 0, now: () => clock.ms };
  return clock;
}

function schedulerFor(count: number, options: SchedulerOptions = {}) {
  const clock = fakeClock();
  const scheduler = new WorkScheduler(photos(count), { now: clock.now, ...options });
  return { clock, scheduler };
}

/**
 * Runs workers that each take `secondsPerItem` per item until nothing is left, as the farm's driver
 * would: hand out, wait for the reply, report it, ask again. Returns what each worker was handed.
 */
function runToEnd(
  scheduler: WorkScheduler<Photo>,
  clock: { ms: number },
  workers: Record<string, number>,
): { chunks: Record<string, number[]>; newlyDone: number; handedOut: Map<string, number> } {
  const chunks: Record<string, number[]> = Object.fromEntries(Object.keys(workers).map((id) => [id, []]));
  const handedOut = new Map<string, number>();
  const inFlight: { at: number; workerId: string; keys: string[] }[] = [];
  let newlyDone = 0;
  const feed = (workerId: string) => {
    const chunk = scheduler.next(workerId);
    if (!chunk) return;
    chunks[workerId]!.push(chunk.length);
    for (const item of chunk) handedOut.set(item.key, (handedOut.get(item.key) ?? 0) + 1);
    inFlight.push({ at: clock.ms + chunk.length * workers[workerId]! * 1000, workerId, keys: chunk.map((i) => i.key) });
  };
  for (const id of Object.keys(workers)) feed(id);
  while (inFlight.length > 0) {
    inFlight.sort((a, b) => a.at - b.at);
    const reply = inFlight.shift()!;
    clock.ms = reply.at;
    newlyDone += scheduler.complete(reply.workerId, reply.keys);
    feed(reply.workerId);
  }
  return { chunks, newlyDone, handedOut };
}

describe('WorkScheduler', () => {
  it('finishes every item exactly once with three workers at different speeds, the slow one doing least', () => {
    const { clock, scheduler } = schedulerFor(600);
    // 50, 20 and 4 images per second.
    const { chunks, newlyDone, handedOut } = runToEnd(scheduler, clock, { fast: 0.02, medium: 0.05, slow: 0.25 });

    expect(newlyDone).toBe(600);
    expect(handedOut.size).toBe(600);
    expect([...handedOut.values()].every((n) => n === 1)).toBe(true);
    const progress = scheduler.snapshot();
    expect(progress).toMatchObject({ state: 'finished', total: 600, done: 600, failed: [], queued: 0, leased: 0, etaSeconds: 0 });

    const done = Object.fromEntries(progress.workers.map((w) => [w.workerId, w.done]));
    expect(done.fast! + done.medium! + done.slow!).toBe(600);
    expect(done.slow).toBeLessThan(done.medium!);
    expect(done.medium).toBeLessThan(done.fast!);

    // Small first chunks, then half a second of work at each worker's own rate.
    expect(chunks.fast![0]).toBe(2);
    expect(Math.max(...chunks.fast!)).toBe(25);
    expect(Math.max(...chunks.medium!)).toBe(10);
    expect(Math.max(...chunks.slow!)).toBe(2);
    const rates = Object.fromEntries(progress.workers.map((w) => [w.workerId, w.imagesPerSecond!]));
    expect(rates.fast).toBeCloseTo(50, 6);
    expect(rates.medium).toBeCloseTo(20, 6);
    expect(rates.slow).toBeCloseTo(4, 6);
  });

  it('hands a dead worker’s unfinished items to others first, and counts its late reply only once', () => {
    const { clock, scheduler } = schedulerFor(20, { firstChunkSize: 4 });
    const keys = photos(20).map((p) => p.key);
    expect(scheduler.next('a')!.map((p) => p.key)).toEqual(keys.slice(0, 4));
    expect(scheduler.next('b')!.map((p) => p.key)).toEqual(keys.slice(4, 8));
    clock.ms = 300;
    expect(scheduler.complete('a', [keys[0]!])).toBe(1);

    expect(scheduler.workerDied('a')).toBe(3);
    expect(() => scheduler.next('a')).toThrow(/declared dead/);
    // The returned items come first, before anything never handed out.
    expect(scheduler.next('c')!.map((p) => p.key)).toEqual([keys[1], keys[2], keys[3], keys[8]]);

    // The dead worker's features were written after all: its late reply counts for the three it had left...
    clock.ms = 400;
    expect(scheduler.complete('a', keys.slice(0, 4))).toBe(3);
    // ...and the new holder's reply for the same items is ignored, except for the one only it had.
    clock.ms = 500;
    expect(scheduler.complete('c', [keys[1]!, keys[2]!, keys[3]!, keys[8]!])).toBe(1);
    expect(scheduler.complete('b', keys.slice(4, 8))).toBe(4);

    const rest = runToEnd(scheduler, clock, { b: 0.01, c: 0.02 });
    const progress = scheduler.snapshot();
    expect(1 + 3 + 1 + 4 + rest.newlyDone).toBe(20);
    expect(progress).toMatchObject({ state: 'finished', done: 20, leased: 0 });
    expect(progress.workers.reduce((sum, w) => sum + w.done, 0)).toBe(20);
    expect(progress.workers.find((w) => w.workerId === 'a')).toMatchObject({ alive: false, done: 4, leased: 0 });
  });

  it('does not hand out again items a dead worker finished before anyone took them over', () => {
    const { scheduler } = schedulerFor(6, { firstChunkSize: 3 });
    const keys = photos(6).map((p) => p.key);
    scheduler.next('a');
    scheduler.workerDied('a');
    expect(scheduler.complete('a', keys.slice(0, 3))).toBe(3);
    expect(scheduler.next('b')!.map((p) => p.key)).toEqual(keys.slice(3, 6));
    expect(scheduler.next('c')).toBeNull();
    expect(scheduler.complete('b', keys.slice(3, 6))).toBe(3);
    expect(scheduler.snapshot()).toMatchObject({ state: 'finished', done: 6 });
  });

  it('retries a failed item once at the back, then reports it with its reasons instead of retrying forever', () => {
    const { scheduler } = schedulerFor(5, { firstChunkSize: 5 });
    const keys = photos(5).map((p) => p.key);
    scheduler.next('a');
    scheduler.fail('a', keys[1]!, 'undecodable image: bad Huffman table');
    scheduler.fail('a', keys[3]!, 'shard fetch failed: 503');
    expect(scheduler.complete('a', [keys[0]!, keys[2]!, keys[4]!])).toBe(3);
    expect(scheduler.snapshot()).toMatchObject({ state: 'running', queued: 2, done: 3, failed: [] });

    expect(scheduler.next('a')!.map((p) => p.key)).toEqual([keys[1], keys[3]]);
    scheduler.fail('a', keys[1]!, 'undecodable image: bad Huffman table');
    expect(scheduler.complete('a', [keys[3]!])).toBe(1);
    // A late duplicate report changes nothing.
    scheduler.fail('a', keys[1]!, 'again');
    scheduler.fail('a', keys[3]!, 'too late: it is done');

    const progress = scheduler.snapshot();
    expect(progress).toMatchObject({ state: 'finished', total: 5, done: 4, queued: 0, leased: 0 });
    expect(progress.failed).toEqual([
      { key: keys[1], reasons: ['undecodable image: bad Huffman table', 'undecodable image: bad Huffman table'] },
    ]);
    expect(scheduler.next('a')).toBeNull();
  });

  it('pauses handing out while in-flight chunks still report, and resumes', () => {
    const { clock, scheduler } = schedulerFor(10, { firstChunkSize: 3 });
    const first = scheduler.next('a')!;
    scheduler.pause();
    expect(scheduler.next('b')).toBeNull();
    clock.ms = 300;
    expect(scheduler.complete('a', first.map((p) => p.key))).toBe(3);
    expect(scheduler.next('a')).toBeNull();
    expect(scheduler.snapshot()).toMatchObject({ state: 'paused', done: 3, queued: 7, etaSeconds: null });
    scheduler.resume();
    expect(scheduler.next('b')).toHaveLength(3);
  });

  it('cancels: nothing more is handed out, leases are dropped, late replies still count', () => {
    const { scheduler } = schedulerFor(10, { firstChunkSize: 4 });
    const chunk = scheduler.next('a')!;
    scheduler.cancel();
    expect(scheduler.next('a')).toBeNull();
    expect(scheduler.snapshot()).toMatchObject({ state: 'cancelled', leased: 0, queued: 10, etaSeconds: null });
    expect(scheduler.complete('a', chunk.map((p) => p.key))).toBe(4);
    expect(scheduler.snapshot()).toMatchObject({ state: 'cancelled', done: 4, queued: 6 });
    expect(() => scheduler.resume()).toThrow(/cancelled/);
  });

  it('measures a worker that asks ahead by the time its chunks actually run', () => {
    const { clock, scheduler } = schedulerFor(10);
    const one = scheduler.next('a')!;
    const two = scheduler.next('a')!; // asked before the first chunk came back
    clock.ms = 200;
    scheduler.complete('a', one.map((p) => p.key));
    clock.ms = 400;
    scheduler.complete('a', two.map((p) => p.key));
    expect(scheduler.snapshot().workers[0]!.imagesPerSecond).toBeCloseTo(10, 9);
  });

  it('computes the rate over the recent window and the ETA from it', () => {
    const { clock, scheduler } = schedulerFor(1000, { rateWindowSeconds: 10 });
    expect(scheduler.snapshot()).toMatchObject({ imagesPerSecond: null, etaSeconds: null });

    // One worker at 10 images/s: 2 items in 0.2 s, then chunks of 5 (half a second).
    const step = (speed: number) => {
      const chunk = scheduler.next('a')!;
      clock.ms += (chunk.length / speed) * 1000;
      scheduler.complete('a', chunk.map((p) => p.key));
      return chunk.length;
    };
    expect(step(10)).toBe(2);
    expect(step(10)).toBe(5);
    expect(clock.ms).toBe(700);
    let progress = scheduler.snapshot();
    expect(progress.imagesPerSecond).toBeCloseTo(10, 9);
    expect(progress.etaSeconds).toBeCloseTo(993 / 10, 9);

    // The machine speeds up to 40/s: after a full window the old pace no longer counts. Replies come in
    // whole chunks, so the window sees 40/s give or take one chunk (at most 20 items over 10 s).
    while (clock.ms < 12_000) step(40);
    progress = scheduler.snapshot();
    expect(Math.abs(progress.imagesPerSecond! - 40)).toBeLessThanOrEqual(2);
    expect(progress.etaSeconds).toBeCloseTo((1000 - progress.done) / progress.imagesPerSecond!, 9);

    // Paused time does not count as slow work: after resuming, the rate starts from the resume.
    scheduler.pause();
    clock.ms += 60_000;
    expect(scheduler.snapshot().etaSeconds).toBeNull();
    scheduler.resume();
    expect(scheduler.snapshot().etaSeconds).toBeNull();
    const size = step(40);
    progress = scheduler.snapshot();
    expect(progress.imagesPerSecond).toBeCloseTo(40, 9);
    expect(size).toBe(20);
    expect(progress.etaSeconds).toBeCloseTo((1000 - progress.done) / 40, 9);
  });

  it('refuses duplicate item keys and reports for unknown items or workers', () => {
    const twice = [...photos(2), photos(1)[0]!];
    expect(() => new WorkScheduler(twice)).toThrow(/duplicate work item key/);
    const { scheduler } = schedulerFor(2);
    expect(() => scheduler.complete('ghost', [])).toThrow(/unknown worker/);
    scheduler.next('a');
    expect(() => scheduler.complete('a', ['cats/none.jpg|0'])).toThrow(/unknown work item/);
  });
});
