/**
 * Step 2: the settings form. Each field has a label, a hint and a message saying what is wrong with it
 * (aria-invalid + aria-describedby), checked when the field is committed; getSettings() checks them all.
 * The rules live in settings-rules.ts. Under the augmented views, what they cost is said before the run starts.
 * Fine-tune-from follows the chosen base (its default for that base) until the visitor sets it: it owns that choice.
 */
import { augmentationCostText } from './augmentation-cost';
import { h, replace, uniqueId } from './dom';
import { toRaw, validateSettings, type FieldName, type FormSettings, type RawSettings, type RulesContext } from './settings-rules';

export type { FormSettings } from './settings-rules';

export interface SettingsFormCallbacks {
  /** Every committed change: the settings, or null while some field is wrong. */
  onChange?(settings: FormSettings | null): void;
}

export interface SettingsForm {
  /** The settings, or null after marking every wrong field and focusing the first. */
  getSettings(): FormSettings | null;
  /** The settings if they are valid, without marking or focusing anything (for background refreshes). */
  readSettings(): FormSettings | null;
  /** Sets fields (e.g. from a saved run) without firing onChange. */
  setValues(settings: FormSettings): void;
  /**
   * The chosen base's layer names (offered as suggestions and used to check fine-tune-from) and its default
   * fine-tune-from, which the field takes unless the visitor set it; a value of theirs that does not fit is marked.
   */
  setLayerNames(names: readonly string[] | null, fineTuneAtDefault?: number): void;
  /** "Label: what is wrong" for the first wrong field, or null when every field is right. */
  firstProblem(): string | null;
  setDisabled(disabled: boolean): void;
}

interface FieldSpec {
  name: FieldName;
  label: string;
  hint?: string;
  kind: 'number' | 'text' | 'select';
  options?: [string, string][];
  inputMode?: 'numeric' | 'decimal';
  step?: string;
}

function specs(cores: number): { legend: string; fields: FieldSpec[]; more?: boolean }[] {
  return [
    {
      legend: 'Compute',
      fields: [
        { name: 'workers', label: 'Workers', hint: `They extract features in parallel and share each fine-tuning batch. This computer reports ${cores} cores.`, kind: 'number', inputMode: 'numeric', step: '1' },
        {
          name: 'backend',
          label: 'Backend',
          hint: 'Automatic tries WebGPU, then WebAssembly, then plain JavaScript.',
          kind: 'select',
          options: [
            ['auto', 'Automatic'],
            ['webgpu', 'WebGPU'],
            ['wasm', 'WebAssembly (WASM)'],
            ['cpu', 'CPU (slow)'],
          ],
        },
      ],
    },
    {
      legend: 'Images',
      fields: [
        { name: 'inputSize', label: 'Input size (px)', hint: 'Side of the square images are resized to; a multiple of 32.', kind: 'number', inputMode: 'numeric', step: '32' },
        { name: 'augmentViews', label: 'Augmented views', hint: 'Flipped, rotated, zoomed copies per training image; 0 turns augmentation off.', kind: 'number', inputMode: 'numeric', step: '1' },
        {
          name: 'viewsPerEpoch',
          label: 'Each epoch trains on',
          hint: 'With augmented views: one view of each photo, a different one each epoch (no slower), or all of them.',
          kind: 'select',
          options: [
            ['one', 'One view'],
            ['all', 'All views'],
          ],
        },
      ],
    },
    {
      legend: 'Training',
      fields: [
        { name: 'headEpochs', label: 'Head epochs', hint: 'Stage 1: only the new classifier head learns.', kind: 'number', inputMode: 'numeric', step: '1' },
        { name: 'fineTuneEpochs', label: 'Fine-tune epochs', hint: 'Stage 2: the top of the base learns too; 0 skips it.', kind: 'number', inputMode: 'numeric', step: '1' },
        { name: 'fineTuneAt', label: 'Fine-tune from layer', hint: 'A layer number or name; layers before it stay frozen. Until you set it, the chosen base’s default: 100 of MobileNetV2’s 155 layers, the same share of another’s.', kind: 'text' },
        { name: 'learningRate', label: 'Learning rate', hint: 'Stage 2 uses this divided by the divisor below.', kind: 'text', inputMode: 'decimal' },
        { name: 'batchSize', label: 'Batch size', kind: 'number', inputMode: 'numeric', step: '1' },
        {
          name: 'optimizer',
          label: 'Optimizer',
          kind: 'select',
          options: [
            ['adam', 'Adam'],
            ['rmsprop', 'RMSprop'],
          ],
        },
        { name: 'seed', label: 'Seed', hint: 'Same seed and data give the same split and the same run.', kind: 'number', inputMode: 'numeric', step: '1' },
      ],
    },
    {
      legend: 'More settings',
      more: true,
      fields: [
        { name: 'validationSplit', label: 'Validation fraction', hint: 'Of each class, held out to check the model.', kind: 'text', inputMode: 'decimal' },
        { name: 'testSplit', label: 'Test fraction', hint: 'Of each class, held out until the end; 0 for none.', kind: 'text', inputMode: 'decimal' },
        { name: 'dropout', label: 'Dropout', hint: 'Before the last layer, 0 to 0.95.', kind: 'text', inputMode: 'decimal' },
        { name: 'hiddenUnits', label: 'Hidden units', hint: 'An extra Dense layer in the head; 0 for none.', kind: 'number', inputMode: 'numeric', step: '1' },
        { name: 'fineTuneLrDivisor', label: 'Fine-tune learning-rate divisor', hint: 'The recipe uses 10; 5 fine-tunes further in 6 epochs on augmented views.', kind: 'text', inputMode: 'decimal' },
        {
          name: 'fineTuneSchedule',
          label: 'Fine-tune schedule',
          hint: 'Cosine lowers stage 2’s learning rate to 0 by its last step.',
          kind: 'select',
          options: [
            ['constant', 'Constant'],
            ['cosine', 'Cosine decay'],
          ],
        },
        { name: 'labelSmoothing', label: 'Label smoothing', hint: 'Trains towards 1 − x for the right class instead of 1, 0 to 0.5; 0 for none.', kind: 'text', inputMode: 'decimal' },
        { name: 'patience', label: 'Patience (epochs)', hint: 'Stop a stage after this many epochs without a lower validation loss; 0 runs every epoch. Each stage keeps its best epoch either way.', kind: 'number', inputMode: 'numeric', step: '1' },
        {
          name: 'classWeighting',
          label: 'Class weights',
          hint: 'Count each photo of a rare class more, so every class matters as much.',
          kind: 'select',
          options: [
            ['auto', 'When a class has over twice the photos of another'],
            ['balanced', 'Always'],
            ['none', 'Never'],
          ],
        },
      ],
    },
  ];
}

interface FieldElements {
  control: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
  wrapper: HTMLElement;
}

export function mountSettingsForm(el: HTMLElement, defaults: FormSettings, callbacks: SettingsFormCallbacks = {}): SettingsForm {
  const cores = navigator.hardwareConcurrency || 1;
  const fields = new Map<FieldName, FieldElements>();
  const context: RulesContext = {};
  const layerList = h('datalist', { id: uniqueId('layers') });
  /**
   * Whose fine-tune-from the field holds: the chosen base's default (replaced by the next base's), the visitor's
   * (kept), or a saved run's (kept, unless it is the default of the base chosen next: then it follows as before).
   */
  let fineTuneAtSource: 'base' | 'visitor' | 'saved run' = 'base';
  let costLine: HTMLElement | null = null;

  function buildField(spec: FieldSpec): HTMLElement {
    const id = uniqueId(`setting-${spec.name}`);
    const hintId = `${id}-hint`;
    const errorId = `${id}-error`;
    const cost = spec.name === 'augmentViews' ? h('p', { class: 'field-hint field-cost', id: `${id}-cost`, attrs: { 'aria-live': 'polite' } }) : null;
    if (cost) costLine = cost;
    const describedBy = [spec.hint ? hintId : '', cost ? cost.id : '', errorId].filter(Boolean).join(' ');
    const control =
      spec.kind === 'select'
        ? h('select', { id, name: spec.name, attrs: { 'aria-describedby': describedBy } }, spec.options!.map(([value, label]) => h('option', { value }, label)))
        : h('input', {
            id,
            name: spec.name,
            type: spec.kind === 'number' ? 'number' : 'text',
            autocomplete: 'off',
            spellcheck: false,
            attrs: {
              inputmode: spec.inputMode,
              step: spec.step,
              list: spec.name === 'fineTuneAt' ? layerList.id : undefined,
              'aria-describedby': describedBy,
            },
          });
    const error = h('p', { class: 'field-error', id: errorId });
    const wrapper = h(
      'div',
      { class: `field field-${spec.name}` },
      h('label', { htmlFor: id }, spec.label),
      control,
      spec.hint ? h('p', { class: 'field-hint', id: hintId }, spec.hint) : null,
      cost,
      error,
    );
    fields.set(spec.name, { control, error, wrapper });
    control.addEventListener('change', () => {
      if (spec.name === 'fineTuneAt') fineTuneAtSource = 'visitor';
      commit(spec.name);
    });
    if (cost || spec.name === 'fineTuneEpochs' || spec.name === 'viewsPerEpoch') control.addEventListener('input', showCost);
    return wrapper;
  }

  const groups = specs(cores).map((group) => {
    const grid = h('div', { class: 'field-grid' }, group.fields.map(buildField));
    return group.more
      ? h('details', { class: 'more-settings' }, h('summary', null, group.legend), h('fieldset', { class: 'field-group' }, h('legend', { class: 'visually-hidden' }, group.legend), grid))
      : h('fieldset', { class: 'field-group' }, h('legend', null, group.legend), grid);
  });
  const form = h('form', { class: 'settings-form', noValidate: true, attrs: { 'aria-label': 'Training settings' } }, groups, layerList);
  // Enter in a field must not reload the page.
  form.addEventListener('submit', (event) => event.preventDefault());
  replace(el, form);

  function raw(): RawSettings {
    const values = {} as RawSettings;
    for (const [name, { control }] of fields) values[name] = control.value;
    return values;
  }

  function showErrors(errors: Partial<Record<FieldName, string>>, only?: FieldName): void {
    for (const [name, { control, error, wrapper }] of fields) {
      if (only && name !== only && !(name === 'testSplit' && only === 'validationSplit')) continue;
      const message = errors[name];
      error.textContent = message ?? '';
      wrapper.classList.toggle('invalid', Boolean(message));
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  }

  /** The cost of the augmented views as typed (nothing while the count is not a whole number). */
  function showCost(): void {
    const values = raw();
    const views = Number(values.augmentViews);
    const heldOut = Number(values.validationSplit) + Number(values.testSplit);
    const trainShare = heldOut >= 0 && heldOut < 1 ? 1 - heldOut : 0.8;
    const fineTuneEpochs = Number(values.fineTuneEpochs) || 0;
    const perEpoch = values.viewsPerEpoch === 'one' ? 'one' : 'all';
    costLine!.textContent =
      values.augmentViews !== '' && Number.isInteger(views) && views >= 0 ? augmentationCostText(views, trainShare, fineTuneEpochs, perEpoch) : '';
  }

  function commit(name: FieldName): void {
    const result = validateSettings(raw(), context);
    showErrors(result.ok ? {} : result.errors, name);
    showCost();
    callbacks.onChange?.(result.ok ? result.settings : null);
  }

  function fill(settings: FormSettings): void {
    const values = toRaw(settings);
    for (const [name, { control }] of fields) control.value = values[name];
    showErrors({});
    showCost();
  }
  fill(defaults);

  return {
    readSettings() {
      const result = validateSettings(raw(), context);
      return result.ok ? result.settings : null;
    },
    getSettings() {
      const result = validateSettings(raw(), context);
      if (result.ok) {
        showErrors({});
        return result.settings;
      }
      showErrors(result.errors);
      const first = [...fields].find(([name]) => result.errors[name]);
      if (first) {
        first[1].wrapper.closest('details')?.setAttribute('open', '');
        first[1].control.focus();
      }
      return null;
    },
    setValues(settings) {
      fineTuneAtSource = 'saved run';
      fill(settings);
    },
    setLayerNames(names, fineTuneAtDefault) {
      context.layerNames = names ?? undefined;
      replace(layerList, (names ?? []).map((n) => h('option', { value: n })));
      if (!names || fineTuneAtDefault === undefined) return;
      const control = fields.get('fineTuneAt')!.control;
      if (fineTuneAtSource === 'saved run' && control.value.trim() === String(fineTuneAtDefault)) fineTuneAtSource = 'base';
      if (fineTuneAtSource === 'base') control.value = String(fineTuneAtDefault);
      // The visitor's value, checked against this base: the field says if it does not fit.
      const result = validateSettings(raw(), context);
      showErrors(result.ok ? {} : result.errors, 'fineTuneAt');
    },
    firstProblem() {
      const result = validateSettings(raw(), context);
      if (result.ok) return null;
      const [name, { wrapper }] = [...fields].find(([field]) => result.errors[field])!;
      return `${wrapper.querySelector('label')!.textContent}: ${result.errors[name]}`;
    },
    setDisabled(disabled) {
      for (const fieldset of form.querySelectorAll('fieldset')) fieldset.disabled = disabled;
    },
  };
}
