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
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

const TASK_EVENTS = new Set(['ThreadControllerImpl::RunTask', 'RunTask']);

/**
 * Starts tracing `page`'s browser; stop() returns the tasks of `minWallMs` or more since the start that ran on the
 * renderer threads whose name `isThread` accepts ('CrRendererMain': the page's main thread; 'DedicatedWorker
 * thread': its workers).
 */
export async function traceTasks(page: Page, isThread: (name: string) => boolean, minWallMs = 0): Promise<{ stop(): Promise<MainThreadTask[]> }> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...(value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['toplevel', '__metadata'] } });
  return {
    async stop() {
      const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await complete;
      await cdp.detach();
      const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name');
      const renderers = new Set(names.filter((e) => e.args?.name === 'CrRendererMain').map((e) => e.pid));
      const threads = new Set(names.filter((e) => renderers.has(e.pid) && isThread(e.args?.name ?? '')).map((e) => `${e.pid}:${e.tid}`));
      return events
        .filter((e) => e.ph === 'X' && TASK_EVENTS.has(e.name) && threads.has(`${e.pid}:${e.tid}`) && (e.dur ?? 0) >= minWallMs * 1000)
        .map((e) => ({ startUs: e.ts, wallMs: e.dur! / 1000, cpuMs: (e.tdur ?? e.dur!) / 1000 }));
    },
  };
}

/** Starts tracing `page`; stop() returns its main-thread tasks of `minWallMs` or more since the start. */
export function traceMainThread(page: Page, minWallMs = 50): Promise<{ stop(): Promise<MainThreadTask[]> }> {
  return traceTasks(page, (name) => name === 'CrRendererMain', minWallMs);
}

/** The tasks that kept the main thread busy for 50 ms of CPU or more: the page's own long tasks. */
export const busyForLong = (tasks: MainThreadTask[]): MainThreadTask[] => tasks.filter((t) => t.cpuMs >= 50);
