/**
 * Step 3: what the chosen base looks like and what each training stage changes: layer count, a collapsible
 * layer table (the layers that fine-tuning unfreezes marked), trainable and frozen parameters per stage.
 */
import { h, replace, scrollRegion } from './dom';
import { formatCount, formatParams } from '../text/format';
import type { ModelSummary } from '../../../shared/trainer-messages';

export interface ModelSummaryOptions {
  /** The base model's name as the picker shows it (the summary's own `name` is its graph's). */
  name: string;
  /** 0 says stage 2 will not run. */
  fineTuneEpochs?: number;
}

export interface ModelSummaryView {
  /** null: nothing loaded yet. */
  update(summary: ModelSummary | null, options?: ModelSummaryOptions): void;
  /** The chosen base by name, and why its layers cannot be shown (no other base's layers stay under its name). */
  unavailable(name: string, why: string): void;
}

export function mountModelSummary(el: HTMLElement): ModelSummaryView {
  const render = (summary: ModelSummary | null, options?: ModelSummaryOptions): void => {
    if (!summary || !options) {
      replace(el, h('h3', { class: 'subheading' }, 'Model'), h('p', { class: 'muted' }, 'Choose a base model to see its layers.'));
      return;
    }
    const { name, fineTuneEpochs = 1 } = options;
    const { beforeUnfreezing: before, afterUnfreezing: after } = summary;
    const stages = h(
      'table',
      { class: 'data-table params-table' },
      h('caption', null, 'Parameters per training stage'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Stage'), h('th', { scope: 'col', class: 'num' }, 'Trainable'), h('th', { scope: 'col', class: 'num' }, 'Frozen'))),
      h(
        'tbody',
        null,
        h('tr', null, h('th', { scope: 'row' }, '1 · head only'), h('td', { class: 'num' }, formatCount(before.trainable)), h('td', { class: 'num' }, formatCount(before.frozen))),
        h(
          'tr',
          { class: fineTuneEpochs === 0 ? 'inactive' : '' },
          h('th', { scope: 'row' }, `2 · fine-tune from layer ${summary.fineTuneAt}`, fineTuneEpochs === 0 ? ' (off)' : ''),
          h('td', { class: 'num' }, formatCount(after.trainable)),
          h('td', { class: 'num' }, formatCount(after.frozen)),
        ),
      ),
    );

    const layerRows = summary.layers.map((layer) =>
      h(
        'tr',
        { class: layer.index === summary.fineTuneAt ? 'cut-row' : layer.index > summary.fineTuneAt ? 'unfrozen' : '' },
        h('td', { class: 'num' }, String(layer.index)),
        h('td', null, h('code', null, layer.name), layer.index === summary.fineTuneAt ? h('span', { class: 'tag' }, 'fine-tuning starts') : null),
        h('td', null, layer.className),
        h('td', { class: 'num nowrap' }, layer.outputShape.join(' × ')),
        h('td', { class: 'num' }, formatCount(layer.params)),
      ),
    );
    const layerTable = h(
      'table',
      { class: 'data-table layer-table' },
      h('caption', { class: 'visually-hidden' }, `Layers of ${name}`),
      h(
        'thead',
        null,
        h('tr', null, ['#', 'Name', 'Type', 'Output', 'Params'].map((c, i) => h('th', { scope: 'col', class: i === 0 || i >= 3 ? 'num' : '' }, c))),
      ),
      h('tbody', null, layerRows),
    );

    replace(
      el,
      h('h3', { class: 'subheading model-name' }, name),
      h(
        'dl',
        { class: 'facts' },
        fact('Layers', formatCount(summary.layers.length)),
        fact('Input', `${summary.inputSize} × ${summary.inputSize} px`),
        fact('Features from', summary.bottleneck),
        fact('Fine-tuning starts at', `layer ${summary.fineTuneAt}, ${summary.fineTuneAtName}`),
        fact('Stage 1 trains', `${formatParams(before.trainable)} parameters`),
        fact('Stage 2 trains', fineTuneEpochs === 0 ? 'off' : `${formatParams(after.trainable)} parameters`),
      ),
      scrollRegion('Parameters per stage', stages),
      h(
        'details',
        { class: 'layers' },
        h('summary', null, `All ${formatCount(summary.layers.length)} layers`),
        h('p', { class: 'muted small' }, `Layers from ${summary.fineTuneAt} on (shaded) are unfrozen for fine-tuning; batch-norm statistics stay frozen.`),
        scrollRegion(`Layers of ${name}`, layerTable),
      ),
    );
  };
  render(null);
  return {
    update: render,
    unavailable: (name, why) => replace(el, h('h3', { class: 'subheading model-name' }, name), h('p', { class: 'muted model-unavailable' }, why)),
  };
}

function fact(term: string, value: string): HTMLElement {
  return h('div', null, h('dt', null, term), h('dd', null, value));
}
