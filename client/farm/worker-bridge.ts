/**
 * One Web Worker behind a comlink proxy, squoosh-style: calls queue one after another, an AbortSignal
 * terminates the worker (the only way to stop WASM mid-call) and the next call starts a fresh one, an idle
 * timer shuts it down, and a crash rejects every pending call instead of leaving it hanging.
 */
import * as Comlink from 'comlink';

export class WorkerDiedError extends Error {
  override name = 'WorkerDiedError';
}

export class WorkerBridge<Api extends object> {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<Api> | null = null;
  #pending = new Set<(error: Error) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param spawn creates the worker (`new Worker(new URL(...), { type: 'module' })`)
   * @param onStart runs on every fresh worker before the first call (e.g. init with the model)
   * @param idleMs terminate after this long without calls (0 = never)
   */
  constructor(
    private readonly spawn: () => Worker,
    private readonly onStart: (remote: Comlink.Remote<Api>) => Promise<void> = async () => {},
    private readonly idleMs = 0,
  ) {}

  get running(): boolean {
    return this.#worker !== null;
  }

  /** Runs `call` on the worker after earlier calls settle; rejects with WorkerDiedError if it dies. */
  call<T>(signal: AbortSignal | undefined, call: (remote: Comlink.Remote<Api>) => Promise<T>): Promise<T> {
    const run = async () => {
      signal?.throwIfAborted();
      clearTimeout(this.#idleTimer);
      const remote = await this.#ensureStarted();
      try {
        return await this.#guard(signal, call(remote));
      } finally {
        this.#armIdleTimer();
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Ends the worker now; pending calls reject with WorkerDiedError(reason). */
  terminate(reason = 'worker terminated'): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = null;
    this.#remote?.[Comlink.releaseProxy]();
    this.#remote = null;
    const error = new WorkerDiedError(reason);
    for (const reject of this.#pending) reject(error);
    this.#pending.clear();
  }

  async #ensureStarted(): Promise<Comlink.Remote<Api>> {
    if (this.#remote) return this.#remote;
    const worker = this.spawn();
    worker.addEventListener('error', (event) => this.terminate(`worker crashed: ${event.message || 'unknown error'}`));
    this.#worker = worker;
    const remote = Comlink.wrap<Api>(worker);
    this.#remote = remote;
    try {
      await this.#guard(undefined, this.onStart(remote));
    } catch (error) {
      this.terminate(`worker failed to start: ${(error as Error).message}`);
      throw error;
    }
    return remote;
  }

  #guard<T>(signal: AbortSignal | undefined, promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => {
        this.#pending.delete(fail);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => {
        fail(signal!.reason instanceof Error ? signal!.reason : new DOMException('Aborted', 'AbortError'));
        this.terminate('aborted');
      };
      this.#pending.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          this.#pending.delete(fail);
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: Error) => fail(error),
      );
    });
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    if (this.idleMs > 0) this.#idleTimer = setTimeout(() => this.terminate('idle'), this.idleMs);
  }
}
