/**
 * Step 4: feature extraction across the worker farm: an overall bar with counts, speed, ETA, forward passes and
 * server requests; the files that were skipped and why; one row per worker with its backend, images done, speed
 * (images/s) and state; and the backend fallback notes in plain words.
 */
import type { BackendReport } from '../../../shared/farm';
import { describeBackend, fallbackNotes, sentence } from '../text/backend-text';
import { h, replace, scrollRegion } from './dom';
import { formatCount, formatDuration, formatPercent, formatRate, plural } from '../text/format';

export type WorkerState = 'starting' | 'working' | 'idle' | 'dead' | 'restarting';

export interface ExtractionProgress {
  total: number;
  done: number;
  failed: { key: string; file?: string; reason: string }[];
  imagesPerSecond: number;
  /** null or non-finite while unknown. */
  etaSeconds: number | null;
  forwardPasses: number;
  requests: number;
  workers: { id: number; report: BackendReport | null; done: number; imagesPerSecond: number; state: WorkerState; stoppedBecause?: string }[];
}

export interface ExtractionProgressView {
  /** null hides the panel (nothing to extract yet). */
  update(progress: ExtractionProgress | null): void;
}

const STATE_TEXT: Record<WorkerState, string> = {
  starting: 'starting',
  working: 'working',
  idle: 'idle',
  dead: 'stopped',
  restarting: 'restarting',
};

/** Skipped files listed before "and N more". */
const MAX_FAILED_SHOWN = 100;

export function mountExtractionProgress(el: HTMLElement): ExtractionProgressView {
  const bar = h('progress', { class: 'progress', max: 1, value: 0, attrs: { 'aria-label': 'Feature extraction' } });
  const headline = h('p', { class: 'progress-headline' });
  const stats = h('dl', { class: 'stats' });
  const failed = h('div');
  const notes = h('ul', { class: 'notes' });
  const workersBody = h('tbody');
  const workersTable = h(
    'table',
    { class: 'data-table workers-table' },
    h('caption', { class: 'visually-hidden' }, 'Workers'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        // Short headings, so that the table reads whole on a phone (390 px): "#" is read as "Worker".
        h('th', { scope: 'col' }, h('span', { attrs: { 'aria-hidden': 'true' } }, '#'), h('span', { class: 'visually-hidden' }, 'Worker')),
        ['Backend', 'Done', 'Speed', 'State'].map((c, i) => h('th', { scope: 'col', class: i === 1 || i === 2 ? 'num' : '' }, c)),
      ),
    ),
    workersBody,
  );
  const panel = h(
    'div',
    { class: 'extraction' },
    h('h3', { class: 'subheading' }, 'Feature extraction'),
    headline,
    bar,
    stats,
    failed,
    notes,
    scrollRegion('Workers', workersTable),
  );
  let lastFailedCount = -1;

  function update(progress: ExtractionProgress | null): void {
    if (!progress) {
      replace(el);
      el.hidden = true;
      lastFailedCount = -1;
      return;
    }
    if (!el.contains(panel)) replace(el, panel);
    el.hidden = false;
    const { total, done } = progress;
    const processed = done + progress.failed.length;
    bar.max = Math.max(1, total);
    bar.value = Math.min(processed, total);
    headline.textContent =
      total === 0
        ? 'Every image is already cached: nothing to extract.'
        : `${formatCount(done)} of ${plural(total, 'image')} (${formatPercent(total ? processed / total : 1, 0)})` +
          (progress.failed.length ? `, ${formatCount(progress.failed.length)} skipped` : '');
    const finished = processed >= total;
    replace(
      stats,
      stat('Speed', `${formatRate(progress.imagesPerSecond)} images/s`),
      stat('Time left', finished ? 'done' : progress.etaSeconds !== null && Number.isFinite(progress.etaSeconds) ? `about ${formatDuration(progress.etaSeconds)}` : 'estimating…'),
      stat('Forward passes', formatCount(progress.forwardPasses)),
      stat('Server requests', formatCount(progress.requests)),
    );

    // Rebuilt only when the count changes, so an open <details> stays open between updates.
    if (progress.failed.length !== lastFailedCount) {
      lastFailedCount = progress.failed.length;
      const wasOpen = failed.querySelector('details')?.open ?? false;
      const shown = progress.failed.slice(0, MAX_FAILED_SHOWN);
      replace(
        failed,
        progress.failed.length === 0
          ? null
          : h(
              'details',
              { class: 'compact failed-files', open: wasOpen },
              h('summary', null, `${plural(progress.failed.length, 'file')} skipped: show which and why`),
              h(
                'ul',
                { class: 'plain-list' },
                shown.map((f) => h('li', null, h('code', null, f.file ?? f.key), ` — ${f.reason}`)),
                progress.failed.length > shown.length ? h('li', { class: 'muted' }, `and ${formatCount(progress.failed.length - shown.length)} more`) : null,
              ),
            ),
      );
    }

    const stopped = progress.workers.flatMap((w) => (w.stoppedBecause ? [`${sentence(w.stoppedBecause)}.`] : []));
    replace(notes, [...fallbackNotes(progress.workers), ...stopped].map((n) => h('li', { class: 'note' }, n)));
    replace(
      workersBody,
      progress.workers.map((w) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, String(w.id)),
          h('td', null, w.report ? describeBackend(w.report) : '…'),
          h('td', { class: 'num' }, formatCount(w.done)),
          h('td', { class: 'num nowrap' }, `${formatRate(w.imagesPerSecond)}/s`),
          h('td', null, h('span', { class: `state state-${w.state}` }, STATE_TEXT[w.state])),
        ),
      ),
    );
  }
  update(null);
  return { update };
}

function stat(term: string, value: string): HTMLElement {
  return h('div', null, h('dt', null, term), h('dd', null, value));
}
