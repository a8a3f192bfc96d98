/**
 * Live: the camera's frames through the trained classifier (ClassifyFrame: the page's classifier, on LiteRT.js
 * once its file is ready). Each frame goes to a worker as an ImageBitmap (transferred, never copied); one frame is
 * in flight at a time, and the frames the camera shows meanwhile are dropped, never queued, so the answer is
 * always about what the camera sees now. The camera is on
 * only while the visitor wants Live and can see it: a hidden tab or a Live view scrolled out of sight turns it off
 * (and leaves the worker idle), and it turns on again when they are back. Events: 'frame' (LiveFrame) after each
 * classified frame, 'state' (LiveStatus).
 */
import { CameraUnavailableError, cameraUnavailableHere, closeCamera, openCamera } from './open-camera';
import type { FrameClassification } from '../../shared/trainer-messages';

export interface LiveFrame extends FrameClassification {
  /** Frames classified per second over the last FPS_WINDOW_MS (null until two frames are in). */
  fps: number | null;
}

/** off: not wanted; starting: opening the camera; on: classifying; hidden: wanted, but out of sight (a hidden tab, or scrolled away). */
export type LiveState = 'off' | 'starting' | 'on' | 'hidden';

export interface LiveStatus {
  state: LiveState;
  /** Why Live stopped by itself (camera refused or missing, classifier gone), in words for the visitor. */
  message: string | null;
}

/**
 * Classifies one frame (the session's classifier on the trainer's page, the LiteRT.js classifier on /m/<id>); takes
 * the frame over. Null: the frame was lost with an engine that failed on it; Live goes on with the next.
 */
export type ClassifyFrame = (frame: ImageBitmap) => Promise<FrameClassification | null>;

const FPS_WINDOW_MS = 2000;
const STILL_WORKS = 'Classifying a photo from a file still works.';

/** Why this page can never run Live (an insecure origin, a browser without cameras), known without asking; or null. */
export function liveUnavailableHere(): string | null {
  return cameraUnavailableHere(STILL_WORKS)?.message ?? null;
}

/** Resolves when the video shows a new frame (requestVideoFrameCallback), else at the next animation frame. */
function nextVideoFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

export class Live extends EventTarget {
  state: LiveState = 'off';
  /** The camera's stream while Live is on. */
  stream: MediaStream | null = null;
  #wanted = false;
  #inView = true;
  /** Bumped by every start and stop: a loop or a camera opening of an older run ends quietly. */
  #run = 0;
  #doneAt: number[] = [];

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly classify: ClassifyFrame,
  ) {
    super();
    document.addEventListener('visibilitychange', () => this.#follow());
  }

  /** Whether the Live view is on screen (the page watches it); out of sight counts as a hidden tab does. */
  setInView(inView: boolean): void {
    this.#inView = inView;
    this.#follow();
  }

  /** The visitor cannot see Live: the tab is in the background or the view is scrolled away. */
  #away(): boolean {
    return document.hidden || !this.#inView;
  }

  /** Camera off while Live is out of sight, on again when it is back (only while the visitor wants Live). */
  #follow(): void {
    if (!this.#wanted) return;
    if (this.#away()) {
      if (this.state !== 'hidden') this.#stop('hidden');
    } else if (this.state === 'hidden') {
      void this.#start();
    }
  }

  /**
   * The visitor asked for Live: opens the camera (asking for it the first time) unless Live is out of sight;
   * resolves once frames flow, or Live has stopped and said why.
   */
  async open(): Promise<void> {
    this.#wanted = true;
    if (this.#away()) this.#stop('hidden');
    else if (this.state !== 'on' && this.state !== 'starting') await this.#start();
  }

  /** Camera off, no more frames to the worker; `message` says why when it was not the visitor's choice. */
  close(message: string | null = null): void {
    this.#wanted = false;
    this.#stop('off', message);
  }

  #setState(state: LiveState, message: string | null = null): void {
    this.state = state;
    this.dispatchEvent(new CustomEvent<LiveStatus>('state', { detail: { state, message } }));
  }

  #stop(state: LiveState, message: string | null = null): void {
    this.#run += 1;
    closeCamera(this.stream);
    this.stream = null;
    this.video.srcObject = null;
    this.#doneAt = [];
    this.#setState(state, message);
  }

  async #start(): Promise<void> {
    const run = ++this.#run;
    this.#setState('starting');
    let stream: MediaStream;
    try {
      stream = await openCamera(STILL_WORKS);
    } catch (error) {
      if (run === this.#run) this.close(error instanceof CameraUnavailableError ? error.message : String(error));
      return;
    }
    // Stopped or hidden while the camera opened: it closes again at once.
    if (run !== this.#run) return closeCamera(stream);
    this.stream = stream;
    stream.getVideoTracks()[0]?.addEventListener('ended', () => {
      if (run === this.#run) this.close(`The camera stopped sending pictures. ${STILL_WORKS}`);
    });
    this.video.srcObject = stream;
    try {
      await this.video.play();
    } catch (error) {
      if (run === this.#run) this.close(`The camera's picture could not be shown (${(error as Error).message}). ${STILL_WORKS}`);
      return;
    }
    if (run !== this.#run) return;
    this.#setState('on');
    void this.#classifyFrames(run);
  }

  /** One frame at a time: wait for a new one, send it, show the answer, and again, until this run is stopped. */
  async #classifyFrames(run: number): Promise<void> {
    while (run === this.#run) {
      await nextVideoFrame(this.video);
      if (run !== this.#run) return;
      let answer: FrameClassification | null;
      try {
        answer = await this.classify(await createImageBitmap(this.video));
      } catch (error) {
        if (run === this.#run) this.close(`Live stopped: ${(error as Error).message}.`);
        return;
      }
      if (run !== this.#run) return;
      if (!answer) continue;
      this.dispatchEvent(new CustomEvent<LiveFrame>('frame', { detail: { ...answer, fps: this.#countFrame() } }));
    }
  }

  #countFrame(): number | null {
    const now = performance.now();
    this.#doneAt.push(now);
    while (this.#doneAt[0] < now - FPS_WINDOW_MS) this.#doneAt.shift();
    const span = now - this.#doneAt[0];
    return this.#doneAt.length > 1 && span > 0 ? ((this.#doneAt.length - 1) * 1000) / span : null;
  }
}
