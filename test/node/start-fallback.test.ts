/**
 * What a worker start falls back to after failed attempts, and the note the visitor reads about it (the
 * extraction panel's fallback notes, the trainer's info line).
 */
import { describe, expect, it } from 'vitest';
import { usableWasmThreads } from '../../client/engine/backend';
import { fallbackRequest, withStartFailures } from '../../client/engine/start-fallback';
import { fallbackNotes } from '../../client/page/text/backend-text';

describe('start fallback', () => {
  it('asks for the settings first, then WASM on one thread, then cpu', () => {
    const asked = { backend: 'auto', threads: 4 } as const;
    expect(fallbackRequest(asked, 0)).toEqual(asked);
    expect(fallbackRequest(asked, 1)).toEqual({ backend: 'wasm', threads: 1 });
    expect(fallbackRequest(asked, 2)).toEqual({ backend: 'cpu', threads: 1 });
    expect(fallbackRequest({ backend: 'cpu', threads: 1 }, 1)).toEqual({ backend: 'cpu', threads: 1 });
  });

  it('names what failed in the first note, which the extraction panel shows in words', () => {
    const report = { backend: 'wasm' as const, simd: true, threads: 1, notes: ['WebGPU is not available in this browser'] };
    expect(withStartFailures(report, 'extraction worker 1', [])).toBe(report);
    const restarted = withStartFailures(report, 'extraction worker 1', ['it did not start within 90 s']);
    expect(restarted.notes).toEqual([
      'extraction worker 1 was restarted after its start failed (it did not start within 90 s)',
      'WebGPU is not available in this browser',
    ]);
    expect(fallbackNotes([{ id: 1, report: restarted }])[0]).toBe(
      'Extraction worker 1 was restarted after its start failed (it did not start within 90 s): running on TF.js WASM.',
    );
  });

  it('gives a worker the plain SIMD build when tfjs would run it on one thread', () => {
    // tfjs runs a WASM worker on at most half the cores.
    expect(usableWasmThreads(2, 2)).toBe(1);
    expect(usableWasmThreads(1, 8)).toBe(1);
    expect(usableWasmThreads(4, 8)).toBe(4);
    expect(usableWasmThreads(8, 8)).toBe(4);
  });
});
