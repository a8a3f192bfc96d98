/**
 * A published classifier's model card (the classify-only page /m/<id>): what it tells apart, what it was built
 * from (base model, dataset and its images per class), how well it did (validation accuracy per stage, accuracy
 * on its held-out images, per class, and the confusion matrix, drawn as the trainer's results are), and when it
 * was trained and expires. Everything the publisher wrote is set as text, never parsed as HTML.
 */
import type { PublicationRecord } from '../../../shared/publication';
import { h, replace, scrollRegion } from './dom';
import { confusionTable, perClassBars } from './results';
import { formatCount, formatPercent, plural } from '../text/format';

const STAGE_NAMES = { head: 'New head', 'fine-tune': 'Fine-tuned' } as const;

const day = (iso: string) => new Date(iso).toLocaleDateString('en', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

/** The card of `record` into `el` (its heading is the caller's). */
export function mountModelCard(el: HTMLElement, record: PublicationRecord): void {
  const { card } = record;
  const split = card.evaluation.split === 'test' ? 'test' : 'validation';
  const heldOut = card.evaluation.confusion.flat().reduce((a, b) => a + b, 0);
  replace(
    el,
    h('h2', { class: 'subheading' }, 'About this classifier'),
    h(
      'dl',
      { class: 'card-facts' },
      h('dt', null, 'Classes'),
      h('dd', null, card.classes.join(', ')),
      h('dt', null, 'Base model'),
      h('dd', null, `${card.base.name}, ${card.base.inputSize}×${card.base.inputSize} px`),
      h('dt', null, 'Trained on'),
      h('dd', null, `${card.dataset.name}: ${plural(card.dataset.imageCounts.reduce((a, b) => a + b, 0), 'image')}`),
      h('dt', null, 'Validation accuracy'),
      h('dd', null, card.stages.map((s) => `${STAGE_NAMES[s.stage]} ${formatPercent(s.valAccuracy)} (${plural(s.epochs, 'epoch')})`).join(' · ')),
      h('dt', null, 'Trained'),
      h('dd', null, `${day(card.trainedAt)}, with Graft ${card.graftVersion}`),
      h('dt', null, 'Link'),
      h('dd', null, record.expiresAt ? `expires on ${day(record.expiresAt)}` : 'kept until its publisher removes it'),
    ),
    h(
      'div',
      { class: 'results-grid' },
      h(
        'div',
        null,
        h('h3', { class: 'subheading' }, 'Images per class'),
        scrollRegion(
          'Images per class',
          h(
            'table',
            { class: 'data-table' },
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Class'), h('th', { scope: 'col', class: 'num' }, 'Images'))),
            h('tbody', null, card.classes.map((name, i) => h('tr', null, h('th', { scope: 'row' }, name), h('td', { class: 'num' }, formatCount(card.dataset.imageCounts[i] ?? 0))))),
          ),
        ),
      ),
      h(
        'div',
        null,
        h('h3', { class: 'subheading' }, `Accuracy per class (${split})`),
        h('p', { class: 'muted small card-bars-note' }, `${formatPercent(card.evaluation.accuracy)} of ${plural(heldOut, `${split} image`)} right.`),
        perClassBars({ classes: card.classes, ...card.evaluation }),
      ),
    ),
    h('h3', { class: 'subheading' }, 'Confusion matrix'),
    scrollRegion('Confusion matrix', confusionTable({ classes: card.classes, ...card.evaluation })),
  );
}
