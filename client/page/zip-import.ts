/**
 * The page's side of the zip reader (zip-import.worker.ts), one worker per import behind the worker policy
 * (SupervisedWorker): it opens a zip, then hands over one class's samples at a time, each call kept alive by the
 * worker's progress. Closing it ends the worker.
 */
import * as Comlink from 'comlink';
import { SupervisedWorker } from '../engine/supervised-worker';
import type { ZipClassSamples, ZipContents, ZipImportApi } from './zip-import.worker';

export interface OpenedZip {
  contents: ZipContents;
  /** Class `index`'s samples; `onProgress` hears how many of its images were handled. */
  samples(index: number, onProgress: (handled: number) => void): Promise<ZipClassSamples>;
  close(): void;
}

/** Opens `zip` in a fresh zip reader; rejects with the reason (a cap, a damaged zip) when it is refused. */
export async function openZip(zip: Blob): Promise<OpenedZip> {
  const reader = new SupervisedWorker<ZipImportApi>({
    name: 'the zip reader',
    spawn: () => new Worker(new URL('./zip-import.worker.ts', import.meta.url), { type: 'module', name: 'graft-zip-reader' }),
  });
  try {
    const contents = await reader.call(undefined, (remote) => remote.open(zip));
    return {
      contents,
      samples: (index, onProgress) =>
        reader.call(undefined, (remote, alive) =>
          remote.samples(
            index,
            Comlink.proxy((handled: number) => {
              alive();
              onProgress(handled);
            }),
          ),
        ),
      close: () => reader.terminate('import done'),
    };
  } catch (error) {
    reader.terminate('zip refused');
    throw error;
  }
}
