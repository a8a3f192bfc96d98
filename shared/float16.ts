/**
 * IEEE 754 binary16 (float16) conversion, for the feature cache's float16 codec and the float16 model export.
 */

/** binary16 bits of each value: round to nearest, ties to even; subnormals kept; overflow to ±inf; NaN stays NaN. */
export function toFloat16(values: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBits(bits[i]);
  return out;
}

function halfBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  const mantissa = f & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  // Rebias from float32 (127) to float16 (15).
  const e = exponent - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero) in half precision: value = m * 2^-24 with m the shifted full significand.
    const shift = 14 - e;
    // Below half of the smallest subnormal (2^-25) everything rounds to zero; also keeps shifts < 32.
    if (shift > 24) return sign;
    const significand = mantissa | 0x800000;
    const m = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    // A carry out of the subnormal range lands on the smallest normal, which is the right encoding.
    return sign | (rest > halfway || (rest === halfway && (m & 1) === 1) ? m + 1 : m);
  }
  const h = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa bumps the exponent; from the largest finite it reaches infinity (0x7c00).
  return rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? h + 1 : h;
}

let halfTable: Float32Array | null = null;

/** All 65536 binary16 values as float32 (exact: every half is representable), built on first use. */
function halfValues(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) table[h] = mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1024 + mantissa) * 2 ** (exponent - 25);
  }
  halfTable = table;
  return table;
}

export function fromFloat16(halves: Uint16Array): Float32Array {
  const table = halfValues();
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
  return out;
}
