/**
 * Decoded pixels -> a classifier's input, in plain TypeScript over the RGBA bytes (no tfjs): what the LiteRT.js
 * classifier worker runs. The same arithmetic as preprocess.ts does with tfjs (tfjs-backend-cpu's AvgPool and
 * ResizeBilinear kernels, each stage stored as float32 as tfjs stores it), so both give the same input within float
 * rounding (test/node/pixels.test.ts): squashed to a square, box-averaged by whole factors when more than twice
 * the target, resized bilinearly with half-pixel centres, then x * scale + offset for a float model, or rounded to
 * bytes for the int8 file (`roundedPixels`, the one definition the int8 export's check uses too).
 */

/** RGBA bytes, row-major, as ImageData and sharp's ensureAlpha().raw() give them. */
export interface RgbaPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** [size, size, 3] RGB values 0..255, squashed and resized (resizeToSquare's values, without tfjs). */
export function squareRgb(pixels: RgbaPixels, size: number): Float32Array<ArrayBuffer> {
  const { width, height } = pixels;
  const fh = Math.floor(height / size);
  const fw = Math.floor(width / size);
  const pooled = fh >= 2 || fw >= 2 ? boxAverage(pixels, Math.max(1, fh), Math.max(1, fw)) : rgbOf(pixels);
  return resizeBilinear(pooled.values, pooled.height, pooled.width, size);
}

interface Rgb {
  values: Float32Array;
  width: number;
  height: number;
}

function rgbOf({ data, width, height }: RgbaPixels): Rgb {
  const values = new Float32Array(width * height * 3);
  for (let p = 0, q = 0; p < width * height; p++, q += 4) {
    values[p * 3] = data[q];
    values[p * 3 + 1] = data[q + 1];
    values[p * 3 + 2] = data[q + 2];
  }
  return { values, width, height };
}

/** Mean of each whole [poolH, poolW] block ('valid': a remainder at the right and bottom is dropped). */
function boxAverage({ data, width, height }: RgbaPixels, poolH: number, poolW: number): Rgb {
  const outH = Math.floor(height / poolH);
  const outW = Math.floor(width / poolW);
  const values = new Float32Array(outH * outW * 3);
  const count = poolH * poolW;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < poolH; dy++) {
        let q = ((y * poolH + dy) * width + x * poolW) * 4;
        for (let dx = 0; dx < poolW; dx++, q += 4) {
          r += data[q];
          g += data[q + 1];
          b += data[q + 2];
        }
      }
      const o = (y * outW + x) * 3;
      values[o] = r / count;
      values[o + 1] = g / count;
      values[o + 2] = b / count;
    }
  }
  return { values, width: outW, height: outH };
}

/** Where output index `i` of `outSize` samples the input: lower index, upper index, fraction (half-pixel centres). */
function samplePoints(inSize: number, outSize: number): { lower: Int32Array; upper: Int32Array; fraction: Float64Array } {
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const fraction = new Float64Array(outSize);
  const ratio = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const source = ratio * (i + 0.5) - 0.5;
    lower[i] = Math.max(0, Math.floor(source));
    upper[i] = Math.min(inSize - 1, Math.ceil(source));
    fraction[i] = source - lower[i];
  }
  return { lower, upper, fraction };
}

/** tf.image.resizeBilinear(image, [size, size], alignCorners false, halfPixelCenters true) of an RGB image. */
function resizeBilinear(values: Float32Array, height: number, width: number, size: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(size * size * 3);
  const rows = samplePoints(height, size);
  const cols = samplePoints(width, size);
  let o = 0;
  for (let r = 0; r < size; r++) {
    const top = rows.lower[r] * width * 3;
    const bottom = rows.upper[r] * width * 3;
    const rowFraction = rows.fraction[r];
    for (let c = 0; c < size; c++) {
      const left = cols.lower[c] * 3;
      const right = cols.upper[c] * 3;
      const colFraction = cols.fraction[c];
      for (let d = 0; d < 3; d++) {
        const topLeft = values[top + left + d];
        const topRight = values[top + right + d];
        const bottomLeft = values[bottom + left + d];
        const bottomRight = values[bottom + right + d];
        const upper = topLeft + (topRight - topLeft) * colFraction;
        const lower = bottomLeft + (bottomRight - bottomLeft) * colFraction;
        out[o++] = upper + (lower - upper) * rowFraction;
      }
    }
  }
  return out;
}

/** A float model's input: every value x * scale + offset (normalise() in preprocess.ts). */
export function scaledInput(rgb: Float32Array, preprocessing: { scale: number; offset: number }): Float32Array<ArrayBuffer> {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i] * preprocessing.scale + preprocessing.offset;
  return out;
}

/**
 * The int8 file's input: the resized values rounded to bytes, halves to even (as tf.round does), which is what
 * Android camera code hands the file. The int8 export checks its file on exactly these bytes.
 */
export function roundedPixels(rgb: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) {
    const x = rgb[i];
    const floor = Math.floor(x);
    const rest = x - floor;
    const rounded = rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
    out[i] = Math.max(0, Math.min(255, rounded));
  }
  return out;
}
