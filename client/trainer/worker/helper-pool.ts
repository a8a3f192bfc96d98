/**
 * The trainer's fine-tuning helpers: worker threads it starts for stage 2 (fine-tune-helper.worker.ts), each behind a
 * WorkerBridge (time limits, crash detection, restart with a fallback backend) and seen by the train loop as a
 * GradientHelper. A helper whose worker dies (during a request or between two) is replaced by a fresh worker
 * and the page is told; after MAX_DEATHS deaths, or when its start fails, its calls fail and the train loop does
 * its part itself.
 */
import * as Comlink from 'comlink';
import type { FineTuneHelperInit } from '../../../shared/trainer-messages';
import { fallbackRequest, withStartFailures } from '../../engine/start-fallback';
import { WorkerBridge, WorkerDiedError } from '../../engine/worker-bridge';
import type { GradientHelper, GradientRequest, PartGradients, ValidationRequest } from '../data-parallel';
import type { FineTuneHelperApi } from './fine-tune-helper.worker';

/** Deaths after which a helper is given up (the farm gives up a slot after as many). */
const MAX_DEATHS = 3;

class WorkerHelper implements GradientHelper {
  #deaths = 0;
  /** Why this helper's worker stopped since its last call (null: it did not). */
  #stoppedBecause: string | null = null;

  constructor(
    readonly bridge: WorkerBridge<FineTuneHelperApi>,
    private readonly onReplaced: (message: string) => void,
  ) {}

  /** The bridge ended the worker: during a call (which then fails) or between two calls. */
  stopped(reason: string): void {
    this.#stoppedBecause = reason;
  }

  gradients(request: GradientRequest): Promise<PartGradients> {
    return this.#call((remote) => remote.gradients(request));
  }

  probabilities(request: ValidationRequest): Promise<Float32Array> {
    return this.#call((remote) => remote.probabilities(request));
  }

  async #call<T>(call: (remote: Comlink.Remote<FineTuneHelperApi>) => Promise<T>): Promise<T> {
    for (;;) {
      const reason = this.#stoppedBecause;
      if (reason !== null) {
        this.#stoppedBecause = null;
        if (++this.#deaths >= MAX_DEATHS) throw new WorkerDiedError(`${this.bridge.name} stopped ${MAX_DEATHS} times (last: ${reason}); given up`);
        // The bridge starts a fresh worker for the next call; the request brings the weights it needs.
        this.onReplaced(`${this.bridge.name} was replaced (${reason})`);
      }
      try {
        return await this.bridge.call(undefined, call);
      } catch (error) {
        if (!(error instanceof WorkerDiedError)) throw error;
        this.#stoppedBecause ??= error.message;
      }
    }
  }
}

export class HelperPool {
  readonly #helpers: WorkerHelper[];

  /** `count` helpers, started now (in the background) so they are ready when stage 2 begins. */
  constructor(count: number, init: FineTuneHelperInit, onNotice: (message: string) => void) {
    this.#helpers = Array.from({ length: count }, (_, i) => {
      const name = `fine-tuning helper ${i + 1}`;
      let helper: WorkerHelper | null = null;
      const bridge = new WorkerBridge<FineTuneHelperApi>({
        name,
        onStop: (reason) => helper?.stopped(reason),
        spawn: () => new Worker(new URL('./fine-tune-helper.worker.ts', import.meta.url), { type: 'module', name: `graft-fine-tune-helper-${i + 1}` }),
        start: async (remote, failures) => {
          const request = fallbackRequest({ backend: init.backend, threads: init.threads }, failures.length);
          const report = withStartFailures(await remote.init({ ...init, ...request }), name, failures);
          if (failures.length > 0) onNotice(report.notes[0]);
        },
      });
      helper = new WorkerHelper(bridge, onNotice);
      // A start that fails here fails the helper's first call again, which the train loop handles.
      bridge.started().catch(() => undefined);
      return helper;
    });
  }

  get helpers(): readonly GradientHelper[] {
    return this.#helpers;
  }

  /** Ends helper `index`'s worker as a crash would (tests: the next request goes to a fresh worker). */
  terminate(index: number): void {
    const helper = this.#helpers[index];
    if (!helper) throw new RangeError(`there is no fine-tuning helper ${index + 1} (${this.#helpers.length} run)`);
    helper.bridge.terminate(`${helper.bridge.name} was terminated on request`);
  }

  close(): void {
    for (const helper of this.#helpers) helper.bridge.terminate('fine-tuning ended');
  }
}
