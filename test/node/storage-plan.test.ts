/**
 * The storage a run needs and what the page does when there is less: the issue's 16,110-photo, 7-class run
 * (MobileNetV2-0.35 at 224 px, fine-tuned from layer 100) in a normal profile, in a private window's quota,
 * and in less. The base's weight bytes are the shared model's real ones.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesNeeded, chooseStorage, type RunFootprint } from '../../client/page/storage-plan';
import { formatBytes } from '../../client/page/text/format';
import { MOBILENET_V2_DIR } from '../support/node-features';

const GB = 1e9;
const modelBytes = statSync(join(MOBILENET_V2_DIR, 'group1-shard1of1.bin'), { throwIfNoEntry: false })?.size ?? 0;

/** The issue's run: 16,110 photos, no augmentation; the cut at layer 100 is [14,14,192] + [14,14,32]. */
const issueRun: RunFootprint = {
  samples: 16_110,
  cutSamples: 16_110,
  pooledSize: 1280,
  cutSize: 14 * 14 * 192 + 14 * 14 * 32,
  modelBytes,
  headParams: 1280 * 7 + 7,
  fineTuneParams: 300_000,
};

describe('storage plan', () => {
  it('estimates the issue’s run near what it used (1.46 GB) and keeps float16 where 11.7 GB are free', () => {
    expect(modelBytes).toBeGreaterThan(1_000_000);
    const plan = chooseStorage(issueRun, 11.7 * GB);
    expect(plan.cut).toBe('float16');
    expect(plan.degraded).toBe(false);
    expect(plan.bytes).toBeGreaterThan(1.46 * GB);
    expect(plan.bytes).toBeLessThan(1.46 * GB * 1.25);
    expect(plan.message).toBe(`This run needs about ${formatBytes(plan.bytes)} of browser storage (${formatBytes(11.7 * GB)} free).`);
  });

  it('stores cut activations as uint8 in a private window that ran out at 14,286 images, and says why', () => {
    const available = 1.46 * GB * (14_286 / 16_110);
    const plan = chooseStorage(issueRun, available);
    expect(plan.cut).toBe('uint8');
    expect(plan.degraded).toBe(true);
    expect(plan.bytes).toBeLessThanOrEqual(available);
    expect(plan.bytes).toBeLessThan(bytesNeeded(issueRun, 'float16') * 0.6);
    expect(plan.message).toMatch(/cut activations are stored as uint8, half the size of float16, because float16 would need \d(\.\d+)? GB/);
  });

  it('trains the head only when even uint8 does not fit, and says why', () => {
    const plan = chooseStorage(issueRun, 0.5 * GB);
    expect(plan.cut).toBe('none');
    expect(plan.degraded).toBe(true);
    expect(plan.bytes).toBe(bytesNeeded(issueRun, 'none'));
    expect(plan.bytes).toBeLessThan(0.5 * GB);
    expect(plan.message).toMatch(/only the head trains, because fine-tuning needs its cut activations cached, \d+ MB even as uint8\.$/);
  });

  it('warns when not even the pooled features fit', () => {
    const plan = chooseStorage(issueRun, 50e6);
    expect(plan.cut).toBe('none');
    expect(plan.message).toMatch(/Even that may run short: then it trains on the images whose features fit\.$/);
  });

  it('after the cache ran short unannounced, plans with a fifth of the space that freed in reserve', () => {
    // The browser's count of what freed proved generous once (a checkpoint then did not fit): a run that would use
    // all but 5% of it is not chosen, one that leaves the reserve is, and the visitor is told the free space measured.
    const uint8 = bytesNeeded(issueRun, 'uint8');
    const tight = chooseStorage(issueRun, uint8 * 1.05, ['float16']);
    expect(tight.cut).toBe('none');
    expect(tight.message).toContain(`(${formatBytes(uint8 * 1.05)} free)`);
    expect(chooseStorage(issueRun, uint8 * 1.3, ['float16']).cut).toBe('uint8');
    // Before any shortage, the estimate is trusted as it is.
    expect(chooseStorage(issueRun, bytesNeeded(issueRun, 'float16') * 1.05).cut).toBe('float16');
  });

  it('keeps the full run where the browser does not say how much is free', () => {
    const plan = chooseStorage(issueRun, null);
    expect(plan.cut).toBe('float16');
    expect(plan.degraded).toBe(false);
    expect(plan.message).toContain('(free space unknown)');
  });

  it('has nothing to cut down for a head-only run', () => {
    const headOnly = { ...issueRun, cutSize: 0, fineTuneParams: 0 };
    const plan = chooseStorage(headOnly, 11.7 * GB);
    expect(plan).toMatchObject({ cut: 'none', degraded: false });
    expect(plan.bytes).toBeLessThan(0.15 * GB);
  });
});
