/**
 * "Your publications": the classifiers this browser published (name, link, date, expiry), each with an Unpublish
 * button that asks once more before it takes the link down for everyone. One the server has already deleted
 * (expired) can only be forgotten. Hidden while there are none.
 */
import { h, replace } from './dom';

export interface ListedPublication {
  id: string;
  name: string;
  url: string;
  /** ms since the epoch. */
  publishedAt: number;
  /** ISO 8601, or null: it stays until unpublished. */
  expiresAt: string | null;
}

export interface PublicationsList {
  update(publications: ListedPublication[], now?: number): void;
  /** The id being unpublished (its buttons busy), or null. */
  setBusy(id: string | null): void;
  /** What the last unpublish did, or why it failed. */
  say(text: string, error?: boolean): void;
}

export interface PublicationsCallbacks {
  onUnpublish(id: string): void;
  /** Drop an expired one from the list (the server deleted it already). */
  onForget(id: string): void;
}

const dateFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium' });

export function mountPublicationsList(el: HTMLElement, callbacks: PublicationsCallbacks): PublicationsList {
  const list = h('ul', { class: 'run-list' });
  const message = h('p', { class: 'small', attrs: { role: 'status', 'aria-live': 'polite' } });
  replace(el, h('h3', { class: 'subheading' }, 'Your publications'), list, message);
  el.hidden = true;

  function row(publication: ListedPublication, now: number): HTMLElement {
    const { id, name, url, publishedAt, expiresAt } = publication;
    const expired = expiresAt !== null && Date.parse(expiresAt) <= now;
    const expiry = expiresAt === null ? 'stays until unpublished' : expired ? 'expired: the server has deleted it' : `expires ${dayFormat.format(new Date(expiresAt))}`;
    const actions = h('div', { class: 'button-row' });
    const ask = () => {
      const confirm = h('button', { type: 'button', class: 'button danger', attrs: { 'aria-label': `Yes, unpublish ${name}` } }, 'Yes, unpublish');
      const keep = h('button', { type: 'button', class: 'button' }, 'Keep it');
      confirm.addEventListener('click', () => callbacks.onUnpublish(id));
      keep.addEventListener('click', () => showButtons(true));
      replace(actions, h('span', { class: 'small' }, 'Its link stops working for everyone.'), confirm, keep);
      keep.focus();
    };
    const showButtons = (focus = false) => {
      const button = expired
        ? h('button', { type: 'button', class: 'button', attrs: { 'aria-label': `Forget ${name}` }, on: { click: () => callbacks.onForget(id) } }, 'Forget')
        : h('button', { type: 'button', class: 'button danger-outline', attrs: { 'aria-label': `Unpublish ${name}` }, on: { click: ask } }, 'Unpublish…');
      replace(actions, button);
      if (focus) button.focus();
    };
    showButtons();
    const item = h(
      'li',
      { class: 'run', attrs: { 'data-publication': id } },
      h(
        'div',
        null,
        h('p', { class: 'run-title' }, name),
        h('p', { class: 'small' }, expired ? h('span', null, url) : h('a', { href: url, target: '_blank', rel: 'noopener' }, url)),
        h('p', { class: 'muted small' }, `published ${dateFormat.format(publishedAt)} · ${expiry}`),
      ),
      actions,
    );
    return item;
  }

  let shown: ListedPublication[] = [];
  return {
    update(publications, now = Date.now()) {
      shown = publications;
      el.hidden = publications.length === 0 && !message.textContent;
      replace(list, publications.map((p) => row(p, now)));
    },
    setBusy(id) {
      for (const button of list.querySelectorAll('button')) {
        const mine = id !== null && button.closest(`[data-publication="${id}"]`) !== null;
        button.disabled = id !== null;
        button.setAttribute('aria-busy', String(mine));
      }
    },
    say(text, error = false) {
      message.className = error ? 'small error-text' : 'small';
      message.textContent = text;
      el.hidden = shown.length === 0 && !text;
    },
  };
}
