/**
 * A TF.js layers model folder (model.json and its weight files) read from disk as tf.io.ModelArtifacts, with a
 * sha256 of all of it for cache keys: for the tools' measurements and the tests, in Node.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** model.json + its weight files from `dir`, and a hash of all of it. */
export async function readModelArtifacts(dir: string): Promise<{ artifacts: tf.io.ModelArtifacts; hash: string }> {
  const jsonBytes = await readFile(join(dir, 'model.json'));
  const json = JSON.parse(jsonBytes.toString('utf8')) as tf.io.ModelJSON;
  const hash = createHash('sha256').update(jsonBytes);
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) {
      const bytes = await readFile(join(dir, path));
      hash.update(bytes);
      buffers.push(bytes);
    }
  }
  const weightData = tf.io.CompositeArrayBuffer.join(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  return {
    artifacts: {
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData,
    },
    hash: hash.digest('hex'),
  };
}
