/**
 * The one worker policy (client/engine/supervised-worker.ts), on stand-in workers in Node (a comlink API behind a
 * MessageChannel, ended as a browser ends a worker): a start that fails is tried again on a fresh worker with a
 * fallback backend and is not a death; a crash or a hang is one, its call fails and the next starts a fresh
 * worker; the third death gives the worker up with the reason; ending a worker on purpose is no death.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendReport } from '../../shared/farm';
import { MAX_DEATHS, SupervisedWorker, WorkerDiedError, WorkerGivenUpError, WorkerTimeoutError } from '../../client/engine/supervised-worker';
import type { BackendRequest } from '../../client/engine/start-fallback';
import { StandInWorker } from '../support/stand-in-worker';

/** What a stand-in worker does; `spawned` counts them. */
interface Behaviour {
  /** Starts that fail before one succeeds. */
  failedStarts?: number;
}

interface StandInApi {
  init(request: BackendRequest): BackendReport;
  /** Answers `value`, or never (a hang) when `hang`. */
  work(value: number, hang?: boolean): Promise<number>;
}

let workers: StandInWorker[] = [];
afterEach(() => {
  for (const worker of workers) worker.terminate();
  workers = [];
});

function supervised(behaviour: Behaviour = {}, onDeath?: (reason: string, givenUp: boolean) => void) {
  let starts = 0;
  const requests: BackendRequest[] = [];
  const reports: BackendReport[] = [];
  const worker = new SupervisedWorker<StandInApi>({
    name: 'stand-in worker',
    spawn: () => {
      const spawned = new StandInWorker<StandInApi>({
        init(request) {
          requests.push(request);
          if (starts++ < (behaviour.failedStarts ?? 0)) throw new Error(`no ${request.backend} here`);
          return { backend: request.backend === 'auto' ? 'wasm' : request.backend, simd: true, threads: request.threads, notes: [] } as BackendReport;
        },
        work: (value, hang) => (hang ? new Promise<number>(() => {}) : Promise.resolve(value * 2)),
      });
      workers.push(spawned);
      return spawned as unknown as Worker;
    },
    start: { backend: { backend: 'webgpu', threads: 4 }, run: (remote, request) => remote.init(request) },
    onStarted: (report) => void reports.push(report),
    onDeath,
    callLimitMs: 300,
  });
  return { worker, requests, reports };
}

describe('one worker policy', () => {
  it('tries a failed start again on a fresh worker, asking for WASM on one thread and then the CPU, and says why', async () => {
    const { worker, requests, reports } = supervised({ failedStarts: 2 });
    expect(await worker.call(undefined, (remote) => remote.work(21))).toBe(42);
    expect(requests).toEqual([{ backend: 'webgpu', threads: 4 }, { backend: 'wasm', threads: 1 }, { backend: 'cpu', threads: 1 }]);
    expect(workers.map((w) => w.terminated)).toEqual([true, true, false]);
    expect(reports[0].notes[0]).toBe('stand-in worker was restarted after its start failed (no webgpu here; no wasm here)');
    // Failed starts are no deaths.
    expect(worker.givenUp).toBeNull();
  });

  it('counts a crash and a hang as deaths, starts a fresh worker after each, and gives up at the third', async () => {
    const deaths: [string, boolean][] = [];
    const { worker } = supervised({}, (reason, givenUp) => deaths.push([reason, givenUp]));
    await worker.started();
    const crashed = worker.call(undefined, (remote) => remote.work(1, true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    workers[0].crash('out of memory');
    await expect(crashed).rejects.toBeInstanceOf(WorkerDiedError);
    // A fresh worker answers the next call.
    expect(await worker.call(undefined, (remote) => remote.work(2))).toBe(4);
    await expect(worker.call(undefined, (remote) => remote.work(3, true))).rejects.toBeInstanceOf(WorkerTimeoutError);
    expect(worker.givenUp).toBeNull();
    await worker.started();
    worker.kill('killed by a test');
    expect(deaths).toEqual([
      ['stand-in worker crashed: out of memory', false],
      ['stand-in worker did not answer a call within 0.3 s and was stopped', false],
      ['killed by a test', true],
    ]);
    expect(MAX_DEATHS).toBe(3);
    const refused = worker.call(undefined, (remote) => remote.work(4));
    await expect(refused).rejects.toBeInstanceOf(WorkerGivenUpError);
    await expect(refused).rejects.toThrow('stand-in worker stopped 3 times (last: killed by a test); given up');
    // No worker was started for the refused call.
    expect(workers).toHaveLength(3);
  });

  it('ends a worker on purpose without counting a death', async () => {
    const deaths: string[] = [];
    const { worker } = supervised({}, (reason) => deaths.push(reason));
    for (let i = 0; i < MAX_DEATHS + 1; i++) {
      expect(await worker.call(undefined, (remote) => remote.work(i))).toBe(2 * i);
      worker.terminate('finished');
    }
    expect([deaths, worker.givenUp]).toEqual([[], null]);
  });
});
