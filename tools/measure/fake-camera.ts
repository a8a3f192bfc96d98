/**
 * Chromium's fake camera for the bench and the browser tests: a .y4m video written at test time from real photos
 * (each photo held for a number of frames; Chromium plays the file in a loop), and the flags that make the fake
 * camera play it. y4m is a text header and raw frames: Y, then U and V at half resolution (4:2:0), here
 * full-range BT.601 (C420jpeg), each chroma sample the mean of a 2x2 block.
 */
import { open } from 'node:fs/promises';
import sharp from 'sharp';

export interface VideoOptions {
  width?: number;
  height?: number;
  /** Frames per second the camera reports. */
  fps?: number;
  /** Frames each photo is held for. */
  framesPerPhoto?: number;
}

/** One RGB frame as the y4m frame body: the Y plane, then U and V (4:2:0). */
function yuv420(rgb: Buffer, width: number, height: number): Buffer {
  const y = Buffer.alloc(width * height);
  const cw = width / 2;
  const u = Buffer.alloc(cw * (height / 2));
  const v = Buffer.alloc(cw * (height / 2));
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const o = (row * width + col) * 3;
      const [r, g, b] = [rgb[o], rgb[o + 1], rgb[o + 2]];
      y[row * width + col] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  for (let row = 0; row < height; row += 2) {
    for (let col = 0; col < width; col += 2) {
      let [cb, cr] = [0, 0];
      for (const [dr, dc] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const o = ((row + dr) * width + col + dc) * 3;
        const [r, g, b] = [rgb[o], rgb[o + 1], rgb[o + 2]];
        cb += 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
        cr += 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
      }
      const c = (row / 2) * cw + col / 2;
      u[c] = clamp(cb / 4);
      v[c] = clamp(cr / 4);
    }
  }
  return Buffer.concat([y, u, v]);
}

/** Writes `photos` (any format sharp decodes) as a y4m video at `path`, each photo cropped to fill the frame. */
export async function writeY4m(path: string, photos: string[], options: VideoOptions = {}): Promise<string> {
  const { width = 320, height = 240, fps = 30, framesPerPhoto = 15 } = options;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error('y4m 4:2:0 needs an even width and height');
  const file = await open(path, 'w');
  try {
    await file.write(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
    for (const photo of photos) {
      const rgb = await sharp(photo).resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer();
      const frame = Buffer.concat([Buffer.from('FRAME\n'), yuv420(rgb, width, height)]);
      for (let i = 0; i < framesPerPhoto; i++) await file.write(frame);
    }
  } finally {
    await file.close();
  }
  return path;
}

/** Chromium flags for a fake camera playing `video`; `grant` false leaves the permission prompt to answer no. */
export function fakeCameraFlags(video: string, grant = true): string[] {
  return [...(grant ? ['--use-fake-ui-for-media-stream'] : ['--deny-permission-prompts']), '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`];
}
