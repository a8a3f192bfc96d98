/** Numbers for comparing kernels across backends: seeded test values, and the error between two results. */

/** Deterministic values in [-scale, scale), the same on every backend. */
export function seededValues(size: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 31 - 1) * scale;
  });
}

/** ||actual - expected|| / ||expected|| (the plain norm of the difference when expected is all zeros). */
export function relativeError(expected: Float32Array, actual: Float32Array): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    difference += (expected[i]! - actual[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(difference) : Math.sqrt(difference / norm);
}
