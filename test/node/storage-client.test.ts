/**
 * The page's requests to the server never wait silently: a request whose answer, or whose body's next bytes, do
 * not come for STALL_MS is given up and tried again, and after the last try the error names the request, why and
 * how many tries there were. fetch is replaced by one that answers as each test says and honours the abort signal;
 * time is vitest's fake clock, so the test takes no real 10 s waits.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { downloadModel, listModels, RETRY_DELAYS_MS, STALL_MS, StorageError } from '../../client/api/storage-client';
import type { ModelRecord } from '../../shared/records';

type Answer = 'hang' | 'stall-body' | Response;

/** Replaces fetch: the nth call answers `answers[n]` (the last one for later calls); returns the paths asked for. */
function serve(...answers: Answer[]): string[] {
  const asked: string[] = [];
  vi.stubGlobal('fetch', (path: string, init?: RequestInit) => {
    const answer = answers[Math.min(asked.length, answers.length - 1)];
    asked.push(path);
    if (answer instanceof Response) return Promise.resolve(answer.clone());
    return new Promise<Response>((resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')));
      if (answer === 'stall-body') {
        // Headers and a first chunk, then nothing more.
        resolve(new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('[')) })));
      }
    });
  });
  return asked;
}

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
const TRIES = RETRY_DELAYS_MS.length + 1;
/** Long enough for every try to stall and every pause between them to pass. */
const ALL_TRIES_MS = TRIES * STALL_MS + RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + 1000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('requests to the server', () => {
  it('gives up a catalog request that never answers after its tries, and names it', async () => {
    const asked = serve('hang');
    const listing = listModels().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(ALL_TRIES_MS);
    const error = await listing;
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toBe(`/api/models: no answer for ${STALL_MS / 1000} s (${TRIES} tries)`);
    expect(asked).toEqual(Array(TRIES).fill('/api/models'));
  });

  it('tries a stalled request again and goes on when the next try answers', async () => {
    const asked = serve('hang', 'stall-body', json([]));
    const listing = listModels();
    await vi.advanceTimersByTimeAsync(2 * STALL_MS + RETRY_DELAYS_MS[0] + RETRY_DELAYS_MS[1] + 100);
    expect(await listing).toEqual([]);
    expect(asked).toHaveLength(3);
  });

  it('names the base model whose files stall', async () => {
    serve('stall-body');
    const record = { id: 'mobilenet-v3', name: 'MobileNet v3 (small)', weightsHash: '0'.repeat(64) } as ModelRecord;
    const download = downloadModel(record).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(ALL_TRIES_MS);
    expect(((await download) as Error).message).toBe(
      `The base model “MobileNet v3 (small)” could not be downloaded: /api/models/mobilenet-v3/model.json: no answer for ${STALL_MS / 1000} s (${TRIES} tries)`,
    );
  });
});
