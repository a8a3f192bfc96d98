/**
 * The few lines of code that load an exported classifier and classify an image with it, with this run's input
 * size, preprocessing and class names filled in. Pure, no DOM.
 */
import type { ModelRecord } from '../../../shared/records';

export interface SnippetInput {
  classes: readonly string[];
  inputSize: number;
  preprocessing: ModelRecord['preprocessing'];
}

/** `x * scale + offset` written the way people recognise it (x / 127.5 - 1 for MobileNet). */
export function preprocessingCode(preprocessing: SnippetInput['preprocessing']): string {
  const { scale, offset } = preprocessing;
  // A scale that is the inverse of a short number reads better as a division (1/127.5 -> .div(127.5)).
  const divisor = Math.round((1 / scale) * 1000) / 1000;
  const exact = Math.abs(1 / divisor - scale) <= 1e-12 * Math.abs(scale);
  const scaled = scale === 1 ? '' : exact ? `.div(${divisor})` : `.mul(${scale})`;
  const shifted = offset === 0 ? '' : offset < 0 ? `.sub(${-offset})` : `.add(${offset})`;
  return `${scaled}${shifted}`;
}

export function loadingSnippet({ classes, inputSize, preprocessing }: SnippetInput): string {
  return [
    `import * as tf from '@tensorflow/tfjs';`,
    ``,
    `const classNames = ${JSON.stringify(classes)};`,
    `const model = await tf.loadLayersModel('model.json');`,
    ``,
    `// image: an <img>, <canvas>, <video> or ImageData`,
    `const probabilities = tf.tidy(() => {`,
    `  const pixels = tf.browser.fromPixels(image);`,
    `  const resized = tf.image.resizeBilinear(pixels, [${inputSize}, ${inputSize}], false, true);`,
    `  const input = resized${preprocessingCode(preprocessing)}.expandDims(0);`,
    `  return model.predict(input).dataSync();`,
    `});`,
    `const best = probabilities.indexOf(Math.max(...probabilities));`,
    `console.log(classNames[best], probabilities[best]);`,
  ].join('\n');
}
