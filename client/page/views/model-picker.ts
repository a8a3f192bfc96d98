/**
 * Step 2: the server's base models as selectable cards (radio buttons): name, input size, layers, download size.
 */
import type { ModelRecord } from '../../../shared/records';
import { h, replace, uniqueId } from './dom';
import { formatBytes, formatCount } from '../text/format';

export interface ModelPickerCallbacks {
  onSelectModel(id: string): void;
}

export interface ModelPicker {
  /** `models` null while loading. */
  update(models: ModelRecord[] | null, selectedId: string | null): void;
  setDisabled(disabled: boolean): void;
}

export function mountModelPicker(el: HTMLElement, callbacks: ModelPickerCallbacks): ModelPicker {
  const name = uniqueId('model');
  const list = h('div', { class: 'choice-list' }, h('p', { class: 'muted' }, 'Loading models…'));
  replace(el, h('fieldset', { class: 'choices' }, h('legend', { class: 'subheading' }, 'Base model'), list));
  let disabled = false;

  return {
    update(models, selectedId) {
      if (models === null) {
        replace(list, h('p', { class: 'muted' }, 'Loading models…'));
        return;
      }
      if (models.length === 0) {
        replace(list, h('p', { class: 'error-text' }, 'The server has no base models yet, so nothing can be trained. Ask its operator to run the seed tool.'));
        return;
      }
      replace(
        list,
        models.map((m) => {
          const titleId = uniqueId('model-title');
          const metaId = uniqueId('model-meta');
          return h(
            'label',
            { class: 'choice-card' },
            h('input', {
              type: 'radio',
              name,
              value: m.id,
              checked: m.id === selectedId,
              disabled,
              attrs: { 'aria-labelledby': titleId, 'aria-describedby': metaId },
              on: { change: () => callbacks.onSelectModel(m.id) },
            }),
            h('span', { class: 'choice-title', id: titleId }, m.name),
            h(
              'span',
              { class: 'choice-meta', id: metaId },
              `${m.inputSize} × ${m.inputSize} px input · ${formatCount(m.layers)} layers · ${formatBytes(m.bytes)} download`,
            ),
          );
        }),
      );
    },
    setDisabled(value) {
      disabled = value;
      for (const radio of list.querySelectorAll('input')) radio.disabled = value;
    },
  };
}
