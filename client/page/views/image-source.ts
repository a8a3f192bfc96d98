/**
 * Shows an image given as a URL (an <img>) or an ImageBitmap (drawn once onto a <canvas>), with alt text.
 */
import { h } from './dom';

export type ImageSource = string | ImageBitmap;

export function imageElement(source: ImageSource, alt: string): HTMLImageElement | HTMLCanvasElement {
  if (typeof source === 'string') return h('img', { src: source, alt, decoding: 'async' });
  const canvas = h('canvas', { width: source.width, height: source.height, attrs: { role: 'img', 'aria-label': alt } });
  canvas.getContext('2d')?.drawImage(source, 0, 0);
  return canvas;
}
