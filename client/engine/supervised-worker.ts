/**
 * Every Web Worker of the page sits behind a SupervisedWorker (comlink, squoosh's bridge): the one policy for
 * starting, falling back and dying.
 * - Calls queue one after another; an AbortSignal ends the worker (the only way to stop WASM mid-call) and the
 *   next call starts a fresh one.
 * - Nothing waits forever: a start and every call have a time limit past which the worker counts as hung.
 * - A start that fails or hangs is tried again on a fresh worker, asking for a backend more likely to start
 *   (start-fallback.ts), up to START_ATTEMPTS times.
 * - A worker that crashes or hangs has died: its pending calls reject with WorkerDiedError and the next call
 *   starts a fresh one. At its MAX_DEATHS-th death it is given up: calls then reject with WorkerGivenUpError.
 * What a caller does about a death is its own: the farm hands the images to other workers, a fine-tuning
 * helper asks its fresh worker again, the trainer's run pauses at its last checkpoint.
 */
import * as Comlink from 'comlink';
import type { BackendReport } from '../../shared/farm';
import { fallbackRequest, withStartFailures, type BackendRequest } from './start-fallback';

/** The worker is gone (crashed, hung, terminated): its calls reject with this. */
export class WorkerDiedError extends Error {
  override name = 'WorkerDiedError';
}

/** The worker did not answer within its limit and was ended. */
export class WorkerTimeoutError extends WorkerDiedError {
  override name = 'WorkerTimeoutError';
}

/** The worker died MAX_DEATHS times: no fresh one is started. */
export class WorkerGivenUpError extends WorkerDiedError {
  override name = 'WorkerGivenUpError';
}

/** Every start attempt failed; the message names each failure. */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}

/** Deaths after which a worker is given up: one that died this often would keep dying. */
export const MAX_DEATHS = 3;
/** Fresh workers a start is tried on before calls fail with WorkerStartError. */
export const START_ATTEMPTS = 3;
/** Generous: a slow machine shared with other work must not look hung. */
export const START_LIMIT_MS = 90_000;
const CALL_LIMIT_MS = 180_000;

export interface SupervisedWorkerOptions<Api extends object> {
  /** What the worker is, in messages: "the trainer", "extraction worker 2". */
  name: string;
  /** Creates the worker (`new Worker(new URL(...), { type: 'module' })`). */
  spawn: () => Worker;
  /**
   * Starts a fresh worker's backend (and whatever it holds, e.g. the base model) as `request` asks: the backend
   * asked for first, then the fallbacks (`failures`: why the earlier attempts failed). Absent: the worker needs no start.
   */
  start?: { backend: BackendRequest; run: (remote: Comlink.Remote<Api>, request: BackendRequest, failures: string[]) => Promise<BackendReport> };
  /** After every (re)start: what it runs on (its first note names the failed attempts, if any). */
  onStarted?: (report: BackendReport, remote: Comlink.Remote<Api>, failures: string[]) => Promise<void> | void;
  /** The worker died; `givenUp` when that was its last. */
  onDeath?: (reason: string, givenUp: boolean) => void;
  /** Longest one start attempt may take. */
  startLimitMs?: number;
  /** Longest a call may go without a sign of life (its answer, or the `alive()` it is handed). */
  callLimitMs?: number;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export class SupervisedWorker<Api extends object> {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<Api> | null = null;
  #starting: Promise<Comlink.Remote<Api>> | null = null;
  #pending = new Set<(error: Error) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #deaths = 0;
  #givenUp: string | null = null;

  constructor(private readonly options: SupervisedWorkerOptions<Api>) {}

  get name(): string {
    return this.options.name;
  }

  /** Why the worker was given up, or null while it may still run. */
  get givenUp(): string | null {
    return this.#givenUp;
  }

  /**
   * Runs `call` on the worker after earlier calls settle; rejects with WorkerDiedError if the worker dies and
   * with WorkerTimeoutError if the call goes `limitMs` (default `callLimitMs`) without answering or calling `alive()`.
   */
  call<T>(
    signal: AbortSignal | undefined,
    call: (remote: Comlink.Remote<Api>, alive: () => void) => Promise<T>,
    limitMs = this.options.callLimitMs ?? CALL_LIMIT_MS,
  ): Promise<T> {
    const run = async () => {
      signal?.throwIfAborted();
      const remote = await this.#ensureStarted();
      return this.#guard(signal, limitMs, 'a call', (alive) => call(remote, alive));
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Starts the worker now if it is not running (without waiting for queued calls); resolves once it has started. */
  async started(): Promise<void> {
    await this.#ensureStarted();
  }

  /** Runs `call` beside the queue on the running worker (e.g. a stop request during a long call); no-op when none runs. */
  async interrupt(call: (remote: Comlink.Remote<Api>) => Promise<unknown>): Promise<void> {
    if (this.#remote) await call(this.#remote);
  }

  /** Ends the worker on purpose (not a death); pending calls reject with WorkerDiedError(reason). */
  terminate(reason = 'worker terminated'): void {
    this.#end(reason);
  }

  /** Ends the worker as a crash would: a death (tests use it to kill workers). */
  kill(reason: string): void {
    if (this.#worker) this.#die(reason);
  }

  #die(reason: string): void {
    this.#deaths++;
    if (this.#deaths >= MAX_DEATHS) this.#givenUp = `${this.name} stopped ${this.#deaths} times (last: ${reason}); given up`;
    this.options.onDeath?.(reason, this.#givenUp !== null);
    this.#end(reason);
  }

  #end(reason: string): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#remote?.[Comlink.releaseProxy]();
    this.#remote = null;
    for (const reject of this.#pending) reject(new WorkerDiedError(reason));
    this.#pending.clear();
  }

  #ensureStarted(): Promise<Comlink.Remote<Api>> {
    if (this.#givenUp) return Promise.reject(new WorkerGivenUpError(this.#givenUp));
    if (this.#remote && !this.#starting) return Promise.resolve(this.#remote);
    this.#starting ??= this.#start().finally(() => (this.#starting = null));
    return this.#starting;
  }

  async #start(): Promise<Comlink.Remote<Api>> {
    const { name, start, onStarted, startLimitMs = START_LIMIT_MS } = this.options;
    const failures: string[] = [];
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const worker = this.options.spawn();
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        if (this.#worker !== worker) return;
        const reason = `${name} crashed: ${event.message || 'unknown error'}`;
        // A crash while starting is a failed start (tried again below), not a death.
        if (this.#starting) this.#end(reason);
        else this.#die(reason);
      });
      this.#worker = worker;
      const remote = Comlink.wrap<Api>(worker);
      this.#remote = remote;
      try {
        await this.#guard(undefined, startLimitMs, 'its start', async () => {
          if (!start) return;
          const request = fallbackRequest(start.backend, failures.length);
          const report = withStartFailures(await start.run(remote, request, [...failures]), name, failures);
          await onStarted?.(report, remote, [...failures]);
        });
        return remote;
      } catch (error) {
        failures.push(error instanceof WorkerTimeoutError ? `it did not start within ${seconds(startLimitMs)}` : (error as Error).message);
        if (this.#worker === worker) this.#end(`${name} failed to start: ${failures.at(-1)}`);
      }
    }
    throw new WorkerStartError(`${name} did not start (${failures.map((f, i) => `attempt ${i + 1}: ${f}`).join('; ')})`);
  }

  /** Settles with `run`'s result, or rejects on abort, on the worker's death, or after `limitMs` without a sign of life. */
  #guard<T>(signal: AbortSignal | undefined, limitMs: number, what: string, run: (alive: () => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = () => {
        clearTimeout(timer);
        this.#pending.delete(fail);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: Error) => {
        settle();
        reject(error);
      };
      const onAbort = () => {
        fail(signal!.reason instanceof Error ? signal!.reason : new DOMException('Aborted', 'AbortError'));
        this.#end('aborted');
      };
      const alive = () => {
        clearTimeout(timer);
        if (limitMs <= 0) return;
        timer = setTimeout(() => {
          const error = new WorkerTimeoutError(`${this.name} did not answer ${what} within ${seconds(limitMs)} and was stopped`);
          fail(error);
          // A start that hangs is a failed start (tried again); a call that hangs is a death.
          if (this.#starting) this.#end(error.message);
          else this.#die(error.message);
        }, limitMs);
      };
      this.#pending.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
      alive();
      run(alive).then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: Error) => fail(error),
      );
    });
  }
}
