/**
 * Hold-to-record's pace: one frame at once and then at a steady rate while held; a frame still being stored when
 * the next is due is not queued behind it; release waits for the frame in hand, so nothing is stored after it.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { startRecording } from '../../client/camera/recorder';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

it('takes frames at the rate asked while held, and none after release', async () => {
  let taken = 0;
  const recording = startRecording(async () => void taken++, 8);
  await vi.advanceTimersByTimeAsync(1000);
  expect(taken).toBe(1 + 8);
  await recording.stop();
  await vi.advanceTimersByTimeAsync(1000);
  expect(taken).toBe(9);
});

it('skips a frame rather than queueing it behind a slow one, and release waits for the one in hand', async () => {
  let started = 0;
  let stored = 0;
  const recording = startRecording(async () => {
    started++;
    await new Promise((resolve) => setTimeout(resolve, 250));
    stored++;
  }, 10);
  await vi.advanceTimersByTimeAsync(1000);
  // Each frame takes 250 ms: frames at 0, 300, 600 and 900 ms (the ticks at 100, 200, ... find one in hand).
  expect(started).toBe(4);
  const stopped = recording.stop();
  let done = false;
  void stopped.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(100);
  expect(done).toBe(false);
  await vi.advanceTimersByTimeAsync(100);
  expect(done).toBe(true);
  expect(stored).toBe(started);
});
