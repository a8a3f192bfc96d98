/**
 * The page's main-thread tasks from Chromium's own trace, each with its wall time and its CPU time. The CPU time is
 * what the page's code spent; on 2 cores shared with workers, the server and the test runner, the OS can stretch a
 * short task's wall time past 50 ms while the code in it ran for 10 ms.
 */
import type { Page } from 'playwright-core';

export interface MainThreadTask {
  /** Trace clock, microseconds. */
  startUs: number;
  wallMs: number;
  cpuMs: number;
  /** With `namePieces`: the longest pieces of work inside the task (script by its source, layout, paint, GC). */
  inside?: string[];
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { url?: string; functionName?: string; lineNumber?: number; type?: string } };
}

const TASK_EVENTS = new Set(['ThreadControllerImpl::RunTask', 'RunTask']);
const PIECES_NAMED = 4;

/** One piece of work inside a task, e.g. "FunctionCall qt (http://…/assets/main-….js:9) 17.4 ms" or "Layout 12.0 ms". */
function describe(event: TraceEvent): string {
  const data = event.args?.data;
  const where = data?.url ? ` (${data.url}:${data.lineNumber ?? '?'})` : '';
  const what = [event.name, data?.type, data?.functionName].filter(Boolean).join(' ');
  return `${what}${where} ${(event.dur! / 1000).toFixed(1)} ms`;
}

/**
 * Starts tracing `page`'s browser; stop() returns the tasks of `minWallMs` or more since the start that ran on the
 * renderer threads whose name `isThread` accepts ('CrRendererMain': the page's main thread; 'DedicatedWorker
 * thread': its workers). `namePieces` records what ran inside each task too (the trace costs more).
 */
export async function traceTasks(
  page: Page,
  isThread: (name: string) => boolean,
  { minWallMs = 0, namePieces = false } = {},
): Promise<{ stop(): Promise<MainThreadTask[]> }> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...(value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['toplevel', '__metadata', ...(namePieces ? ['devtools.timeline', 'v8'] : [])] } });
  return {
    async stop() {
      const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await complete;
      await cdp.detach();
      const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name');
      const renderers = new Set(names.filter((e) => e.args?.name === 'CrRendererMain').map((e) => e.pid));
      const threads = new Set(names.filter((e) => renderers.has(e.pid) && isThread(e.args?.name ?? '')).map((e) => `${e.pid}:${e.tid}`));
      const onThreads = events.filter((e) => e.ph === 'X' && e.dur !== undefined && threads.has(`${e.pid}:${e.tid}`));
      const piecesOf = (task: TraceEvent) =>
        onThreads
          .filter((e) => e !== task && !TASK_EVENTS.has(e.name) && e.tid === task.tid && e.pid === task.pid && e.ts >= task.ts && e.ts + e.dur! <= task.ts + task.dur!)
          .sort((a, b) => b.dur! - a.dur!)
          .slice(0, PIECES_NAMED)
          .map(describe);
      return onThreads
        .filter((e) => TASK_EVENTS.has(e.name) && e.dur! >= minWallMs * 1000)
        .map((e) => ({ startUs: e.ts, wallMs: e.dur! / 1000, cpuMs: (e.tdur ?? e.dur!) / 1000, ...(namePieces && { inside: piecesOf(e) }) }));
    },
  };
}

/** Starts tracing `page`; stop() returns its main-thread tasks of `minWallMs` or more since the start, with what ran in them. */
export function traceMainThread(page: Page, minWallMs = 50): Promise<{ stop(): Promise<MainThreadTask[]> }> {
  return traceTasks(page, (name) => name === 'CrRendererMain', { minWallMs, namePieces: true });
}

/** The tasks that kept the main thread busy for 50 ms of CPU or more: the page's own long tasks. */
export const busyForLong = (tasks: MainThreadTask[]): MainThreadTask[] => tasks.filter((t) => t.cpuMs >= 50);
