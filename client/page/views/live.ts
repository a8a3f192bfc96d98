/**
 * Step 5, Live: the camera's mirrored preview, a probability bar per class (the top class highlighted) and the
 * frame rate, with the buttons that turn the camera on and off. Bars keep the classes' order and are updated in
 * place, so a frame costs a few style writes; a screen reader hears the top class only when it changes. The camera
 * and the frames are the caller's (client/camera/live.ts).
 */
import type { LiveFrame, LiveState } from '../../camera/live';
import { bar, h, replace } from './dom';
import { formatPercent } from '../text/format';

export interface LiveCallbacks {
  onStart(): void;
  onStop(): void;
}

export interface LiveView {
  /** Where the camera's picture plays (shown mirrored, as a mirror does). */
  video: HTMLVideoElement;
  showFrame(frame: LiveFrame): void;
  /** The camera's state, and why it stopped when the visitor did not stop it. */
  setState(state: LiveState, message: string | null): void;
  /** Off until a classifier exists and while one trains; `reason` says why. */
  setEnabled(enabled: boolean, reason?: string): void;
}

interface BarRow {
  row: HTMLLIElement;
  track: HTMLElement;
  fill: HTMLElement;
  value: HTMLElement;
}

const STATE_TEXT: Record<LiveState, string> = {
  off: 'The camera is off. It turns on only when you click.',
  starting: 'Opening the camera…',
  on: 'Classifying what the camera sees.',
  hidden: 'Paused while Live is out of sight (another tab, or scrolled away): the camera is off until it is back.',
};

/** `unavailable`: why this page can never have the camera (shown at once; the button stays off). */
export function mountLive(el: HTMLElement, callbacks: LiveCallbacks, unavailable: string | null): LiveView {
  const start = h('button', { type: 'button', class: 'button', on: { click: () => callbacks.onStart() } }, 'Start the camera');
  const stop = h('button', { type: 'button', class: 'button', hidden: true, on: { click: () => callbacks.onStop() } }, 'Stop');
  // aria-live rather than role="status": a page's one status element is the classify view's top class.
  const status = h('p', { class: 'muted small live-status', attrs: { 'aria-live': 'polite' } });
  const message = h('p', { class: 'error-text live-message', attrs: { role: 'alert' } });
  const video = h('video', { class: 'live-video', muted: true, playsInline: true, autoplay: true, attrs: { 'aria-label': 'The camera, mirrored' } });
  const fps = h('p', { class: 'live-fps muted small' });
  const top = h('p', { class: 'live-top', attrs: { 'aria-live': 'polite' } });
  const list = h('ol', { class: 'top-classes live-bars', attrs: { 'aria-label': 'Probability of each class' } });
  const output = h('div', { class: 'live-output', hidden: true }, h('div', { class: 'live-preview' }, video, fps), h('div', null, top, list));
  replace(
    el,
    h('h3', { class: 'subheading' }, 'Live'),
    h('p', { class: 'muted' }, 'Point the camera at something and watch the classifier follow it. Frames are classified in a worker, on this computer.'),
    h('div', { class: 'live-controls' }, start, stop),
    status,
    message,
    output,
  );

  message.textContent = unavailable ?? '';
  let rows: BarRow[] = [];
  let shownClasses: string[] = [];
  let shownTop: string | null = null;
  let current: LiveState = 'off';

  function buildRows(classes: string[]): void {
    rows = classes.map((name) => {
      const track = bar(0);
      const value = h('span', { class: 'class-value' });
      const row = h('li', null, h('span', { class: 'class-name', title: name }, name), track, value);
      return { row, track, fill: track.firstElementChild as HTMLElement, value };
    });
    replace(list, rows.map((r) => r.row));
    shownClasses = classes;
  }

  return {
    video,
    showFrame({ classes, probabilities, fps: rate }) {
      if (classes.join('\n') !== shownClasses.join('\n')) buildRows(classes);
      let best = 0;
      probabilities.forEach((p, i) => {
        if (p > probabilities[best]) best = i;
        rows[i].fill.style.width = `${Math.round(p * 1000) / 10}%`;
        rows[i].value.textContent = formatPercent(p);
      });
      rows.forEach((r, i) => {
        r.row.classList.toggle('best', i === best);
        r.track.classList.toggle('accent', i === best);
      });
      if (classes[best] !== shownTop) {
        shownTop = classes[best];
        top.textContent = `Top class: ${shownTop}`;
      }
      fps.textContent = rate === null ? '' : `${rate.toFixed(1)} frames/s`;
    },
    setState(state, why) {
      current = state;
      const running = state === 'on' || state === 'starting';
      start.hidden = running;
      stop.hidden = !running;
      status.textContent = STATE_TEXT[state];
      message.textContent = why ?? unavailable ?? '';
      output.hidden = state !== 'on';
      if (state !== 'on') {
        fps.textContent = '';
        top.textContent = '';
        shownTop = null;
        replace(list);
        shownClasses = [];
      }
    },
    setEnabled(enabled, reason) {
      if (unavailable) enabled = false;
      start.disabled = !enabled;
      status.textContent = enabled ? STATE_TEXT[current] : (reason ?? 'Train a classifier first.');
    },
  };
}
