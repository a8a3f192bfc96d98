/**
 * The trainer's fine-tuning helpers: worker threads it starts for stage 2 (fine-tune-helper.worker.ts), each behind a
 * SupervisedWorker (time limits, crash detection, restart with a fallback backend, given up at its MAX_DEATHS-th
 * death) and seen by the train loop as a GradientHelper. A helper whose worker dies (during a request or between
 * two) is replaced by a fresh worker and the page is told; once it is given up, or when its start fails, its calls
 * fail and the train loop does its part itself.
 */
import * as Comlink from 'comlink';
import type { FineTuneHelperInit } from '../../../shared/trainer-messages';
import { SupervisedWorker, WorkerDiedError } from '../../engine/supervised-worker';
import type { GradientHelper, GradientRequest, PartGradients, ValidationRequest } from '../data-parallel';
import type { FineTuneHelperApi } from './fine-tune-helper.worker';

class WorkerHelper implements GradientHelper {
  constructor(readonly worker: SupervisedWorker<FineTuneHelperApi>) {}

  gradients(request: GradientRequest): Promise<PartGradients> {
    return this.#call((remote) => remote.gradients(request));
  }

  probabilities(request: ValidationRequest): Promise<Float32Array> {
    return this.#call((remote) => remote.probabilities(request));
  }

  /** The call on the helper's worker; one that died during it is asked again on its fresh worker (the request brings the weights it needs). */
  async #call<T>(call: (remote: Comlink.Remote<FineTuneHelperApi>) => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await this.worker.call(undefined, call);
      } catch (error) {
        if (!(error instanceof WorkerDiedError) || this.worker.givenUp) throw error;
      }
    }
  }
}

export class HelperPool {
  readonly #helpers: WorkerHelper[];

  /** `count` helpers, started now (in the background) so they are ready when stage 2 begins. */
  constructor(count: number, init: FineTuneHelperInit, onNotice: (message: string) => void) {
    this.#helpers = Array.from({ length: count }, (_, i) => {
      const worker = new SupervisedWorker<FineTuneHelperApi>({
        name: `fine-tuning helper ${i + 1}`,
        spawn: () => new Worker(new URL('./fine-tune-helper.worker.ts', import.meta.url), { type: 'module', name: `graft-fine-tune-helper-${i + 1}` }),
        start: { backend: { backend: init.backend, threads: init.threads }, run: (remote, request) => remote.init({ ...init, ...request }) },
        onStarted: (report, _remote, failures) => {
          if (failures.length > 0) onNotice(report.notes[0]);
        },
        // The last death is told by the call it fails (the train loop says the trainer computes its part).
        onDeath: (reason, givenUp) => {
          if (!givenUp) onNotice(`${worker.name} was replaced (${reason})`);
        },
      });
      // A start that fails here fails the helper's first call again, which the train loop handles.
      worker.started().catch(() => undefined);
      return new WorkerHelper(worker);
    });
  }

  get helpers(): readonly GradientHelper[] {
    return this.#helpers;
  }

  /** Ends helper `index`'s worker as a crash would (tests: the next request goes to a fresh worker). */
  terminate(index: number): void {
    const helper = this.#helpers[index];
    if (!helper) throw new RangeError(`there is no fine-tuning helper ${index + 1} (${this.#helpers.length} run)`);
    helper.worker.kill(`${helper.worker.name} was terminated on request`);
  }

  close(): void {
    for (const helper of this.#helpers) helper.worker.terminate('fine-tuning ended');
  }
}
