/**
 * Step 6, publishing: a "Publish…" button opens a form with a name and a description (plain text: set as text,
 * never parsed), exactly what will be uploaded (the classifier's TFLite files, labels, the model card's fields) and
 * a box, off by default, for a few of the visitor's own photos as examples. Below, who may publish on this server:
 * the admin token field, or the limits a visitor's publication has. The view reports intent; the caller uploads
 * and tells it how that goes.
 */
import * as v from 'valibot';
import {
  MAX_PUBLICATION_DESCRIPTION_LENGTH,
  MAX_PUBLICATION_NAME_LENGTH,
  PublicationDescriptionSchema,
  PublicationNameSchema,
  type PublishPolicy,
} from '../../../shared/publication';
import { formatCount, formatLimit, plural } from '../text/format';
import { h, replace, uniqueId } from './dom';

export interface PublishOffer {
  classes: number;
  /** The example photos the box adds: how many in all and of each class, and their shorter side in pixels. */
  examples: { count: number; perClass: number; side: number };
  /** The name the form starts with. */
  suggestedName: string;
}

export interface PublishForm {
  name: string;
  description: string;
  examples: boolean;
  /** What the admin token field holds (admin mode), else null. */
  adminToken: string | null;
}

export interface PublishPanel {
  /** What publishing would upload, or null: nothing to publish yet (`reason` says why). */
  setOffer(offer: PublishOffer | null, reason?: string): void;
  /** Who may publish here; null with `failure` when the server could not be asked. */
  setPolicy(policy: PublishPolicy | null, storedToken: string | null, failure?: string): void;
  /** The step under way, or null when nothing is. */
  setProgress(text: string | null): void;
  showError(text: string): void;
  /** Published: the form closes, its description and photo box cleared. */
  done(): void;
  setDisabled(disabled: boolean): void;
}

/** A labelled field with a hint and an error line, wired for assistive tech. */
function field(label: string, control: HTMLInputElement | HTMLTextAreaElement, hint: string) {
  const id = uniqueId('publish-field');
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  control.setAttribute('aria-describedby', `${id}-hint ${id}-error`);
  const wrapper = h('div', { class: 'field' }, h('label', { attrs: { for: id } }, label), control, h('p', { class: 'field-hint', id: `${id}-hint` }, hint), error);
  const setError = (message: string | null) => {
    error.textContent = message ?? '';
    wrapper.classList.toggle('invalid', message !== null);
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return { wrapper, setError };
}

/** The first problem valibot finds, as "must …", or null. */
const problem = (schema: v.GenericSchema, value: string) => {
  const parsed = v.safeParse(schema, value);
  return parsed.success ? null : parsed.issues[0].message;
};

export interface PublishCallbacks {
  /** The form was opened (the caller asks the server who may publish, if not known yet). */
  onOpen(): void;
  onPublish(form: PublishForm): void;
}

export function mountPublishPanel(el: HTMLElement, callbacks: PublishCallbacks): PublishPanel {
  const formId = uniqueId('publish-form');
  const open = h('button', { type: 'button', class: 'button primary', attrs: { 'aria-expanded': 'false', 'aria-controls': formId } }, 'Publish…');
  const reason = h('p', { class: 'muted small' });
  const name = h('input', { type: 'text', maxLength: MAX_PUBLICATION_NAME_LENGTH, autocomplete: 'off', required: true });
  const description = h('textarea', { maxLength: MAX_PUBLICATION_DESCRIPTION_LENGTH, rows: 3 });
  const nameField = field('Name', name, `Plain text, at most ${MAX_PUBLICATION_NAME_LENGTH} characters: the title of its page.`);
  const descriptionField = field('Description', description, `Optional: what it tells apart and how to use it. Plain text, at most ${MAX_PUBLICATION_DESCRIPTION_LENGTH} characters.`);
  const examples = h('input', { type: 'checkbox' });
  const examplesText = h('span');
  const labelsItem = h('li');
  const token = h('input', { type: 'password', autocomplete: 'off', spellcheck: false });
  const tokenField = field('Admin token', token, 'Kept in this tab only (sessionStorage) until you close it.');
  // Until the server says who may publish here, no token field: most servers will not ask for one.
  tokenField.wrapper.hidden = true;
  const policyText = h('p', { class: 'small' }, 'Asking the server who may publish here…');
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Upload and get the link');
  const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
  const status = h('p', { class: 'publish-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const form = h(
    'form',
    { id: formId, class: 'publish-form', hidden: true, noValidate: true },
    nameField.wrapper,
    descriptionField.wrapper,
    h(
      'div',
      { class: 'publish-upload' },
      h('p', { class: 'field-label' }, 'What will be uploaded'),
      h(
        'ul',
        { class: 'plain-list small' },
        h(
          'li',
          null,
          'The classifier as two TFLite files, int8 and float32, built here and checked in LiteRT.js on your held-out photos. ' +
            'Its page runs the int8 file where its top class agrees with TF.js on at least 99% of them, else the float32 one, and offers both as the Android zip.',
        ),
        labelsItem,
        h(
          'li',
          null,
          'Its model card: the name and description above, the classes, the base model and input size, the dataset’s name and photos per class, ' +
            'the validation accuracy of each stage, the accuracy per class, the confusion matrix, when it was trained and Graft’s version.',
        ),
      ),
      h('label', { class: 'check' }, examples, examplesText),
      h('p', { class: 'field-hint' }, 'Off unless you tick it: they are your own photos, and anyone with the link will see them. Nothing else of your data leaves this computer.'),
    ),
    h('div', { class: 'publish-policy' }, policyText, tokenField.wrapper),
    h('div', { class: 'button-row' }, submit, cancel),
    status,
  );
  replace(
    el,
    h('h3', { class: 'subheading' }, 'Publish'),
    h('p', { class: 'muted' }, 'Put this classifier online: anyone with its link can classify photos with it, or point a phone’s camera at things, on a page that loads no training code.'),
    h('div', { class: 'button-row' }, open),
    reason,
    form,
  );
  el.classList.add('publish');

  let offer: PublishOffer | null = null;
  let mode: PublishPolicy['mode'] | null = null;
  let busy = false;
  let disabled = false;

  const render = () => {
    open.disabled = offer === null || disabled;
    submit.disabled = offer === null || disabled || mode === null;
    submit.setAttribute('aria-busy', String(busy));
    for (const control of [name, description, examples, token, cancel]) control.disabled = busy;
  };
  const setOpen = (value: boolean) => {
    form.hidden = !value;
    open.setAttribute('aria-expanded', String(value));
    if (value) name.focus();
  };

  open.addEventListener('click', () => {
    setOpen(form.hidden);
    if (!form.hidden) callbacks.onOpen();
  });
  cancel.addEventListener('click', () => {
    setOpen(false);
    open.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy || !offer || mode === null) return;
    const values = { name: name.value.trim(), description: description.value.replace(/\r\n?/g, '\n').trim() };
    const nameProblem = problem(PublicationNameSchema, values.name);
    const descriptionProblem = problem(PublicationDescriptionSchema, values.description);
    nameField.setError(nameProblem && `The name ${nameProblem}.`);
    descriptionField.setError(descriptionProblem && `The description ${descriptionProblem}.`);
    const tokenProblem = mode === 'admin' && token.value.trim() === '' ? 'Enter the admin token: this server publishes only with it.' : null;
    tokenField.setError(tokenProblem);
    const first = [nameProblem && name, descriptionProblem && description, tokenProblem && token].find(Boolean);
    if (first) {
      first.focus();
      return;
    }
    callbacks.onPublish({ ...values, examples: examples.checked, adminToken: mode === 'admin' ? token.value.trim() : null });
  });

  const api: PublishPanel = {
    setOffer(next, why) {
      const changed = next?.suggestedName !== offer?.suggestedName;
      offer = next;
      reason.textContent = next ? '' : (why ?? 'Train a classifier first.');
      if (!next) setOpen(false);
      else {
        if (changed) name.value = next.suggestedName;
        labelsItem.textContent = `labels.txt: the names of its ${plural(next.classes, 'class', 'classes')}, one a line.`;
        const { count, perClass, side } = next.examples;
        examplesText.textContent = ` Also upload ${formatCount(count)} of my photos as examples (${perClass} of each class at most), as JPEG at most ${side} px on the shorter side.`;
      }
      render();
    },
    setPolicy(policy, storedToken, failure) {
      mode = policy?.mode ?? null;
      tokenField.wrapper.hidden = mode !== 'admin';
      if (storedToken && !token.value) token.value = storedToken;
      policyText.className = policy ? 'small' : 'small error-text';
      policyText.textContent = !policy
        ? `Could not ask the server who may publish here: ${failure ?? 'no answer'}.`
        : policy.mode === 'admin'
          ? 'This server publishes only with its admin token. What the admin publishes stays until it is unpublished.'
          : `Anyone may publish on this server: at most ${formatLimit(policy.maxBytes)} a publication, deleted ${plural(policy.ttlDays, 'day')} after it is published. Its delete key takes it down sooner.`;
      render();
    },
    setProgress(text) {
      busy = text !== null;
      status.className = 'publish-status';
      status.textContent = text ?? '';
      render();
    },
    showError(text) {
      busy = false;
      status.className = 'publish-status error-text';
      status.textContent = text;
      render();
    },
    done() {
      busy = false;
      status.textContent = '';
      description.value = '';
      examples.checked = false;
      setOpen(false);
      render();
    },
    setDisabled(value) {
      disabled = value;
      render();
    },
  };
  api.setOffer(null);
  return api;
}
