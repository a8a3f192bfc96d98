/**
 * Plain-words descriptions of what a worker actually runs on, and of why a preferred backend was not used: for the
 * runtime and extraction views and for the session's messages. Pure, no DOM.
 */
import type { ClassifierReport } from '../../../shared/classifier';
import type { BackendReport } from '../../../shared/farm';

export const BACKEND_NAMES: Record<BackendReport['backend'], string> = { webgpu: 'WebGPU', wasm: 'WASM', cpu: 'CPU' };

const LITERT_BUILD_NAMES = { 'relaxed-simd': 'relaxed SIMD', threaded: 'relaxed SIMD', compat: 'SIMD' } as const;

/** Which engine runs the forward pass: "LiteRT.js WASM", "LiteRT.js WebGPU", or TF.js's backend, "TF.js WASM". */
export function engineName(report: BackendReport): string {
  return report.liteRt ? `LiteRT.js ${report.liteRt.accelerator === 'webgpu' ? 'WebGPU' : 'WASM'}` : `TF.js ${BACKEND_NAMES[report.backend]}`;
}

/** "WASM · SIMD · 4 threads", "WebGPU", "CPU"; a LiteRT.js forward pass: "LiteRT.js WASM · relaxed SIMD · 1 thread". */
export function describeBackend(report: BackendReport): string {
  const { liteRt } = report;
  if (liteRt?.accelerator === 'wasm') {
    return [engineName(report), LITERT_BUILD_NAMES[liteRt.build], liteRt.threads === 1 ? '1 thread' : `${liteRt.threads} threads`].join(' · ');
  }
  if (liteRt) return engineName(report);
  if (report.backend !== 'wasm') return BACKEND_NAMES[report.backend];
  return [
    'WASM',
    report.simd ? 'SIMD' : 'no SIMD',
    report.threads === 1 ? '1 thread' : `${report.threads} threads`,
  ].join(' · ');
}

/** The LiteRT.js classifier: "LiteRT.js WASM · relaxed SIMD · 1 thread · int8 file". */
export function describeClassifier(report: ClassifierReport): string {
  return ['LiteRT.js WASM', LITERT_BUILD_NAMES[report.build], '1 thread', `${report.kind} file`].join(' · ');
}

/** "the worker stopped:" -> "The worker stopped" (no trailing stop or colon). */
export function sentence(text: string): string {
  const trimmed = text.trim().replace(/[.:]+$/, '');
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

/**
 * One line per distinct note, e.g. "No WebGPU adapter: running on TF.js WASM", with the workers it applies to
 * when not all of them.
 */
export function fallbackNotes(workers: readonly { id: number; report: BackendReport | null }[]): string[] {
  const reported = workers.filter((w): w is { id: number; report: BackendReport } => w.report !== null);
  const byText = new Map<string, number[]>();
  for (const { id, report } of reported) {
    for (const note of report.notes) {
      const text = `${sentence(note)}: running on ${engineName(report)}`;
      byText.set(text, [...(byText.get(text) ?? []), id]);
    }
  }
  return [...byText].map(([text, ids]) =>
    ids.length === reported.length || reported.length === 1 ? `${text}.` : `${text} (${ids.length === 1 ? 'worker' : 'workers'} ${ids.join(', ')}).`,
  );
}
