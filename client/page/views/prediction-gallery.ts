/**
 * Step 5: the prediction gallery, as in the seed notebook: thumbnail, true class, predicted class and
 * confidence, the title green when right and red when wrong (with a ✓/✗ so colour is not the only signal).
 * Filter: all or wrong only; shown a page at a time. Thumbnails come from a callback (images live in shards)
 * and are asked for once per image; the object URLs stay owned by whoever made them. A wrong prediction of an
 * image the visitor can edit (a sample built in the page) gets two one-click fixes: move it to the predicted
 * class (it was mislabelled) or delete it.
 */
import type { Evaluation } from '../../../shared/training';
import { filterPredictions, type GalleryFilter } from './confusion';
import { append, h, replace, uniqueId } from './dom';
import { formatCount, formatPercent } from '../text/format';

const PAGE_SIZE = 24;

export type ThumbnailSource = (imageId: string) => Promise<string>;

export interface PredictionFixes {
  /** Whether this image can be moved or deleted here. */
  canFix(imageId: string): boolean;
  relabel(imageId: string, className: string): Promise<void>;
  remove(imageId: string): Promise<void>;
}

export interface PredictionGallery {
  update(evaluation: Evaluation | null): void;
}

export function mountPredictionGallery(el: HTMLElement, thumbnail: ThumbnailSource, fixes?: PredictionFixes): PredictionGallery {
  const name = uniqueId('gallery-filter');
  const allCount = h('span');
  const wrongCount = h('span');
  const radios: Record<GalleryFilter, HTMLInputElement> = {
    all: h('input', { type: 'radio', name, value: 'all', checked: true }),
    wrong: h('input', { type: 'radio', name, value: 'wrong' }),
  };
  const filterBar = h(
    'fieldset',
    { class: 'segmented' },
    h('legend', { class: 'visually-hidden' }, 'Show'),
    h('label', null, radios.all, ' All ', allCount),
    h('label', null, radios.wrong, ' Wrong only ', wrongCount),
  );
  const list = h('ul', { class: 'gallery' });
  const status = h('p', { class: 'muted small', attrs: { role: 'status' } });
  const more = h('button', { type: 'button', class: 'button' }, 'Show more');
  replace(el, h('h3', { class: 'subheading' }, 'Predictions'), filterBar, status, list, more);

  let evaluation: Evaluation | null = null;
  let filter: GalleryFilter = 'all';
  let shown: Evaluation['predictions'] = [];
  let count = 0;
  let thumbnails = new Map<string, Promise<string>>();

  function thumbnailOf(imageId: string): Promise<string> {
    let promise = thumbnails.get(imageId);
    if (!promise) {
      promise = thumbnail(imageId);
      thumbnails.set(imageId, promise);
    }
    return promise;
  }

  function card(p: Evaluation['predictions'][number], classes: string[]): HTMLElement {
    const right = p.trueClass === p.predictedClass;
    const trueName = classes[p.trueClass] ?? `class ${p.trueClass}`;
    const predictedName = classes[p.predictedClass] ?? `class ${p.predictedClass}`;
    const image = h('img', { alt: `A ${trueName} image`, decoding: 'async' });
    const frame = h('div', { class: 'gallery-image loading' }, image);
    thumbnailOf(p.imageId).then(
      (url) => {
        image.src = url;
        frame.classList.remove('loading');
      },
      () => {
        frame.classList.remove('loading');
        replace(frame, h('span', { class: 'muted small' }, 'No preview'));
      },
    );
    return h(
      'li',
      { class: `prediction ${right ? 'right' : 'wrong'}` },
      frame,
      h(
        'p',
        { class: 'prediction-title' },
        h('span', { class: 'prediction-mark', attrs: { 'aria-hidden': 'true' } }, right ? '✓' : '✗'),
        h('span', { class: 'visually-hidden' }, right ? 'Right. ' : 'Wrong. '),
        ' ',
        h('span', null, 'True: ', h('strong', null, trueName)),
        h('br'),
        h('span', null, 'Predicted: ', h('strong', null, predictedName), ` (${formatPercent(p.confidence)})`),
      ),
      !right && fixes?.canFix(p.imageId) ? fixBar(p.imageId, trueName, predictedName) : null,
    );
  }

  /** "Move to <predicted>" and "Delete"; what was done replaces them and takes the focus. */
  function fixBar(imageId: string, trueName: string, predictedName: string): HTMLElement {
    const error = h('p', { class: 'error-text small', attrs: { role: 'alert' } });
    const act = (run: () => Promise<void>, done: string) => () => {
      for (const button of buttons) button.disabled = true;
      run().then(
        () => {
          const note = h('p', { class: 'ok-text small', tabIndex: -1 }, done);
          replace(bar, note);
          note.focus();
        },
        (e: Error) => {
          error.textContent = e.message;
          for (const button of buttons) button.disabled = false;
        },
      );
    };
    const buttons = [
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          attrs: { 'aria-label': `Move this ${trueName} image to ${predictedName}` },
          on: { click: act(() => fixes!.relabel(imageId, predictedName), `Moved to ${predictedName}: the next run trains on it there.`) },
        },
        `Move to ${predictedName}`,
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'button small danger-outline',
          attrs: { 'aria-label': `Delete this ${trueName} image` },
          on: { click: act(() => fixes!.remove(imageId), 'Deleted: the next run trains without it.') },
        },
        'Delete',
      ),
    ];
    const bar = h('div', { class: 'prediction-fix' }, h('div', { class: 'button-row' }, buttons), error);
    return bar;
  }

  function showMore(): void {
    if (!evaluation) return;
    const next = shown.slice(count, count + PAGE_SIZE);
    append(list, next.map((p) => card(p, evaluation!.classes)));
    count += next.length;
    more.hidden = count >= shown.length;
    status.textContent =
      shown.length === 0 ? (filter === 'wrong' ? 'No wrong predictions: every image was classified correctly.' : 'No predictions.') : `Showing ${formatCount(count)} of ${formatCount(shown.length)}.`;
  }

  function render(): void {
    replace(list);
    count = 0;
    shown = evaluation ? filterPredictions(evaluation.predictions, filter) : [];
    showMore();
  }

  more.addEventListener('click', () => {
    const firstNew = count;
    showMore();
    // Keep the keyboard user where the new cards start rather than on a button that may have just vanished.
    const target = list.children[firstNew] as HTMLElement | undefined;
    if (target) {
      target.tabIndex = -1;
      target.focus();
    }
  });
  for (const f of ['all', 'wrong'] as const) {
    radios[f].addEventListener('change', () => {
      filter = f;
      render();
    });
  }

  return {
    update(next) {
      evaluation = next;
      thumbnails = new Map();
      const wrong = next ? next.predictions.filter((p) => p.trueClass !== p.predictedClass).length : 0;
      allCount.textContent = `(${formatCount(next?.predictions.length ?? 0)})`;
      wrongCount.textContent = `(${formatCount(wrong)})`;
      render();
    },
  };
}
