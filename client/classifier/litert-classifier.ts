/**
 * The pages' side of the LiteRT.js classifier worker (classify.worker.ts), behind a SupervisedWorker like every
 * worker: start() compiles a classifier's .tflite file there, and classify and Live's frames go to it. A worker
 * that dies is replaced by the supervisor; the file is compiled again in the fresh one before its first call. No
 * tfjs anywhere on this path: the classify-only page /m/<id> runs it, and the trainer's page once its classifier's
 * file is ready.
 */
import * as Comlink from 'comlink';
import { topClasses, type ClassifierInit, type ClassifierReport } from '../../shared/classifier';
import type { Classifier } from './classifier';
import type { Classification, FrameClassification } from '../../shared/trainer-messages';
import { SupervisedWorker } from '../engine/supervised-worker';
import type { ClassifierWorkerApi } from './classify.worker';

type Remote = Comlink.Remote<ClassifierWorkerApi>;

const spawnClassifier = () =>
  new Worker(new URL('./classify.worker.ts', import.meta.url), { type: 'module', name: 'graft-classifier' });

export class LiteRtClassifier implements Classifier {
  readonly #worker = new SupervisedWorker<ClassifierWorkerApi>({ name: 'the LiteRT.js classifier', spawn: spawnClassifier });
  #init: ClassifierInit | null = null;
  /** Workers (by their comlink remote) that have compiled #init: a fresh one compiles it before its first call. */
  #compiled = new WeakSet<Remote>();
  #report: ClassifierReport | null = null;

  /** What the worker runs, once started. */
  get report(): ClassifierReport | null {
    return this.#report;
  }

  /** Compiles `init.file` in the worker (a LiteRtError in words when LiteRT.js cannot load or compile it). */
  start(init: ClassifierInit): Promise<ClassifierReport> {
    this.#init = init;
    this.#compiled = new WeakSet();
    return this.#call(async () => this.#report!);
  }

  /** Runs `call` on a worker that holds the classifier (compiling it first in a fresh worker). */
  #call<T>(call: (remote: Remote) => Promise<T>): Promise<T> {
    return this.#worker.call(undefined, async (remote) => {
      const init = this.#init;
      if (!init) throw new Error('no classifier was started');
      if (!this.#compiled.has(remote)) {
        // A copy: the file stays here for a worker that replaces this one.
        this.#report = await remote.start({ ...init, file: init.file.slice() });
        this.#compiled.add(remote);
      }
      return call(remote);
    });
  }

  async classify(image: Blob): Promise<Classification[]> {
    const { classes, probabilities } = await this.#call((remote) => remote.classify(image));
    return topClasses(classes, probabilities);
  }

  /** The frame is transferred to the worker, which closes it. */
  classifyFrame(frame: ImageBitmap): Promise<FrameClassification> {
    return this.#call((remote) => remote.classifyFrame(Comlink.transfer(frame, [frame])));
  }

  /** Ends the worker (its compiled model with it). */
  terminate(reason: string): void {
    this.#init = null;
    this.#report = null;
    this.#worker.terminate(reason);
  }
}
