/**
 * Live, wired: its view (views/live.ts) joined to the camera loop (camera/live.ts), whose frames a Classifier (the
 * session's trainer) classifies. Live is offered while a classifier exists and no run trains (the two share the
 * trainer), and its camera is on only while the view is in sight.
 */
import { Live, liveUnavailableHere, type LiveFrame, type LiveStatus } from '../camera/live';
import type { Classifier } from '../classifier/classifier';
import { mountLive } from './views/live';

export interface LiveController {
  /** The camera loop (window.graft.live, for the browser tests). */
  readonly live: Live;
  /** A classifier came or went: Live is offered with it, and off (its camera too) without it; `reason` says why. */
  setClassifier(ready: boolean, reason: string): void;
  /** A run started or ended: Live stops for a run and comes back with the classifier. */
  setBusy(busy: boolean): void;
}

export function connectLive(el: HTMLElement, classifier: Classifier): LiveController {
  const view = mountLive(el, { onStart: () => void live.open(), onStop: () => live.close() }, liveUnavailableHere());
  // Through the classifier at each frame (a test may wrap classifyFrame).
  const live = new Live(view.video, (frame) => classifier.classifyFrame(frame));
  live.addEventListener('frame', (event) => view.showFrame((event as CustomEvent<LiveFrame>).detail));
  live.addEventListener('state', (event) => {
    const { state, message } = (event as CustomEvent<LiveStatus>).detail;
    view.setState(state, message);
  });
  // Live scrolled out of sight turns the camera off, as a hidden tab does.
  new IntersectionObserver(([entry]) => live.setInView(entry.isIntersecting)).observe(el);
  /** Whether the trainer holds a classifier Live can use. */
  let hasClassifier = false;
  return {
    live,
    setClassifier(ready, reason) {
      hasClassifier = ready;
      if (!ready) live.close();
      view.setEnabled(ready, reason);
    },
    setBusy(busy) {
      // Live shares the trainer with training.
      if (busy) live.close();
      view.setEnabled(hasClassifier && !busy, busy ? 'Live is off while a classifier trains.' : undefined);
    },
  };
}
