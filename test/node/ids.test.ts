/** Ids made from folder and file names (ingest's default ids): distinct, readable, and always accepted by the API. */
import { describe, expect, it } from 'vitest';
import { nameProblem } from '../../shared/names';
import { toId } from '../../tools/ingest/ids';

describe('toId', () => {
  it('keeps Latin names readable, dropping accents rather than splitting words', async () => {
    expect(await toId('Flower Photos')).toBe('flower-photos');
    expect(await toId('Über')).toBe('uber');
    expect(await toId('Crème brûlée')).toBe('creme-brulee');
    expect(await toId('mobilenet_v2_0.35_224_no_top')).toBe('mobilenet_v2_0.35_224_no_top');
  });

  it('keeps names in other scripts apart instead of collapsing them to one id', async () => {
    const names = ['Цветы', '花', 'Λουλούδια', 'زهور', 'Цветы 2', 'Straße', 'Strasse', '🌸'];
    const ids = await Promise.all(names.map(toId));
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids) expect([id, nameProblem(id)]).toEqual([id, null]);
    expect(await toId('Цветы')).toBe(await toId('Цветы'));
    expect(await toId('Цветы 2')).toMatch(/^2-[0-9a-f]{8}$/);
  });

  it('keeps long names apart that differ only past the length limit', async () => {
    const long = 'a'.repeat(200);
    const [x, y] = await Promise.all([toId(`${long}x`), toId(`${long}y`)]);
    expect(x).not.toBe(y);
    for (const id of [x, y]) expect(nameProblem(id)).toBeNull();
  });
});
