/**
 * "Coming back": what this browser already holds for Graft: cached features per (dataset, model), saved
 * training runs (an unfinished one can be resumed; a finished one opened or trained again), whether storage is
 * persisted, and a two-step "Clear cache". Mounted on its own <section>, which it hides while there is nothing
 * to show.
 */
import { h, replace, scrollRegion, uniqueId } from './dom';
import { formatBytes, formatCount, formatPercent } from '../text/format';

export interface CacheEntry {
  datasetName: string;
  modelName: string;
  /** Images with their features cached. */
  images: number;
  bytes: number;
}

export interface SavedRun {
  runId: string;
  datasetName: string;
  modelName: string;
  /** Epochs finished. */
  epoch: number;
  /** Epochs planned, when known. */
  totalEpochs: number | null;
  /** Best validation accuracy so far, or null before the first epoch. */
  bestValAccuracy: number | null;
  /** Every planned epoch has run: nothing is left to resume. */
  finished: boolean;
  /** Its classifier, curves and results are saved and can be opened. */
  hasResults: boolean;
  /** ms since the epoch. */
  savedAt: number;
}

export interface CacheState {
  entries: CacheEntry[];
  runs: SavedRun[];
  /** navigator.storage.persisted(), or null where unknown. */
  persisted: boolean | null;
  /** What the browser answered when this page last asked it to keep the storage and it refused, else null. */
  keepRefusal: string | null;
}

export interface CachePanelCallbacks {
  onResume(runId: string): void;
  onOpenResults(runId: string): void;
  onTrainAgain(runId: string): void;
  onClear(): void;
  /** Ask the browser to keep this site's storage. */
  onKeep(): void;
}

export interface CachePanel {
  update(state: CacheState): void;
  /** Disables Resume and Clear while a run is under way. */
  setDisabled(disabled: boolean): void;
}

const dateFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

export function mountCachePanel(section: HTMLElement, callbacks: CachePanelCallbacks): CachePanel {
  const body = h('div', { class: 'coming-back' });
  const titleId = uniqueId('coming-back-title');
  replace(section, h('h2', { class: 'step-title', id: titleId }, h('span', { class: 'step-number', attrs: { 'aria-hidden': 'true' } }, '↺'), 'Coming back'), body);
  section.setAttribute('aria-labelledby', titleId);
  section.hidden = true;
  let disabled = false;

  function clearControls(total: number): HTMLElement {
    const box = h('div', { class: 'clear-box' });
    const ask = h('button', { type: 'button', class: 'button danger-outline' }, 'Clear cache…');
    const showAsk = (focus: boolean) => {
      replace(box, ask);
      ask.disabled = disabled;
      if (focus) ask.focus();
    };
    ask.addEventListener('click', () => {
      const confirm = h('button', { type: 'button', class: 'button danger' }, 'Delete everything');
      const keep = h('button', { type: 'button', class: 'button' }, 'Keep it');
      confirm.addEventListener('click', () => {
        replace(box, h('p', { class: 'muted', attrs: { role: 'status' } }, 'Clearing…'));
        callbacks.onClear();
      });
      keep.addEventListener('click', () => showAsk(true));
      replace(
        box,
        h(
          'div',
          { class: 'confirm', attrs: { role: 'group', 'aria-label': 'Confirm clearing the cache' } },
          h('p', null, `This deletes ${formatBytes(total)} of cached features, every saved run and every trained classifier from this browser. Training again will have to extract the features again. Your own classes and their samples stay, and so do your publications and their delete keys (unpublish them under “Your publications”).`),
          h('div', { class: 'button-row' }, confirm, keep),
        ),
      );
      keep.focus();
    });
    showAsk(false);
    return box;
  }

  /** Whether the browser keeps what is stored, and, while it may clear it, a way to ask it not to. */
  function persistence(state: CacheState): HTMLElement {
    const line = (text: string, ...rest: (HTMLElement | null)[]) => h('div', { class: 'persistence' }, h('p', { class: 'muted small' }, text), ...rest);
    if (state.persisted === null) return line('This browser does not say whether it keeps the cache.');
    if (state.persisted) return line('Storage is persisted: the browser will not clear it to make room.');
    if (state.keepRefusal) return line(state.keepRefusal);
    const ask = h('button', { type: 'button', class: 'button small', disabled, on: { click: () => callbacks.onKeep() } }, 'Ask the browser to keep it');
    return line('Storage is not persisted: the browser may clear it when space runs low.', ask);
  }

  return {
    update(state) {
      const empty = state.entries.length === 0 && state.runs.length === 0;
      section.hidden = empty;
      if (empty) {
        replace(body);
        return;
      }
      const total = state.entries.reduce((sum, e) => sum + e.bytes, 0);
      const runs =
        state.runs.length === 0
          ? null
          : h(
              'div',
              null,
              h('h3', { class: 'subheading' }, 'Saved training runs'),
              h(
                'ul',
                { class: 'run-list' },
                state.runs.map((run) => {
                  const name = `${run.datasetName} · ${run.modelName}`;
                  const button = (label: string, ariaLabel: string, primary: boolean, onClick: () => void) =>
                    h('button', { type: 'button', class: primary ? 'button primary' : 'button', disabled, attrs: { 'aria-label': ariaLabel }, on: { click: onClick } }, label);
                  const progress = run.finished
                    ? `Finished: ${formatCount(run.epoch)} epochs`
                    : `Epoch ${formatCount(run.epoch)}${run.totalEpochs ? ` of ${formatCount(run.totalEpochs)}` : ''}`;
                  return h(
                    'li',
                    { class: 'run' },
                    h(
                      'div',
                      null,
                      h('p', { class: 'run-title' }, name),
                      h(
                        'p',
                        { class: 'muted small' },
                        `${progress} · best validation accuracy ${run.bestValAccuracy === null ? '–' : formatPercent(run.bestValAccuracy)}` +
                          ` · saved ${dateFormat.format(run.savedAt)}`,
                      ),
                    ),
                    run.finished
                      ? h(
                          'div',
                          { class: 'button-row' },
                          run.hasResults ? button('Open results', `Open results of ${name}`, true, () => callbacks.onOpenResults(run.runId)) : null,
                          button('Train again', `Train ${name} again`, !run.hasResults, () => callbacks.onTrainAgain(run.runId)),
                        )
                      : button('Resume', `Resume ${name} at epoch ${run.epoch}`, true, () => callbacks.onResume(run.runId)),
                  );
                }),
              ),
            );
      const entries =
        state.entries.length === 0
          ? null
          : h(
              'div',
              null,
              h('h3', { class: 'subheading' }, 'Cached features'),
              scrollRegion(
                'Cached features',
                h(
                  'table',
                  { class: 'data-table' },
                  h('caption', { class: 'visually-hidden' }, 'Cached features per dataset and model'),
                  h(
                    'thead',
                    null,
                    h('tr', null, h('th', { scope: 'col' }, 'Dataset'), h('th', { scope: 'col' }, 'Model'), h('th', { scope: 'col', class: 'num' }, 'Images'), h('th', { scope: 'col', class: 'num' }, 'Size')),
                  ),
                  h(
                    'tbody',
                    null,
                    state.entries.map((e) =>
                      h('tr', null, h('td', null, e.datasetName), h('td', null, e.modelName), h('td', { class: 'num' }, formatCount(e.images)), h('td', { class: 'num' }, formatBytes(e.bytes))),
                    ),
                  ),
                ),
              ),
            );
      replace(
        body,
        h('p', { class: 'muted' }, 'This browser still holds work from an earlier visit, so training can pick up where it left off.'),
        h('div', { class: 'coming-back-grid' }, runs, entries),
        h('div', { class: 'coming-back-footer' }, persistence(state), clearControls(total)),
      );
    },
    setDisabled(value) {
      disabled = value;
      for (const button of body.querySelectorAll('button')) button.disabled = value;
    },
  };
}
