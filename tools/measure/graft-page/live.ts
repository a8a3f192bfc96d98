/** Live timed in the page: the fake camera's frames classified by the measure session's trained classifier. */
import type { Page } from 'playwright-core';
import type { ClassifyFrame, Live, LiveFrame, LiveStatus } from '../../../client/camera/live';
import type { MeasureWindow } from './measure-window';

export interface LiveRun {
  /** Frames classified in the timed window (after the warm-up frames). */
  frames: number;
  seconds: number;
  /** The frame rate the Live view showed last. */
  shownFps: number | null;
  /** The worker's own milliseconds per frame (reading its pixels to the probabilities), mean over the timed frames. */
  msPerFrame: number | null;
  /** Which engine classified the frames, in the page's words. */
  engine: string;
}

/**
 * Live on the fake camera with the measure session's trained classifier: the page's own Live class (one frame in
 * flight, classified by the session's engine: LiteRT.js once the classifier's file is ready, which this waits for),
 * timed for `seconds` after `warmUpFrames` frames.
 */
export function liveRun(page: Page, args: { seconds: number; warmUpFrames: number }): Promise<LiveRun> {
  return page.evaluate(async ({ seconds, warmUpFrames }) => {
    const w = window as unknown as MeasureWindow;
    const LiveClass = w.graft.live.constructor as new (video: HTMLVideoElement, classify: ClassifyFrame) => Live;
    const video = document.createElement('video');
    video.muted = true;
    document.body.appendChild(video);
    const { classifier } = w.measure;
    await classifier.engineReady;
    const live = new LiveClass(video, (frame) => classifier.classifyFrame(frame));
    const times: number[] = [];
    const workerMs: number[] = [];
    let shownFps: number | null = null;
    let stopped: string | null = null;
    live.addEventListener('frame', (event) => {
      times.push(performance.now());
      const { fps, ms } = (event as CustomEvent<LiveFrame>).detail;
      shownFps = fps;
      workerMs.push(ms);
    });
    live.addEventListener('state', (event) => {
      const { state, message } = (event as CustomEvent<LiveStatus>).detail;
      if (state === 'off') stopped = message ?? 'stopped';
    });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      await live.open();
      while (times.length < warmUpFrames && stopped === null) await sleep(100);
      const from = times.length;
      const started = performance.now();
      await sleep(seconds * 1000);
      if (stopped !== null) throw new Error(`Live stopped: ${stopped}`);
      const timed = workerMs.slice(from);
      const msPerFrame = timed.length > 0 ? timed.reduce((a, b) => a + b, 0) / timed.length : null;
      return { frames: times.length - from, seconds: (performance.now() - started) / 1000, shownFps, msPerFrame, engine: classifier.engine.text };
    } finally {
      live.close();
      video.remove();
    }
  }, args);
}
