/**
 * Hold-to-record: while held, takes one frame of a playing video at a steady rate and hands it on. A frame that
 * is still being handled when the next is due is not queued behind it (the rate drops instead of the memory
 * growing), and stopping waits for the frame in hand, so the count shown at release is the count stored.
 */

/** Frames a second while recording: enough variety for a class in a few seconds, few near-copies. */
export const RECORD_FPS = 8;

export interface Recording {
  /** Stops taking frames; resolves once the last frame taken has been handled. */
  stop(): Promise<void>;
}

/** `take` handles one frame and reports its own failures (it must not reject). */
export function startRecording(take: () => Promise<void>, fps = RECORD_FPS): Recording {
  let inHand: Promise<void> | null = null;
  const tick = () => {
    if (inHand) return;
    inHand = take().finally(() => {
      inHand = null;
    });
  };
  tick();
  const timer = setInterval(tick, 1000 / fps);
  return {
    async stop() {
      clearInterval(timer);
      await inHand;
    },
  };
}
