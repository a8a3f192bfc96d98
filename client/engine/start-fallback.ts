/**
 * What a worker start asks for after earlier attempts failed, on the page side: first what the settings say,
 * then WASM on one thread (tfjs's non-threaded build: no pool of nested pthread workers, the part of the
 * threaded build that can hang in Firefox), then the plain-JavaScript cpu backend; and the note that tells
 * the visitor what failed.
 */
import type { BackendChoice, BackendReport } from '../../shared/farm';

export interface BackendRequest {
  backend: BackendChoice;
  threads: number;
}

/** The backend to ask for after `failures` failed starts. */
export function fallbackRequest(asked: BackendRequest, failures: number): BackendRequest {
  if (failures === 0) return asked;
  if (failures === 1 && asked.backend !== 'cpu') return { backend: 'wasm', threads: 1 };
  return { backend: 'cpu', threads: 1 };
}

/** The report with a first note naming what failed before this start (unchanged after a first-time start). */
export function withStartFailures(report: BackendReport, name: string, failures: string[]): BackendReport {
  if (failures.length === 0) return report;
  return { ...report, notes: [`${name} was restarted after its start failed (${failures.join('; ')})`, ...report.notes] };
}
