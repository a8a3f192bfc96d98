/**
 * The classify-only page's "Take it with you": a download of the Android zip for each TFLite file the publication
 * holds (built in the page from the published file, as the trainer's export builds it), and the snippet that
 * embeds this page in another site (an <iframe>), with a button that copies it.
 */
import type { TfliteKind } from '../../../shared/trainer-messages';
import { copyControl } from './copy-code';
import { h, replace, tabStopWhileScrollable } from './dom';
import { formatBytes } from '../text/format';

export interface ShareInput {
  /** The TFLite files published, with their sizes. */
  files: { kind: TfliteKind; bytes: number }[];
  /** The <iframe> snippet. */
  embed: string;
}

export interface SharePanel {
  /** A download is being prepared (its button busy) or done (null), and what went wrong, if anything. */
  setBusy(kind: TfliteKind | null, error?: string): void;
}

const NOTES: Record<TfliteKind, string> = {
  int8: 'full-integer, the smallest; takes uint8 pixels',
  float16: 'half-size weights, float32 input',
  float32: 'exact weights, float32 input',
};

export function mountSharePanel(el: HTMLElement, input: ShareInput, callbacks: { onDownload(kind: TfliteKind): void }): SharePanel {
  const buttons = new Map<TfliteKind, HTMLButtonElement>();
  let busy: TfliteKind | null = null;
  const error = h('p', { class: 'error-text', attrs: { role: 'alert' } });
  const rows = input.files.map(({ kind, bytes }) => {
    const button = h('button', { type: 'button', class: 'button', on: { click: () => busy === null && callbacks.onDownload(kind) } }, `Download for Android (${kind})`);
    buttons.set(kind, button);
    return h('li', null, button, h('span', { class: 'export-note muted small' }, `${formatBytes(bytes)} · ${NOTES[kind]}`));
  });
  const code = h('code', null, input.embed);
  const copy = copyControl(code, 'Copy snippet');
  const pre = h('pre', { attrs: { role: 'region', 'aria-label': 'Snippet that embeds this page' } }, code);
  tabStopWhileScrollable(pre, code);
  replace(
    el,
    h('h2', { class: 'subheading' }, 'Take it with you'),
    h('p', { class: 'muted small' }, 'A zip with model.tflite, labels.txt and a README with Kotlin and Python code for an Android app.'),
    h('ul', { class: 'export-list' }, rows),
    error,
    h(
      'div',
      { class: 'snippet' },
      h('div', { class: 'snippet-bar' }, h('span', { class: 'small' }, 'Embed this page in your own site'), h('span', { class: 'snippet-actions' }, copy.note, copy.button)),
      pre,
      h('p', { class: 'muted small' }, 'Inside another site the camera works where that site lets the frame use it (the snippet asks for it).'),
    ),
  );

  return {
    setBusy(kind, message) {
      busy = kind;
      error.textContent = message ?? '';
      for (const [k, button] of buttons) {
        button.textContent = k === kind ? 'Preparing…' : `Download for Android (${k})`;
        button.setAttribute('aria-busy', String(k === kind));
      }
    },
  };
}
