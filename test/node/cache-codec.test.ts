/**
 * Feature codecs: float32 is exact, float16 is correctly rounded IEEE half precision, uint8 is within half
 * a quantisation step. Prints each codec's error and size on ReLU6-like features (values in [0, 6], ~90% zeros).
 */
import { describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor } from '../../client/cache/codec';
import { fromFloat16, toFloat16 } from '../../shared/float16';
import { mulberry32 as random } from '../../shared/seeded-random';
import type { TensorCodec } from '../../shared/farm';

/** Activations as MobileNetV2's ReLU6 layers give them: ~90% exact zeros, the rest skewed low, some clipped at 6. */
function relu6Features(count: number, seed: number): Float32Array {
  const next = random(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (next() < 0.9) continue;
    out[i] = Math.min(6, -Math.log(1 - next()) * 1.5);
  }
  return out;
}

const f32 = (x: number) => Math.fround(x);

describe('float32 codec', () => {
  it('round-trips exactly, shape and all', () => {
    const values = relu6Features(14 * 14 * 32, 1);
    const encoded = encodeTensor(values, [14, 14, 32], 'float32');
    expect(encoded.data.byteLength).toBe(values.length * 4);
    expect(encoded.shape).toEqual([14, 14, 32]);
    expect(decodeTensor(encoded)).toEqual(values);
    // The encoding owns its bytes: changing the input afterwards does not change what is stored.
    values[0] = 42;
    expect(decodeTensor(encoded)[0]).not.toBe(42);
  });
});

describe('float16 codec', () => {
  const roundTrip = (x: number) => fromFloat16(toFloat16(new Float32Array([x])))[0];

  it('keeps zeros (with sign), the largest half, infinities and NaN', () => {
    expect(Object.is(roundTrip(0), 0)).toBe(true);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(roundTrip(65504)).toBe(65504);
    expect(roundTrip(-65504)).toBe(-65504);
    expect(roundTrip(Infinity)).toBe(Infinity);
    expect(roundTrip(-Infinity)).toBe(-Infinity);
    expect(roundTrip(Number.NaN)).toBeNaN();
  });

  it('overflows to infinity past the largest half, rounding to nearest', () => {
    // 65520 is halfway between 65504 and the next (absent) step 65536: ties to even go up, to infinity.
    expect(roundTrip(65519)).toBe(65504);
    expect(roundTrip(65520)).toBe(Infinity);
    expect(roundTrip(1e6)).toBe(Infinity);
    expect(roundTrip(-1e6)).toBe(-Infinity);
  });

  it('encodes the standard bit patterns', () => {
    const bits = toFloat16(new Float32Array([1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, 2 ** -14 - 2 ** -24, 1 / 3]));
    expect([...bits]).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x3555]);
  });

  it('keeps subnormals exact and rounds below them to nearest even', () => {
    for (const m of [1, 2, 3, 511, 512, 1023]) expect(roundTrip(m * 2 ** -24)).toBe(m * 2 ** -24);
    expect(roundTrip(2 ** -25)).toBe(0); // a tie between 0 and 2^-24: 0 is even
    expect(roundTrip(f32(2 ** -25 * 1.0001))).toBe(2 ** -24);
    expect(roundTrip(3 * 2 ** -25)).toBe(2 * 2 ** -24); // tie between 1 and 2 (×2^-24): 2 is even
    expect(roundTrip(2 ** -30)).toBe(0);
    expect(roundTrip(2 ** -149)).toBe(0); // smallest float32 subnormal
  });

  it('rounds ties to even among normal numbers', () => {
    // Between 1 and 1 + 2^-10 the midpoint goes down to 1 (even); between 1 + 2^-10 and 1 + 2^-9 it goes up.
    expect(roundTrip(1 + 2 ** -11)).toBe(1);
    expect(roundTrip(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundTrip(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10);
  });

  it('is within 2^-11 relative error for every normal value it is given', () => {
    const next = random(7);
    const values = new Float32Array(100_000);
    for (let i = 0; i < values.length; i++) values[i] = (next() < 0.5 ? -1 : 1) * 2 ** (next() * 30 - 14); // 2^-14 .. 2^16
    const decoded = decodeTensor(encodeTensor(values, [values.length], 'float16'));
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(values[i]) >= 65504) continue;
      worst = Math.max(worst, Math.abs(decoded[i] - values[i]) / Math.abs(values[i]));
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(2 ** -12); // the bound is tight, so the rounding is really to half precision
  });
});

describe('uint8 codec', () => {
  it('is within half a step of every value', () => {
    const values = relu6Features(7 * 7 * 1280, 3);
    values[5] = -1.25; // a negative value too, so the offset is not 0
    const encoded = encodeTensor(values, [7, 7, 1280], 'uint8');
    expect(encoded.data.byteLength).toBe(values.length);
    expect(encoded.offset).toBe(-1.25);
    const max = values.reduce((m, x) => Math.max(m, x), -Infinity);
    expect(encoded.scale).toBeCloseTo((max + 1.25) / 255, 12);
    const decoded = decodeTensor(encoded);
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(decoded[i] - values[i]));
    // Half a step, plus the float32 rounding of the decoded value.
    expect(worst).toBeLessThanOrEqual(encoded.scale / 2 + 6 * 2 ** -24);
    // The extremes are exact.
    expect(decoded[5]).toBe(-1.25);
  });

  it('stores a constant tensor exactly', () => {
    for (const constant of [0, 3.5, -2]) {
      const values = new Float32Array(100).fill(constant);
      const encoded = encodeTensor(values, [100], 'uint8');
      expect(encoded.scale).toBe(0);
      expect(decodeTensor(encoded)).toEqual(values);
    }
  });

  it('refuses values it cannot quantise', () => {
    expect(() => encodeTensor(new Float32Array([1, Number.NaN]), [2], 'uint8')).toThrow(/finite/);
    expect(() => encodeTensor(new Float32Array([1, Infinity]), [2], 'uint8')).toThrow(/finite/);
  });
});

describe('every codec', () => {
  it('refuses a shape that does not match the values, and bytes that do not match the shape', () => {
    expect(() => encodeTensor(new Float32Array(10), [3, 3], 'float32')).toThrow(/holds 9 values, got 10/);
    const encoded = encodeTensor(new Float32Array(12), [3, 4], 'float16');
    expect(() => decodeTensor({ ...encoded, shape: [4, 4] })).toThrow(/needs 32 bytes, has 24/);
  });

  it('measures error and size on ReLU6 features (printed)', () => {
    const codecs: TensorCodec[] = ['float32', 'float16', 'uint8'];
    // The pooled bottleneck (1280) and the two tensors crossing a cut at block_13 (14x14x32, 14x14x192).
    const tensors = [
      { shape: [1280], values: relu6Features(1280, 11).map((x) => f32(x / 3)) }, // pooled: averages are smaller
      { shape: [14, 14, 32], values: relu6Features(14 * 14 * 32, 12) },
      { shape: [14, 14, 192], values: relu6Features(14 * 14 * 192, 13) },
    ];
    const rows: string[] = [];
    for (const codec of codecs) {
      let worst = 0;
      let bytes = 0;
      let raw = 0;
      for (const { shape, values } of tensors) {
        const encoded = encodeTensor(values, shape, codec);
        const perElement = { float32: 4, float16: 2, uint8: 1 }[codec];
        expect(encoded.data.byteLength).toBe(values.length * perElement);
        const decoded = decodeTensor(encoded);
        for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(decoded[i] - values[i]));
        bytes += encoded.data.byteLength;
        raw += values.length * 4;
      }
      if (codec === 'float32') expect(worst).toBe(0);
      rows.push(`${codec.padEnd(8)} max abs error ${worst.toExponential(3)}  bytes ${bytes} (${((100 * bytes) / raw).toFixed(0)}% of float32)`);
    }
    console.log(`codec error on ReLU6 features (1280 + 14x14x32 + 14x14x192 values):\n${rows.join('\n')}`);
  });
});
