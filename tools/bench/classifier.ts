/**
 * The bench's trained-classifier group, in the page: the time per image of the TF.js model against its float32
 * and int8 TFLite files in LiteRT.js; Live, frames from the browser's fake camera (daisies at 30 frames/s, so
 * Live can classify at most that many) classified per second; and the classify-only page /m/<id> of the
 * classifier, published and opened with an empty browser cache: navigation to its first prediction of a photo,
 * and the bytes of that first visit.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ModelRecord } from '../../shared/records';
import type { TfliteSignature } from '../../shared/trainer-messages';
import { modelCardOf } from '../../shared/model-card';
import type { PublishInput } from '../../client/api/publications';
import { writeY4m } from '../measure/fake-camera';
import { coldFirstVisit, type FirstVisit } from '../measure/classify-page';
import type { OpenedSession } from '../measure/graft-page/session';
import type { TrainRun } from '../measure/graft-page/training';
import { exportTflite } from '../measure/graft-page/export';
import { liveRun, type LiveRun } from '../measure/graft-page/live';
import { REPO_ROOT, logLine } from '../measure/project';

/** Photos in the fake camera's video, and the frames Live classifies before it is timed. */
const CAMERA_PHOTOS = 8;
const LIVE_WARM_UP_FRAMES = 5;

/** The fake camera's video, of the first daisies of `subset`; the page needs it when its browser starts. */
export async function writeCameraVideo(path: string, subset: string): Promise<string> {
  const daisies = join(subset, 'daisy');
  return writeY4m(path, (await readdir(daisies)).sort().slice(0, CAMERA_PHOTOS).map((f) => join(daisies, f)), { fps: 30 });
}

export interface ClassifierRuns {
  tflite: Record<'float32' | 'int8', Awaited<ReturnType<typeof exportTflite>>>;
  live: LiveRun;
  classifyPage: FirstVisit;
}

/** The bench's classifier as the trainer's page publishes it: its float32 file runs, with its model card. */
async function publicationOf(
  session: { classes: string[]; record: ModelRecord },
  training: TrainRun,
  subset: string,
  float32: { file: Uint8Array; signature: TfliteSignature },
): Promise<PublishInput> {
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const card = modelCardOf({
    classes: session.classes,
    base: session.record,
    dataset: { name: 'Flowers (the bench subset)', imageCounts: await Promise.all(session.classes.map(async (c) => (await readdir(join(subset, c))).length)) },
    history: training.history!,
    evaluation: training.evaluation!,
    trainedAt: new Date(),
    graftVersion: version,
  });
  return { name: 'Flowers (bench)', description: 'Measured by the bench.', card, models: [{ kind: 'float32', ...float32 }], runs: 'float32' };
}

/** On the measure session's classifier, trained by `training`; the page's server is at `origin`. */
export async function measureClassifier(
  graft: { page: Page; origin: string },
  args: { session: OpenedSession; training: TrainRun; subset: string; liveSeconds: number },
): Promise<ClassifierRuns> {
  const log = logLine;
  const { page } = graft;
  log('TFLite float32 and int8, each checked in LiteRT.js (one worker, wasm) on the validation images');
  const tflite = { float32: await exportTflite(page, 'float32'), int8: await exportTflite(page, 'int8') };
  log(`Live: the fake camera's frames through the page's classifier (LiteRT.js once its file is ready), ${args.liveSeconds} s`);
  const live = await liveRun(page, { seconds: args.liveSeconds, warmUpFrames: LIVE_WARM_UP_FRAMES });
  log('the classify-only page of the classifier, published, in a browser with an empty cache: navigation to its first prediction');
  const input = await publicationOf(args.session, args.training, args.subset, tflite.float32);
  // The first daisy the camera's video does not show.
  const daisies = join(args.subset, 'daisy');
  const photo = join(daisies, (await readdir(daisies)).sort()[CAMERA_PHOTOS]);
  const classifyPage = await coldFirstVisit(graft.origin, input, photo);
  return { tflite, live, classifyPage };
}
