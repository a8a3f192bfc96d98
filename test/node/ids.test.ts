/** Ids made from folder and file names (ingest's default ids): distinct, readable, and always accepted by the API. */
import { describe, expect, it } from 'vitest';
import { nameProblem } from '../../shared/names';
import { toId } from '../../tools/ingest/ids';

describe('toId', () => {
  it('keeps Latin names readable, dropping accents rather than splitting words', () => {
    expect(toId('Flower Photos')).toBe('flower-photos');
    expect(toId('Über')).toBe('uber');
    expect(toId('Crème brûlée')).toBe('creme-brulee');
    expect(toId('mobilenet_v2_0.35_224_no_top')).toBe('mobilenet_v2_0.35_224_no_top');
  });

  it('keeps names in other scripts apart instead of collapsing them to one id', () => {
    const names = ['Цветы', '花', 'Λουλούδια', 'زهور', 'Цветы 2', 'Straße', 'Strasse', '🌸'];
    const ids = names.map(toId);
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids) expect([id, nameProblem(id)]).toEqual([id, null]);
    expect(toId('Цветы')).toBe(toId('Цветы'));
    expect(toId('Цветы 2')).toMatch(/^2-[0-9a-f]{8}$/);
  });

  it('keeps long names apart that differ only past the length limit', () => {
    const long = 'a'.repeat(200);
    const [x, y] = [toId(`${long}x`), toId(`${long}y`)];
    expect(x).not.toBe(y);
    for (const id of [x, y]) expect(nameProblem(id)).toBeNull();
  });
});
