/**
 * The session's state machine and its typed events. A run moves idle → extracting → training → done, may pause
 * (and resume through extracting, which a resumed training passes in a moment) or end in an error, and Cancel
 * brings it back to idle from anywhere; any other move is a bug and throws. Every listener can be removed:
 * on() returns the function that removes it.
 */
import type { FarmProgress } from '../farm/farm';
import type { ModelRecord } from '../../shared/records';
import type { BackendReport } from '../../shared/farm';
import type { TrainEvent } from '../../shared/trainer-messages';
import type { Evaluation, History, RunState } from '../../shared/training';

export interface SessionEvents {
  state: RunState;
  extract: FarmProgress;
  train: TrainEvent;
  /** A run's curves and results; `inputSize` is its classifier's (the run's, not the form's). */
  results: { history: History; evaluation: Evaluation; inputSize: number };
  trainer: BackendReport;
  /** A classifier came for this base model (a run finished, a saved one was opened), or went (null: "Delete everything"). */
  classifier: ModelRecord | null;
  /** Another base model was chosen (the classifier follows, classifier.ts). */
  model: ModelRecord;
  /** A run is about to start (before its plan: the last classifier's TFLite builds stop). */
  runStarting: null;
  error: string;
  info: string;
}

export type Listener<K extends keyof SessionEvents> = (value: SessionEvents[K]) => void;

/** Where each state may go next. */
const NEXT: Record<RunState, readonly RunState[]> = {
  // A start that fails before extracting (a dataset that changed) ends in an error.
  idle: ['extracting', 'error', 'idle'],
  // Resume goes back to extracting at once, and the resumed start says so again.
  extracting: ['extracting', 'training', 'paused', 'error', 'idle'],
  training: ['paused', 'done', 'error', 'idle'],
  // A pause that came after the last batch still ends the run done; a trainer lost while paused stays paused.
  paused: ['extracting', 'paused', 'done', 'error', 'idle'],
  done: ['extracting', 'error', 'idle'],
  error: ['extracting', 'error', 'idle'],
};

export class SessionMachine {
  #state: RunState = 'idle';
  #listeners = new Map<keyof SessionEvents, Set<(value: never) => void>>();

  get state(): RunState {
    return this.#state;
  }

  /** Moves to `next` and tells the 'state' listeners. */
  to(next: RunState): void {
    if (!NEXT[this.#state].includes(next)) throw new Error(`the session cannot go from ${this.#state} to ${next}`);
    this.#state = next;
    this.emit('state', next);
  }

  /** Adds `listener`; returns the function that removes it. */
  on<K extends keyof SessionEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (value: never) => void);
    return () => this.off(event, listener);
  }

  off<K extends keyof SessionEvents>(event: K, listener: Listener<K>): void {
    this.#listeners.get(event)?.delete(listener as (value: never) => void);
  }

  emit<K extends keyof SessionEvents>(event: K, value: SessionEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as Listener<K>)(value);
  }
}
