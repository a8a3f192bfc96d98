/**
 * Step 5: how good the classifier is: accuracy before training and at the end, accuracy per class (bars),
 * the confusion matrix as a table (rows true, columns predicted, shaded by each row's share, with totals),
 * and the prediction gallery.
 */
import type { Evaluation, History } from '../../../shared/training';
import { summariseConfusion } from './confusion';
import { bar, h, replace, scrollRegion } from './dom';
import { formatCount, formatLoss, formatPercent, plural } from '../text/format';
import { mountPredictionGallery, type PredictionFixes, type ThumbnailSource } from './prediction-gallery';

export interface ResultsInput {
  evaluation: Evaluation;
  /** The untrained head's validation accuracy and loss (History.initial). */
  initial: History['initial'];
}

export interface Results {
  /** null: no results yet (and no gallery). */
  update(results: ResultsInput | null): void;
  /** The prediction gallery of the results shown: the largest part, which the page draws in a frame of its own. */
  updateGallery(evaluation: Evaluation): void;
}

/** A row share above this gets light text on the dark shade. */
const STRONG_SHADE = 0.55;

export function mountResults(el: HTMLElement, callbacks: { thumbnail: ThumbnailSource; fixes?: PredictionFixes }): Results {
  const summary = h('div');
  const perClass = h('div');
  const matrix = h('div');
  const galleryBox = h('div');
  const body = h('div', { class: 'results' }, summary, h('div', { class: 'results-grid' }, perClass, matrix), galleryBox);
  const placeholder = h('p', { class: 'muted' }, 'Results appear here when training has finished.');
  const gallery = mountPredictionGallery(galleryBox, callbacks.thumbnail, callbacks.fixes);
  replace(el, placeholder);

  return {
    update(results) {
      if (!results) {
        gallery.update(null);
        replace(el, placeholder);
        return;
      }
      const { evaluation, initial } = results;
      const counts = summariseConfusion(evaluation.confusion);
      const splitName = evaluation.split === 'test' ? 'test' : 'validation';
      replace(
        summary,
        h(
          'div',
          { class: 'headline-figures' },
          h(
            'div',
            { class: 'figure-box' },
            h('p', { class: 'figure-label' }, 'Before training'),
            h('p', { class: 'figure-value' }, initial ? formatPercent(initial.valAccuracy) : '–'),
            h('p', { class: 'muted small' }, initial ? `validation accuracy, loss ${formatLoss(initial.valLoss)}` : 'not measured'),
          ),
          h('span', { class: 'figure-arrow', attrs: { 'aria-hidden': 'true' } }, '→'),
          h(
            'div',
            { class: 'figure-box accent' },
            h('p', { class: 'figure-label' }, 'After training'),
            h('p', { class: 'figure-value' }, formatPercent(evaluation.accuracy)),
            h('p', { class: 'muted small' }, `${splitName} accuracy, loss ${formatLoss(evaluation.loss)}`),
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          `${formatCount(counts.correct)} of ${plural(counts.total, `${splitName} image`)} classified correctly` +
            (counts.total !== evaluation.predictions.length ? ` (the gallery holds ${formatCount(evaluation.predictions.length)})` : '') +
            '.',
        ),
      );

      replace(perClass, h('h3', { class: 'subheading' }, 'Accuracy per class'), perClassBars(evaluation));
      replace(matrix, h('h3', { class: 'subheading' }, 'Confusion matrix'), scrollRegion('Confusion matrix', confusionTable(evaluation)));
      if (!el.contains(body)) replace(el, body);
    },
    updateGallery: (evaluation) => gallery.update(evaluation),
  };
}

/** What the per-class bars and the confusion table show of an evaluation (a run's, or a model card's). */
export interface ClassEvaluation {
  classes: readonly string[];
  /** Per class; null (shown as –) for a class with no held-out image. */
  perClassAccuracy: readonly (number | null)[];
  /** confusion[true][predicted] image counts. */
  confusion: readonly (readonly number[])[];
}

/** Accuracy per class: a bar, the percentage and right/total for each class. */
export function perClassBars(evaluation: ClassEvaluation): HTMLUListElement {
  const { classes, perClassAccuracy, confusion } = evaluation;
  const { rowTotals } = summariseConfusion(confusion);
  return h(
    'ul',
    { class: 'class-bars' },
    classes.map((name, i) =>
      h(
        'li',
        null,
        h('span', { class: 'class-name' }, name),
        bar(perClassAccuracy[i] ?? 0),
        h(
          'span',
          { class: 'class-value' },
          formatPercent(perClassAccuracy[i] ?? Number.NaN),
          h('span', { class: 'muted small' }, ` ${formatCount(confusion[i]?.[i] ?? 0)}/${formatCount(rowTotals[i] ?? 0)}`),
        ),
      ),
    ),
  );
}

/** The confusion matrix as a table: rows true, columns predicted, shaded by each row's share, with totals. */
export function confusionTable(evaluation: ClassEvaluation): HTMLTableElement {
  const { classes, confusion } = evaluation;
  const counts = summariseConfusion(confusion);
  return h(
    'table',
    { class: 'data-table confusion' },
    h('caption', null, 'Rows: true class. Columns: predicted class. Shading: share of the row.'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('td', { class: 'corner' }, h('span', { class: 'visually-hidden' }, 'True class by predicted class')),
        classes.map((c) => h('th', { scope: 'col', class: 'num' }, c)),
        h('th', { scope: 'col', class: 'num total' }, 'Total'),
      ),
    ),
    h(
      'tbody',
      null,
      confusion.map((row, r) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, classes[r]),
          row.map((n, c) => {
            const fraction = counts.rowFractions[r][c];
            const cell = h(
              'td',
              { class: `num cell ${r === c ? 'diagonal' : 'off-diagonal'}${n > 0 ? ' nonzero' : ''}${fraction > STRONG_SHADE ? ' strong' : ''}`, title: `${formatPercent(fraction)} of ${classes[r]}` },
              formatCount(n),
            );
            cell.style.setProperty('--share', String(Math.round(fraction * 1000) / 1000));
            return cell;
          }),
          h('td', { class: 'num total' }, formatCount(counts.rowTotals[r])),
        ),
      ),
    ),
    h(
      'tfoot',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'row' }, 'Total'),
        counts.columnTotals.map((n) => h('td', { class: 'num total' }, formatCount(n))),
        h('td', { class: 'num total grand' }, formatCount(counts.total)),
      ),
    ),
  );
}
