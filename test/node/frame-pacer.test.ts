/**
 * The page's frame pacer: views drawn one per frame, so that a run's end (curves, results, the panels) is not laid
 * out in one frame. Driven here by a hand-stepped frame clock.
 */
import { describe, expect, it } from 'vitest';
import { framePacer } from '../../client/page/frame-pacer';

/** A frame clock the test steps: each step runs what waited for the frame. */
function steppedFrames() {
  let waiting: (() => void)[] = [];
  return {
    schedule: (draw: () => void) => void waiting.push(draw),
    frame() {
      const now = waiting;
      waiting = [];
      now.forEach((draw) => draw());
    },
    get waiting() {
      return waiting.length;
    },
  };
}

describe('framePacer', () => {
  it('draws one view per frame, in the order they were given', () => {
    const frames = steppedFrames();
    const pacer = framePacer(frames.schedule);
    const drawn: string[] = [];
    const curves = pacer.view((v: string) => drawn.push(`curves ${v}`));
    const results = pacer.view((v: string) => drawn.push(`results ${v}`));
    curves('a');
    results('b');
    expect(drawn).toEqual([]);
    frames.frame();
    expect(drawn).toEqual(['curves a']);
    frames.frame();
    expect(drawn).toEqual(['curves a', 'results b']);
    frames.frame();
    expect(frames.waiting).toBe(0);
  });

  it('draws only the latest value a view was given before its frame', () => {
    const frames = steppedFrames();
    const pacer = framePacer(frames.schedule);
    const drawn: number[] = [];
    const curves = pacer.view((v: number) => drawn.push(v));
    curves(1);
    curves(2);
    curves(3);
    frames.frame();
    frames.frame();
    expect(drawn).toEqual([3]);
    curves(4);
    frames.frame();
    expect(drawn).toEqual([3, 4]);
  });

  it('goes on with the next view when a draw throws, and the error still reaches the page', () => {
    const frames = steppedFrames();
    const pacer = framePacer(frames.schedule);
    const drawn: string[] = [];
    const broken = pacer.view(() => {
      throw new Error('bad draw');
    });
    const results = pacer.view((v: string) => drawn.push(v));
    broken(0);
    results('b');
    expect(() => frames.frame()).toThrow('bad draw');
    frames.frame();
    expect(drawn).toEqual(['b']);
  });
});
