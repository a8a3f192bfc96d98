/**
 * A publication just made: its link (an <a> to /m/<id>) with a copy button, a QR code of the full address drawn on
 * a canvas (@paulmillr/qr encodes it; each module a square of pixels, a quiet zone of 4 around), when it expires,
 * and the delete key, shown this once with a plain warning and a copy button of its own.
 */
import encodeQR from '@paulmillr/qr';
import { h, replace } from './dom';
import { formatBytes } from '../text/format';

export interface PublishedView {
  url: string;
  deleteKey: string;
  /** ISO 8601, or null: it stays until unpublished. */
  expiresAt: string | null;
  bytes: number;
  /** The file its page runs: 'int8' or 'float32'. */
  runs: string;
}

export interface PublishResult {
  show(published: PublishedView): void;
  clear(): void;
}

/** Pixels a QR module takes, and the modules of white around the code that readers need. */
const QR_SCALE = 6;
const QR_QUIET_ZONE = 4;

const dateFormat = new Intl.DateTimeFormat('en', { dateStyle: 'long' });

/** `text` as a QR code on a canvas: dark modules black on white, whatever the page's colour scheme. */
export function qrCanvas(text: string, label: string): HTMLCanvasElement {
  const modules = encodeQR(text, 'raw', { border: QR_QUIET_ZONE, ecc: 'medium' });
  const size = modules.length * QR_SCALE;
  const canvas = h('canvas', { width: size, height: size, class: 'qr-code', attrs: { role: 'img', 'aria-label': label } });
  const context = canvas.getContext('2d');
  if (!context) return canvas;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, size, size);
  context.fillStyle = '#000';
  modules.forEach((row, y) => row.forEach((dark, x) => dark && context.fillRect(x * QR_SCALE, y * QR_SCALE, QR_SCALE, QR_SCALE)));
  return canvas;
}

/** A button that copies `text()` and says so beside it. */
function copyButton(label: string, ariaLabel: string, text: () => string): HTMLElement {
  const said = h('span', { class: 'muted small', attrs: { role: 'status' } });
  const button = h('button', { type: 'button', class: 'button small', attrs: { 'aria-label': ariaLabel } }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text());
      said.textContent = 'Copied.';
    } catch {
      said.textContent = 'The browser did not let the page copy: select the text and copy it.';
    }
  });
  return h('span', { class: 'copy' }, button, said);
}

export function mountPublishResult(el: HTMLElement): PublishResult {
  el.classList.add('publish-result');
  const api: PublishResult = {
    show({ url, deleteKey, expiresAt, bytes, runs }) {
      el.hidden = false;
      const expiry = expiresAt === null ? 'It stays until it is unpublished.' : `It will be deleted on ${dateFormat.format(new Date(expiresAt))} unless unpublished sooner.`;
      replace(
        el,
        h('p', { class: 'ok-text' }, 'Published. Anyone with this link can classify with it:'),
        h('p', { class: 'publish-link' }, h('a', { href: url, target: '_blank', rel: 'noopener' }, url), ' ', copyButton('Copy link', 'Copy the link', () => url)),
        h('div', { class: 'publish-qr' }, qrCanvas(url, `QR code of the link ${url}`), h('p', { class: 'muted small' }, 'Point a phone’s camera at it, or put it on a slide.')),
        h('p', { class: 'muted small' }, `${formatBytes(bytes)} uploaded; its page runs the ${runs} file. ${expiry}`),
        h(
          'div',
          { class: 'delete-key', attrs: { role: 'group', 'aria-label': 'Delete key' } },
          h('p', { class: 'warning-text' }, 'Its delete key, shown this once:'),
          h('p', null, h('code', { class: 'key' }, deleteKey), ' ', copyButton('Copy key', 'Copy the delete key', () => deleteKey)),
          h(
            'p',
            { class: 'small' },
            'Whoever has this key can unpublish it, and nobody else can but the server’s admin. This browser keeps it under “Your publications” below; ' +
              'copy it somewhere safe if you may want to unpublish from another browser or after clearing this one’s data. It cannot be shown again.',
          ),
        ),
      );
    },
    clear() {
      el.hidden = true;
      replace(el);
    },
  };
  api.clear();
  return api;
}
