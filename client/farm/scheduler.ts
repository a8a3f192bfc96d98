/**
 * The farm's work queue (pure logic: no DOM, no workers, no tfjs). The main thread asks it which items a
 * worker should do next, tells it what came back, and shows its progress snapshot.
 *
 * - Chunks adapt to each worker: a first chunk of `firstChunkSize` items, then as many as that worker does
 *   in `chunkSeconds` at its measured rate, so a slow worker takes less and the tail ends together.
 * - Every handed-out item is leased to one worker. workerDied() puts its unfinished items back at the
 *   front of the queue. An item is done exactly once: a late reply from a worker declared dead still
 *   counts (its features are stored), and the duplicate reply of whoever had it next is ignored.
 * - fail() retries an item up to `maxAttempts` times in all, then records it as skipped with its reasons.
 * - No events: each call changes state synchronously and snapshot() is cheap, so the driver calls it after
 *   every report and renders that. When next() returns null the worker idles; call next() again for idle
 *   workers after workerDied() or resume(), which may make work available again.
 */

export interface WorkItem {
  /** Unique among the scheduler's items (e.g. the feature key). */
  readonly key: string;
}

export interface SchedulerOptions {
  /** The clock, in milliseconds (e.g. performance.now); tests pass a fake one. */
  now?: () => number;
  /** Items handed to a worker whose speed is not known yet. */
  firstChunkSize?: number;
  /** Seconds of work a chunk should take at its worker's measured rate. */
  chunkSeconds?: number;
  maxChunkSize?: number;
  /** Width of the window the overall rate (and so the ETA) is measured over. */
  rateWindowSeconds?: number;
  /** Tries an item gets before its failure is final. */
  maxAttempts?: number;
}

export type SchedulerState = 'running' | 'paused' | 'cancelled' | 'finished';

export interface WorkerProgress {
  workerId: string;
  alive: boolean;
  /** Items this worker completed (credited to whoever reported first). */
  done: number;
  /** Items leased to it now. */
  leased: number;
  /** Its measured rate over its recent chunks, or null before its first chunk ends. */
  imagesPerSecond: number | null;
}

export interface Failure {
  key: string;
  /** One reason per attempt, oldest first. */
  reasons: string[];
}

export interface Progress {
  state: SchedulerState;
  total: number;
  done: number;
  /** Items given up on, with reasons. */
  failed: Failure[];
  queued: number;
  leased: number;
  workers: WorkerProgress[];
  /** Items completed per second over the recent window while running, or null when unknown. */
  imagesPerSecond: number | null;
  /** Seconds until every item is settled at the recent rate; 0 when finished, null while unknown or stopped. */
  etaSeconds: number | null;
}

type Status = 'queued' | 'leased' | 'done' | 'failed';

interface Entry<T> {
  item: T;
  status: Status;
  /** The chunk holding the lease while status is 'leased'. */
  chunk: ChunkLease | null;
  reasons: string[];
}

interface ChunkLease {
  workerId: string;
  handedOutAt: number;
  /** Items of the chunk not yet settled. */
  open: number;
  /** Items of the chunk that came back done or failed (not returned unprocessed). */
  processed: number;
}

interface WorkerRecord {
  id: string;
  alive: boolean;
  done: number;
  rate: number | null;
  /** When its last chunk settled: a chunk handed out while another ran only starts then. */
  lastSettledAt: number;
  chunks: Set<ChunkLease>;
}

export class WorkScheduler<T extends WorkItem> {
  private readonly now: () => number;
  private readonly firstChunkSize: number;
  private readonly chunkSeconds: number;
  private readonly maxChunkSize: number;
  private readonly rateWindowMs: number;
  private readonly maxAttempts: number;

  private readonly entries = new Map<string, Entry<T>>();
  /** Entries waiting, front first; may hold entries settled meanwhile, which next() skips. */
  private queue: Entry<T>[];
  private readonly counts: Record<Status, number> = { queued: 0, leased: 0, done: 0, failed: 0 };
  private readonly failures: Failure[] = [];
  private readonly workers = new Map<string, WorkerRecord>();
  private state: 'running' | 'paused' | 'cancelled' = 'running';
  /** Start of the current running stretch (first hand-out or last resume); the rate window never reaches before it. */
  private runningSince: number | null = null;
  /** Completion times (ms), oldest first, pruned to the rate window. */
  private completions: number[] = [];

  constructor(items: readonly T[], options: SchedulerOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.firstChunkSize = positive('firstChunkSize', options.firstChunkSize ?? 2);
    this.chunkSeconds = positive('chunkSeconds', options.chunkSeconds ?? 0.5);
    this.maxChunkSize = positive('maxChunkSize', options.maxChunkSize ?? 256);
    this.rateWindowMs = positive('rateWindowSeconds', options.rateWindowSeconds ?? 10) * 1000;
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? 2);
    for (const item of items) {
      if (this.entries.has(item.key)) throw new Error(`duplicate work item key ${JSON.stringify(item.key)}`);
      this.entries.set(item.key, { item, status: 'queued', chunk: null, reasons: [] });
    }
    this.queue = [...this.entries.values()];
    this.counts.queued = this.queue.length;
  }

  /** The next chunk for `workerId` (leased to it), or null if nothing is to be handed out now. */
  next(workerId: string): T[] | null {
    let worker = this.workers.get(workerId);
    if (worker && !worker.alive) throw new Error(`worker ${workerId} was declared dead; give its replacement a new id`);
    if (!worker) {
      worker = { id: workerId, alive: true, done: 0, rate: null, lastSettledAt: Number.NEGATIVE_INFINITY, chunks: new Set() };
      this.workers.set(workerId, worker);
    }
    if (this.state !== 'running' || this.counts.queued === 0) return null;
    const now = this.now();
    this.runningSince ??= now;
    const size = this.chunkSizeFor(worker);
    const chunk: ChunkLease = { workerId, handedOutAt: now, open: 0, processed: 0 };
    const items: T[] = [];
    let scanned = 0;
    while (scanned < this.queue.length && items.length < size) {
      const entry = this.queue[scanned++]!;
      if (entry.status !== 'queued') continue;
      this.setStatus(entry, 'leased');
      entry.chunk = chunk;
      chunk.open++;
      items.push(entry.item);
    }
    this.queue.splice(0, scanned);
    worker.chunks.add(chunk);
    return items;
  }

  /** Marks `keys` done; returns how many were newly done (replies for settled items are ignored). */
  complete(workerId: string, keys: readonly string[]): number {
    const worker = this.knownWorker(workerId);
    const now = this.now();
    let newlyDone = 0;
    for (const key of keys) {
      const entry = this.entry(key);
      if (entry.status === 'done' || entry.status === 'failed') continue;
      this.settle(entry, true, now);
      this.setStatus(entry, 'done');
      worker.done++;
      newlyDone++;
      this.completions.push(now);
    }
    return newlyDone;
  }

  /** Records that `workerId` could not do `key`: queued again at the back until it has failed maxAttempts times. */
  fail(workerId: string, key: string, reason: string): void {
    this.knownWorker(workerId);
    const entry = this.entry(key);
    if (entry.status === 'done' || entry.status === 'failed') return;
    const wasQueued = entry.status === 'queued';
    this.settle(entry, true, this.now());
    entry.reasons.push(reason);
    if (entry.reasons.length >= this.maxAttempts) {
      this.setStatus(entry, 'failed');
      this.failures.push({ key, reasons: [...entry.reasons] });
    } else if (!wasQueued) {
      this.setStatus(entry, 'queued');
      this.queue.push(entry);
    }
  }

  /** Returns the dead worker's unfinished items to the front of the queue; returns how many. */
  workerDied(workerId: string): number {
    const worker = this.knownWorker(workerId);
    worker.alive = false;
    return this.returnLeases(worker);
  }

  /** Stops handing out; chunks in flight still report. */
  pause(): void {
    if (this.state === 'running') this.state = 'paused';
  }

  resume(): void {
    if (this.state === 'cancelled') throw new Error('the work was cancelled; start a new scheduler');
    if (this.state === 'paused') {
      this.state = 'running';
      this.runningSince = this.now();
    }
  }

  /** Stops for good: nothing more is handed out and every lease is dropped (late replies still count). */
  cancel(): void {
    this.state = 'cancelled';
    for (const worker of this.workers.values()) this.returnLeases(worker);
  }

  snapshot(): Progress {
    const now = this.now();
    const total = this.entries.size;
    const settled = this.counts.done + this.counts.failed;
    const state: SchedulerState = settled === total ? 'finished' : this.state;
    const rate = this.state === 'running' ? this.recentRate(now) : null;
    return {
      state,
      total,
      done: this.counts.done,
      failed: this.failures.map((f) => ({ key: f.key, reasons: [...f.reasons] })),
      queued: this.counts.queued,
      leased: this.counts.leased,
      workers: [...this.workers.values()].map((w) => ({
        workerId: w.id,
        alive: w.alive,
        done: w.done,
        leased: [...w.chunks].reduce((sum, c) => sum + c.open, 0),
        imagesPerSecond: w.rate,
      })),
      imagesPerSecond: rate,
      etaSeconds: state === 'finished' ? 0 : rate === null ? null : (total - settled) / rate,
    };
  }

  private chunkSizeFor(worker: WorkerRecord): number {
    const paced = worker.rate === null ? this.firstChunkSize : Math.round(worker.rate * this.chunkSeconds);
    let alive = 0;
    for (const w of this.workers.values()) if (w.alive) alive++;
    // Near the end no worker takes more than its share, so the others are not left idle.
    const share = Math.ceil(this.counts.queued / alive);
    return Math.max(1, Math.min(paced, this.maxChunkSize, share));
  }

  /** Ends `entry`'s lease; when that settles its chunk, the chunk's items per second update its worker's rate. */
  private settle(entry: Entry<T>, processed: boolean, now: number): void {
    const chunk = entry.chunk;
    if (!chunk) return;
    entry.chunk = null;
    chunk.open--;
    if (processed) chunk.processed++;
    if (chunk.open > 0) return;
    const worker = this.workers.get(chunk.workerId)!;
    worker.chunks.delete(chunk);
    const seconds = (now - Math.max(chunk.handedOutAt, worker.lastSettledAt)) / 1000;
    if (worker.alive && chunk.processed > 0 && seconds > 0) {
      const sample = chunk.processed / seconds;
      worker.rate = worker.rate === null ? sample : (worker.rate + sample) / 2;
    }
    worker.lastSettledAt = now;
  }

  private returnLeases(worker: WorkerRecord): number {
    const now = this.now();
    const returned: Entry<T>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.status === 'leased' && entry.chunk && worker.chunks.has(entry.chunk)) {
        this.settle(entry, false, now);
        this.setStatus(entry, 'queued');
        returned.push(entry);
      }
    }
    this.queue.unshift(...returned);
    return returned.length;
  }

  private recentRate(now: number): number | null {
    if (this.runningSince === null) return null;
    const windowStart = Math.max(now - this.rateWindowMs, this.runningSince);
    let first = 0;
    while (first < this.completions.length && this.completions[first]! <= now - this.rateWindowMs) first++;
    this.completions.splice(0, first);
    const seconds = (now - windowStart) / 1000;
    let recent = 0;
    for (const at of this.completions) if (at > windowStart) recent++;
    return recent > 0 && seconds > 0 ? recent / seconds : null;
  }

  private setStatus(entry: Entry<T>, status: Status): void {
    this.counts[entry.status]--;
    this.counts[status]++;
    entry.status = status;
  }

  private entry(key: string): Entry<T> {
    const entry = this.entries.get(key);
    if (!entry) throw new Error(`unknown work item ${JSON.stringify(key)}`);
    return entry;
  }

  private knownWorker(workerId: string): WorkerRecord {
    const worker = this.workers.get(workerId);
    if (!worker) throw new Error(`unknown worker ${workerId}: it was never handed work`);
    return worker;
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
