/**
 * Step 6, for Android: the trained classifier as a TFLite file (float32, float16 or int8), built on this computer
 * and run in LiteRT.js on the held-out images before it is offered. Beside each download: the file's size, its
 * own accuracy, how often it agrees with the TF.js model, and the time per image; a file that fails the check is
 * not offered and the reason is shown. The Kotlin and Python code for the last checked file can be copied.
 */
import type { CheckedTflite } from '../../tflite/verdict';
import { kotlinSnippet, pythonSnippet } from '../../tflite/snippets';
import { h, replace, tabStopWhileScrollable } from './dom';
import { formatBytes, formatPercent } from '../text/format';
import type { TfliteKind } from '../../../shared/trainer-messages';

export interface TflitePanel {
  /** Whether a classifier is ready; clears earlier files when it changes. */
  setReady(ready: boolean, preprocessing?: { scale: number; offset: number }): void;
  setBusy(kind: TfliteKind | null): void;
  show(result: CheckedTflite): void;
}

const KINDS: { kind: TfliteKind; label: string; note: string }[] = [
  { kind: 'int8', label: 'TFLite int8 for Android', note: 'full-integer, about a third of the size; takes uint8 pixels' },
  { kind: 'float16', label: 'TFLite float16', note: 'half the size, float32 input' },
  { kind: 'float32', label: 'TFLite float32', note: 'exact weights, float32 input' },
];

/** One line: what LiteRT.js measured on the held-out images. */
export function checkSummary(result: Omit<CheckedTflite, 'file' | 'labels'>): string {
  if (!result.check) return `${formatBytes(result.fileBytes)} · not offered: ${result.failure}`;
  const { accuracy, agreement, msPerImage } = result.check;
  const measured = `${formatBytes(result.fileBytes)} · accuracy ${formatPercent(accuracy)} · agrees with TF.js ${formatPercent(agreement)} · ${msPerImage.toFixed(1)} ms/image`;
  return result.failure ? `${measured} · not offered: ${result.failure}` : measured;
}

export function mountTflite(el: HTMLElement, callbacks: { onBuild(kind: TfliteKind): void }): TflitePanel {
  let ready = false;
  let busy: TfliteKind | null = null;
  let preprocessing = { scale: 1, offset: 0 };
  const rows = new Map<TfliteKind, { button: HTMLButtonElement; status: HTMLElement; link: HTMLAnchorElement }>();
  const items = KINDS.map(({ kind, label, note }) => {
    const button = h('button', { type: 'button', class: 'button', on: { click: () => ready && busy === null && callbacks.onBuild(kind) } }, `Build and check ${label}`);
    const status = h('span', { class: 'muted small', attrs: { role: 'status', 'data-kind': kind } }, note);
    const link = h('a', { class: 'button small', hidden: true, attrs: { 'data-kind': kind } }, `Download graft-${kind}.zip`);
    rows.set(kind, { button, status, link });
    return h('li', null, button, h('span', { class: 'export-note' }, status, ' ', link));
  });
  const kotlin = h('code');
  const python = h('code');
  const kotlinPre = h('pre', { attrs: { role: 'region', 'aria-label': 'Kotlin code for the TFLite file' } }, kotlin);
  const pythonPre = h('pre', { attrs: { role: 'region', 'aria-label': 'Python code for the TFLite file' } }, python);
  tabStopWhileScrollable(kotlinPre, kotlin);
  tabStopWhileScrollable(pythonPre, python);
  const code = h('details', { class: 'snippet', hidden: true }, h('summary', null, 'Android (Kotlin) and Python code for this file'), kotlinPre, pythonPre);
  el.classList.add('export');
  replace(
    el,
    h('p', { class: 'muted small' }, 'Built here and checked in LiteRT.js (a TFLite runtime) on your held-out photos before download; nothing is uploaded.'),
    h('ul', { class: 'export-list' }, items),
    code,
  );

  const render = () => {
    for (const [kind, { button }] of rows) {
      button.disabled = !ready;
      button.setAttribute('aria-disabled', String(busy !== null));
      button.setAttribute('aria-busy', String(busy === kind));
    }
  };

  const api: TflitePanel = {
    setReady(next, nextPreprocessing) {
      ready = next;
      if (nextPreprocessing) preprocessing = nextPreprocessing;
      for (const [kind, { status, link }] of rows) {
        status.textContent = KINDS.find((k) => k.kind === kind)!.note;
        if (link.href) URL.revokeObjectURL(link.href);
        link.removeAttribute('href');
        link.hidden = true;
      }
      code.hidden = true;
      render();
    },
    setBusy(kind) {
      busy = kind;
      if (kind) rows.get(kind)!.status.textContent = 'Building, then checking in LiteRT.js…';
      render();
    },
    show(result) {
      const row = rows.get(result.kind)!;
      row.status.textContent = checkSummary(result);
      if (row.link.href) URL.revokeObjectURL(row.link.href);
      if (result.zip) {
        row.link.href = URL.createObjectURL(new Blob([result.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
        row.link.download = `graft-${result.kind}.zip`;
        row.link.hidden = false;
        const input = { kind: result.kind, signature: result.signature, preprocessing, labels: [] };
        kotlin.textContent = kotlinSnippet(input);
        python.textContent = pythonSnippet(input);
        code.hidden = false;
      } else {
        row.link.removeAttribute('href');
        row.link.hidden = true;
      }
    },
  };
  api.setReady(false);
  return api;
}
