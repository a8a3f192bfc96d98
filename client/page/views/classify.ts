/**
 * Try the classifier on any image (step 5 of the trainer's page, and the classify-only page /m/<id>): drop or pick
 * one, see it with its top classes and their probabilities. The file input is labelled "Classify a photo" and the
 * top class is written alone into a role="status" element (checks from outside the pages rely on both). The
 * preview's object URL is made and revoked here; the classification is the caller's.
 */
import { bar, dropZone, h, replace } from './dom';
import { formatPercent } from '../text/format';

export interface ClassifyCallbacks {
  onClassify(file: File): void;
}

export interface Classify {
  /** The top classes for the image last handed to onClassify, most likely first. */
  update(top: { label: string; probability: number }[]): void;
  showError(message: string): void;
  /** Off until a classifier exists; `reason` says why. */
  setEnabled(enabled: boolean, reason?: string): void;
  /** Forgets the last image and its classes (another classifier is now the one that answers). */
  clear(): void;
}

export function mountClassify(el: HTMLElement, callbacks: ClassifyCallbacks, title = 'Try it'): Classify {
  const input = h('input', { type: 'file', accept: 'image/*', hidden: true, attrs: { 'aria-label': 'Classify a photo' } });
  const choose = h('button', { type: 'button', class: 'button', on: { click: () => input.click() } }, 'Choose an image…');
  const reasonText = h('p', { class: 'muted small' });
  const preview = h('div', { class: 'classify-preview' });
  const topClass = h('strong', { attrs: { role: 'status' } });
  const topLine = h('p', { class: 'classify-top', hidden: true }, 'Top class: ', topClass);
  const result = h('div', { class: 'classify-result', attrs: { 'aria-live': 'polite' } });
  const zone = h('div', { class: 'dropzone compact-zone' }, h('p', null, 'Drop any image here to see what the classifier makes of it.'), choose, input, reasonText);
  replace(el, h('h3', { class: 'subheading' }, title), h('div', { class: 'classify' }, zone, h('div', { class: 'classify-output' }, preview, h('div', { class: 'classify-answer' }, topLine, result))));

  /** The top class of the image shown, or '' while there is none (being classified, failed, cleared). */
  const showTop = (name: string) => {
    topClass.textContent = name;
    topLine.hidden = name === '';
  };

  let enabled = false;
  let previewUrl: string | null = null;

  function take(file: File | undefined): void {
    if (!enabled || !file) return;
    if (file.type && !file.type.startsWith('image/')) {
      showTop('');
      replace(result, h('p', { class: 'error-text' }, `“${file.name}” is not an image.`));
      return;
    }
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    replace(preview, h('img', { src: previewUrl, alt: `Your image ${file.name}` }));
    showTop('');
    replace(result, h('p', { class: 'muted' }, 'Classifying…'));
    callbacks.onClassify(file);
  }

  input.addEventListener('change', () => {
    take(input.files?.[0]);
    input.value = '';
  });
  dropZone(zone, () => enabled, (transfer) => take(transfer.files[0]));

  const api: Classify = {
    update(top) {
      showTop(top[0]?.label ?? '');
      replace(
        result,
        h(
          'ol',
          { class: 'top-classes' },
          top.map((t, i) =>
            h('li', { class: i === 0 ? 'best' : '' }, h('span', { class: 'class-name' }, t.label), bar(t.probability, i === 0 ? 'accent' : ''), h('span', { class: 'class-value' }, formatPercent(t.probability))),
          ),
        ),
      );
    },
    showError(message) {
      showTop('');
      replace(result, h('p', { class: 'error-text' }, message));
    },
    clear() {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = null;
      showTop('');
      replace(preview);
      replace(result);
    },
    setEnabled(value, reason) {
      enabled = value;
      choose.disabled = !value;
      zone.classList.toggle('disabled', !value);
      reasonText.textContent = value ? '' : (reason ?? 'Train a classifier first.');
    },
  };
  api.setEnabled(false);
  return api;
}
