/**
 * How a feature tensor is stored: float32 as is, IEEE half precision, or 8-bit affine quantisation.
 * Encoding happens before a write transaction opens and decoding after a read one closes; the bytes stay
 * on the machine that wrote them, so multi-byte codecs use the platform's byte order (typed arrays).
 */
import type { TensorCodec } from '../../shared/farm';
import { fromFloat16, toFloat16 } from '../../shared/float16';

/** A tensor as stored in IndexedDB: plain, structured-cloneable data. */
export interface EncodedTensor {
  shape: number[];
  codec: TensorCodec;
  /** uint8 only: value = byte * scale + offset; 1 and 0 for the float codecs. */
  scale: number;
  offset: number;
  data: ArrayBuffer;
}

const BYTES_PER_ELEMENT: Partial<Record<string, number>> = { float32: 4, float16: 2, uint8: 1 };

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) throw new RangeError(`bad tensor shape [${shape.join(', ')}]`);
    count *= dim;
  }
  return count;
}

/** Encodes `values` (row-major, `shape`) with `codec`. The result owns fresh bytes. */
export function encodeTensor(values: Float32Array, shape: readonly number[], codec: TensorCodec): EncodedTensor {
  const count = elementCount(shape);
  if (count !== values.length) {
    throw new RangeError(`shape [${shape.join(', ')}] holds ${count} values, got ${values.length}`);
  }
  switch (codec) {
    case 'float32':
      return { shape: [...shape], codec, scale: 1, offset: 0, data: values.slice().buffer };
    case 'float16':
      return { shape: [...shape], codec, scale: 1, offset: 0, data: toFloat16(values).buffer };
    case 'uint8':
      return { shape: [...shape], codec, ...quantize(values) };
    default:
      throw new TypeError(`unknown codec ${JSON.stringify(codec)}`);
  }
}

/**
 * The tensor's values. For float32 the result is a view over `encoded.data` (no copy: the trainer reads
 * thousands of these), so do not write into it if the record is still in use elsewhere.
 */
export function decodeTensor(encoded: EncodedTensor): Float32Array {
  checkEncodedTensor(encoded);
  switch (encoded.codec) {
    case 'float32':
      return new Float32Array(encoded.data);
    case 'float16':
      return fromFloat16(new Uint16Array(encoded.data));
    case 'uint8':
      return dequantize(new Uint8Array(encoded.data), encoded.scale, encoded.offset);
    default:
      throw new TypeError(`unknown codec ${JSON.stringify(encoded.codec)}`);
  }
}

/** Throws a RangeError unless `encoded` is a known codec whose bytes fit its shape. */
export function checkEncodedTensor(encoded: EncodedTensor): void {
  const perElement = BYTES_PER_ELEMENT[encoded.codec];
  if (perElement === undefined) throw new TypeError(`unknown codec ${JSON.stringify(encoded.codec)}`);
  if (!(encoded.data instanceof ArrayBuffer)) throw new TypeError('encoded tensor data must be an ArrayBuffer');
  const expected = elementCount(encoded.shape) * perElement;
  if (encoded.data.byteLength !== expected) {
    throw new RangeError(
      `${encoded.codec} tensor of shape [${encoded.shape.join(', ')}] needs ${expected} bytes, has ${encoded.data.byteLength}`,
    );
  }
}

// ---- uint8 affine ------------------------------------------------------------------------------------------

/** Per-tensor min/max quantisation: scale = (max - min) / 255, offset = min; error at most scale / 2. */
function quantize(values: Float32Array): { scale: number; offset: number; data: ArrayBuffer } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) throw new RangeError(`uint8 codec needs finite values, found ${x} at index ${i}`);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const bytes = new Uint8Array(values.length);
  // An empty or constant tensor is all offset: scale 0 and every byte 0 decode exactly.
  if (values.length === 0 || max === min) return { scale: 0, offset: values.length === 0 ? 0 : min, data: bytes.buffer };
  const scale = (max - min) / 255;
  for (let i = 0; i < values.length; i++) bytes[i] = Math.round((values[i] - min) / scale);
  return { scale, offset: min, data: bytes.buffer };
}

function dequantize(bytes: Uint8Array, scale: number, offset: number): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] * scale + offset;
  return out;
}
