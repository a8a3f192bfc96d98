/**
 * Step 4: Start, Pause, Resume and Cancel, enabled according to the run's state. When the focused button
 * becomes disabled (Pause after a click), focus moves to the button that now makes sense (Resume), so a
 * keyboard user is never dropped back to the top of the page.
 */
import type { RunState } from '../../../shared/training';
import { h, replace } from './dom';
export type ControlName = 'start' | 'pause' | 'resume' | 'cancel';

export interface ControlsCallbacks {
  onStart(): void;
  onPause(): void;
  onResume(): void;
  onCancel(): void;
}

export interface Controls {
  setState(state: RunState): void;
  /** Extra reason Start is unavailable (e.g. "Choose a dataset first."), or null. */
  setStartBlocked(reason: string | null): void;
  /**
   * What Start will do that the visitor should know first (e.g. the storage the run needs), or null. It is about
   * the run Start makes: once that run has ended (done, cancelled or stopped by an error) it goes, unless
   * `keepAfterRun` (what the browser answered about keeping its storage still holds after the run).
   */
  setNote(note: string | null, options?: { keepAfterRun?: boolean }): void;
}

/** Which buttons are enabled in each state. */
export function enabledControls(state: RunState): Record<ControlName, boolean> {
  const running = state === 'extracting' || state === 'training';
  return {
    start: state === 'idle' || state === 'done' || state === 'error',
    pause: running,
    resume: state === 'paused',
    cancel: running || state === 'paused',
  };
}

const STATE_TEXT: Record<RunState, string> = {
  idle: 'Ready to start.',
  extracting: 'Extracting features…',
  training: 'Training…',
  paused: 'Paused.',
  done: 'Done.',
  error: 'Stopped by an error.',
};

/**
 * The run's state line and the line beside it. While Start is off only for `blockReason`, the state line says what
 * is missing (not "Ready to start."); after a run, its outcome stays the state and the reason is said beside it.
 */
export function runStateText(state: RunState, blockReason: string | null): { status: string; blocked: string } {
  if (!blockReason || !enabledControls(state).start) return { status: STATE_TEXT[state], blocked: '' };
  return state === 'idle' ? { status: blockReason, blocked: '' } : { status: STATE_TEXT[state], blocked: blockReason };
}

/** Where focus goes when the focused button is disabled, in order of preference. */
const FOCUS_ORDER: ControlName[] = ['resume', 'pause', 'start', 'cancel'];

export function mountControls(el: HTMLElement, callbacks: ControlsCallbacks): Controls {
  const buttons: Record<ControlName, HTMLButtonElement> = {
    start: h('button', { type: 'button', class: 'button primary', on: { click: () => callbacks.onStart() } }, 'Start training'),
    pause: h('button', { type: 'button', class: 'button', on: { click: () => callbacks.onPause() } }, 'Pause'),
    resume: h('button', { type: 'button', class: 'button', on: { click: () => callbacks.onResume() } }, 'Resume'),
    cancel: h('button', { type: 'button', class: 'button danger', on: { click: () => callbacks.onCancel() } }, 'Cancel'),
  };
  const status = h('p', { class: 'run-state', attrs: { role: 'status' } });
  const blocked = h('p', { class: 'muted small' });
  const note = h('p', { class: 'muted small start-note' });
  let keepNote = false;
  replace(el, h('div', { class: 'button-row' }, Object.values(buttons)), status, blocked, note);

  let state: RunState = 'idle';
  let blockReason: string | null = null;

  function render(): void {
    const enabled = enabledControls(state);
    if (blockReason) enabled.start = false;
    const focused = (Object.keys(buttons) as ControlName[]).find((name) => buttons[name] === document.activeElement);
    for (const name of Object.keys(buttons) as ControlName[]) buttons[name].disabled = !enabled[name];
    buttons.start.textContent = state === 'done' || state === 'error' ? 'Train again' : 'Start training';
    const text = runStateText(state, blockReason);
    status.textContent = text.status;
    status.dataset.state = state;
    blocked.textContent = text.blocked;
    if (focused && !enabled[focused]) {
      const next = FOCUS_ORDER.find((name) => enabled[name]);
      if (next) buttons[next].focus();
    }
  }
  render();

  return {
    setState(next) {
      // A run (extracting, training or paused) ended: what was said before its Start no longer holds.
      if (!enabledControls(state).start && enabledControls(next).start && !keepNote) note.textContent = '';
      state = next;
      render();
    },
    setStartBlocked(reason) {
      blockReason = reason;
      render();
    },
    setNote(text, options) {
      keepNote = options?.keepAfterRun ?? false;
      note.textContent = text ?? '';
    },
  };
}
