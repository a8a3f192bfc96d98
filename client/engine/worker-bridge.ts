/**
 * One Web Worker behind a comlink proxy, squoosh-style: calls queue one after another, an AbortSignal
 * terminates the worker (the only way to stop WASM mid-call) and the next call starts a fresh one, an idle
 * timer shuts it down, and a crash rejects every pending call instead of leaving it hanging. Nothing waits
 * forever: a start and every call have a time limit past which the worker counts as hung and is ended, and a
 * start that fails or hangs is tried again on a fresh worker, which the start function may give a fallback.
 */
import * as Comlink from 'comlink';

/** The worker is gone (crashed, hung, terminated): its calls reject with this. */
export class WorkerDiedError extends Error {
  override name = 'WorkerDiedError';
}

/** The worker did not answer within its limit and was ended. */
export class WorkerTimeoutError extends WorkerDiedError {
  override name = 'WorkerTimeoutError';
}

/** Every start attempt failed; the message names each failure. */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}

export interface WorkerBridgeOptions<Api extends object> {
  /** What the worker is, in messages: "the trainer", "extraction worker 2". */
  name: string;
  /** Creates the worker (`new Worker(new URL(...), { type: 'module' })`). */
  spawn: () => Worker;
  /**
   * Runs on every fresh worker before its first call (e.g. init with the model). `failures` says why the
   * earlier attempts of this start failed (empty the first time), so a retry can fall back.
   */
  start?: (remote: Comlink.Remote<Api>, failures: string[]) => Promise<void>;
  /** Fresh workers a start is tried on before calls fail with WorkerStartError. */
  startAttempts?: number;
  /** Longest one start attempt may take. */
  startLimitMs?: number;
  /** Longest a call may go without a sign of life (its answer, or the `alive()` it is handed). */
  callLimitMs?: number;
  /** Terminate after this long without calls (0 = never). */
  idleMs?: number;
  /** A running worker was ended (crash, hang, terminate()), whether or not a call was pending. */
  onStop?: (reason: string) => void;
}

/** Generous: a slow machine shared with other work must not look hung. */
const START_LIMIT_MS = 90_000;
const CALL_LIMIT_MS = 180_000;
const START_ATTEMPTS = 3;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export class WorkerBridge<Api extends object> {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<Api> | null = null;
  #starting: Promise<Comlink.Remote<Api>> | null = null;
  #pending = new Set<(error: Error) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: WorkerBridgeOptions<Api>) {}

  get name(): string {
    return this.options.name;
  }

  get running(): boolean {
    return this.#worker !== null;
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
      clearTimeout(this.#idleTimer);
      const remote = await this.#ensureStarted();
      try {
        return await this.#guard(signal, limitMs, 'a call', (alive) => call(remote, alive));
      } finally {
        this.#armIdleTimer();
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Starts the worker now if it is not running (without waiting for queued calls); resolves once it has started. */
  async started(): Promise<void> {
    clearTimeout(this.#idleTimer);
    await this.#ensureStarted();
    this.#armIdleTimer();
  }

  /** Runs `call` beside the queue on the running worker (e.g. a stop request during a long call); no-op when none runs. */
  async interrupt(call: (remote: Comlink.Remote<Api>) => Promise<unknown>): Promise<void> {
    if (this.#remote) await call(this.#remote);
  }

  /** Ends the worker now; pending calls reject with WorkerDiedError(reason). */
  terminate(reason = 'worker terminated'): void {
    clearTimeout(this.#idleTimer);
    if (this.#worker) this.options.onStop?.(reason);
    this.#worker?.terminate();
    this.#worker = null;
    this.#remote?.[Comlink.releaseProxy]();
    this.#remote = null;
    this.#rejectPending(new WorkerDiedError(reason));
  }

  #rejectPending(error: Error): void {
    for (const reject of this.#pending) reject(error);
    this.#pending.clear();
  }

  #ensureStarted(): Promise<Comlink.Remote<Api>> {
    if (this.#remote && !this.#starting) return Promise.resolve(this.#remote);
    this.#starting ??= this.#start().finally(() => (this.#starting = null));
    return this.#starting;
  }

  async #start(): Promise<Comlink.Remote<Api>> {
    const { name, startAttempts = START_ATTEMPTS, startLimitMs = START_LIMIT_MS, start } = this.options;
    const failures: string[] = [];
    for (let attempt = 0; attempt < startAttempts; attempt++) {
      const worker = this.options.spawn();
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        if (this.#worker === worker) this.terminate(`${name} crashed: ${event.message || 'unknown error'}`);
      });
      this.#worker = worker;
      const remote = Comlink.wrap<Api>(worker);
      this.#remote = remote;
      try {
        if (start) await this.#guard(undefined, startLimitMs, 'its start', () => start(remote, [...failures]));
        return remote;
      } catch (error) {
        failures.push(
          error instanceof WorkerTimeoutError ? `it did not start within ${seconds(startLimitMs)}` : (error as Error).message,
        );
        if (this.#worker === worker) this.terminate(`${name} failed to start: ${failures.at(-1)}`);
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
        this.terminate('aborted');
      };
      const alive = () => {
        clearTimeout(timer);
        if (limitMs <= 0) return;
        timer = setTimeout(() => {
          const error = new WorkerTimeoutError(`${this.options.name} did not answer ${what} within ${seconds(limitMs)} and was stopped`);
          fail(error);
          this.terminate(error.message);
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

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    const idleMs = this.options.idleMs ?? 0;
    if (idleMs > 0) this.#idleTimer = setTimeout(() => this.terminate('idle'), idleMs);
  }
}
