/**
 * The page's status line: one error (role=alert, dismissible) and one info message (role=status). Both live
 * regions exist from the start and stay in the page while empty (CSS collapses them), because screen readers
 * only announce changes to regions already present.
 */
import { h, replace } from './dom';

export interface Banner {
  showError(message: string): void;
  showInfo(message: string): void;
  /** Removes both messages. */
  clear(): void;
}

export function mountBanner(el: HTMLElement): Banner {
  const errorText = h('p', { class: 'banner-text' });
  const dismiss = h('button', { type: 'button', class: 'button quiet small', on: { click: () => hideError() } }, 'Dismiss');
  const error = h('div', { class: 'banner banner-error', attrs: { role: 'alert' } });
  const info = h('div', { class: 'banner banner-info', attrs: { role: 'status' } });
  replace(el, error, info);

  function hideError(): void {
    const hadFocus = error.contains(document.activeElement);
    replace(error);
    // Focus would otherwise fall back to <body> and the keyboard user would start over at the top.
    if (hadFocus) (document.querySelector('main') as HTMLElement | null)?.focus();
  }

  return {
    showError(message) {
      replace(error, h('span', { class: 'banner-icon', attrs: { 'aria-hidden': 'true' } }, '!'), errorText, dismiss);
      errorText.textContent = message;
    },
    showInfo(message) {
      replace(info, h('p', { class: 'banner-text' }, message));
    },
    clear() {
      hideError();
      replace(info);
    },
  };
}
