/**
 * Step 6: download the trained classifier as a TF.js layers model (float32, float16 or uint8 weights), with
 * the sizes when known and the code that loads it, which a button copies.
 */
import { copyControl } from './copy-code';
import { h, replace, tabStopWhileScrollable } from './dom';
import { loadingSnippet, type SnippetInput } from './export-snippet';
import type { WeightQuantization } from '../../../shared/trainer-messages';
import { formatBytes } from '../text/format';

export interface ExportInput extends SnippetInput {
  /** Download size per kind, where known. */
  sizes?: Partial<Record<WeightQuantization, number>>;
}

export interface ExportPanel {
  /** null: nothing to export yet. */
  update(input: ExportInput | null): void;
  /** Marks a kind as being prepared (its button busy) or done (null). */
  setBusy(kind: WeightQuantization | null): void;
}

const KINDS: { kind: WeightQuantization; label: string; note: string }[] = [
  { kind: 'float32', label: 'Download TF.js model (float32)', note: 'exact weights' },
  { kind: 'float16', label: 'Download TF.js model (float16)', note: 'half the size, same predictions in practice' },
  { kind: 'uint8', label: 'Download TF.js model (uint8)', note: 'a quarter of the size, small accuracy loss possible' },
];

export function mountExport(el: HTMLElement, callbacks: { onExport(kind: WeightQuantization): void }): ExportPanel {
  const buttons = new Map<WeightQuantization, HTMLButtonElement>();
  let busy: WeightQuantization | null = null;
  let ready = false;
  const sizes = new Map<WeightQuantization, HTMLElement>();
  const rows = KINDS.map(({ kind, label, note }) => {
    const button = h('button', { type: 'button', class: 'button', on: { click: () => busy === null && callbacks.onExport(kind) } }, label);
    const size = h('span');
    buttons.set(kind, button);
    sizes.set(kind, size);
    return h('li', null, button, h('span', { class: 'export-note muted small' }, size, note));
  });
  const code = h('code');
  const { button: copy, note: copied, reset: resetCopied } = copyControl(code);
  const reason = h('p', { class: 'muted' });
  const pre = h('pre', { attrs: { role: 'region', 'aria-label': 'Code that loads the model' } }, code);
  tabStopWhileScrollable(pre, code);
  const snippet = h(
    'div',
    { class: 'snippet' },
    h('div', { class: 'snippet-bar' }, h('span', { class: 'small' }, 'Load it in your own page'), h('span', { class: 'snippet-actions' }, copied, copy)),
    pre,
    h('p', { class: 'muted small' }, 'Serve model.json and its weight file side by side; the model takes whole images and gives one probability per class.'),
  );
  el.classList.add('export');
  replace(el, reason, h('ul', { class: 'export-list' }, rows), snippet);

  function renderButtons(): void {
    for (const [kind, button] of buttons) {
      button.disabled = !ready;
      // aria-disabled rather than disabled while busy, so the clicked button keeps the keyboard focus.
      button.setAttribute('aria-disabled', String(busy !== null));
      button.setAttribute('aria-busy', String(busy === kind));
    }
  }

  const api: ExportPanel = {
    update(input) {
      ready = input !== null;
      reason.textContent = input ? '' : 'Train a classifier first; its download options appear here.';
      snippet.hidden = !input;
      resetCopied();
      if (input) code.textContent = loadingSnippet(input);
      for (const [kind, size] of sizes) {
        const bytes = input?.sizes?.[kind];
        size.textContent = bytes !== undefined ? `${formatBytes(bytes)} · ` : '';
      }
      renderButtons();
    },
    setBusy(kind) {
      busy = kind;
      for (const [k, button] of buttons) {
        button.textContent = k === kind ? 'Preparing…' : KINDS.find((x) => x.kind === k)!.label;
      }
      renderButtons();
    },
  };
  api.update(null);
  return api;
}
