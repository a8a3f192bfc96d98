/**
 * TensorFlow.js in Node, for the tools and the tests: the cpu and wasm backends registered by importing this module
 * (the wasm binaries read from the installed @tensorflow/tfjs-backend-wasm package; tfjs has no wasm threads in
 * Node, so wasm runs on one thread), and tfjs-layers loaded, which is what registers the gradients of the core ops.
 * `await useBackend('wasm' | 'cpu')` switches backend.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type TestBackend = 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
// The package's `main` lives in its dist folder, next to the .wasm files; the prefix must end in '/'.
setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));

/** Makes `name` the active backend, initialising it on first use. */
export async function useBackend(name: TestBackend): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}
