/**
 * Views drawn one per frame. The browser lays out what a task changed at its next frame, so views drawn in tasks of
 * their own are still laid out together when no frame comes between them: a run's end redrew the curves, the
 * results and the panels in one frame, over 50 ms of main-thread work on a slow machine. Each view given here is
 * drawn in a task after the frame that laid out the one before, with the latest value it was given.
 */

/** Runs `draw` in a task after the next frame; in a hidden tab (no frames) at once, so the page stays current. */
function afterNextFrame(draw: () => void): void {
  if (document.visibilityState === 'hidden') setTimeout(draw);
  else requestAnimationFrame(() => setTimeout(draw));
}

export interface FramePacer {
  /** `render`, paced: each call asks for a draw of its value; one still waiting is replaced. */
  view<T>(render: (value: T) => void): (value: T) => void;
}

export function framePacer(schedule: (draw: () => void) => void = afterNextFrame): FramePacer {
  /** Waiting draws by view, oldest first (a view asked again keeps its place). */
  const waiting = new Map<object, () => void>();
  let scheduled = false;

  function drawOldest(): void {
    const [view, draw] = waiting.entries().next().value!;
    waiting.delete(view);
    scheduled = waiting.size > 0;
    if (scheduled) schedule(drawOldest);
    draw();
  }

  return {
    view<T>(render: (value: T) => void) {
      const view = {};
      return (value: T) => {
        waiting.set(view, () => render(value));
        if (!scheduled) {
          scheduled = true;
          schedule(drawOldest);
        }
      };
    },
  };
}
