/**
 * Chromium's fake camera playing real photos: a .y4m video written at test time from photos in ../shared (one
 * frame per photo, in a loop), and the flags that make Chromium grant and use it. y4m is a text header and raw
 * 4:2:0 frames: BT.601 full-range RGB to YCbCr (C420jpeg), chroma averaged over 2x2 blocks.
 */
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

const WIDTH = 640;
const HEIGHT = 480;

/** Writes a y4m of the photos at `fps` frames a second and returns the Chromium flags that play it as the camera. */
export async function fakeCameraVideo(photos: readonly string[], path: string, fps = 10): Promise<string[]> {
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (const photo of photos) {
    const rgb = await sharp(photo).resize(WIDTH, HEIGHT, { fit: 'cover' }).removeAlpha().raw().toBuffer();
    const y = Buffer.alloc(WIDTH * HEIGHT);
    const u = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2));
    const v = Buffer.alloc(u.length);
    for (let i = 0; i < WIDTH * HEIGHT; i++) {
      const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
      y[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
    for (let row = 0; row < HEIGHT / 2; row++) {
      for (let col = 0; col < WIDTH / 2; col++) {
        let cb = 0;
        let cr = 0;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const i = (2 * row + dy) * WIDTH + 2 * col + dx;
          const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
          cb += 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
          cr += 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
        }
        const at = row * (WIDTH / 2) + col;
        u[at] = Math.max(0, Math.min(255, Math.round(cb / 4)));
        v[at] = Math.max(0, Math.min(255, Math.round(cr / 4)));
      }
    }
    parts.push(Buffer.from('FRAME\n'), y, u, v);
  }
  await writeFile(path, Buffer.concat(parts));
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${path}`];
}
