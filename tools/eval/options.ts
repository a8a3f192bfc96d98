/** `npm run eval`'s command line: its --help text and the flags, checked and turned into EvalOptions. */
import { resolve } from 'node:path';
import type { BackendChoice } from '../../shared/farm';
import { LEARNING_RATE_SCHEDULES, VIEWS_PER_EPOCH, type LearningRateSchedule, type ViewsPerEpoch } from '../../shared/training';
import { DEFAULT_AUGMENTATION, type Augmentation } from '../../shared/augmentation';
import { DEFAULT_SETTINGS } from '../../client/trainer/settings';
import { TFLITE_KINDS } from '../../client/tflite/writer';
import { DEFAULT_MODEL_DIR } from '../ingest/defaults';
import { UsageError, backendFlag, parseFlags, wholeNumberFlag } from '../measure/cli';

export const USAGE = `Usage: npm run eval -- --train <dir> --test <dir> [options]

Trains a classifier on the class folders of --train (root/<class>/<image>) in the real page, in headless
Chromium, then measures the exported model on every image of the --test class folders (in Node).

  --train <dir>             Class folders to train on (20% of each class is held out for validation).
  --test <dir>              Class folders to test on; classes absent from --train and non-images are skipped.
  --epochs <n>              Head epochs. Default ${DEFAULT_SETTINGS.headEpochs}, the page's.
  --fine-tune               Then fine-tune the base from the page's default fine_tune_at on: ${DEFAULT_SETTINGS.fineTuneAt} for
                            MobileNetV2 (of its 155 layers), the same share of another base's layers.
  --fine-tune-epochs <n>    Fine-tuning epochs with --fine-tune. Default ${DEFAULT_SETTINGS.fineTuneEpochs}, the page's.
  --fine-tune-lr <x>        Fine-tuning learning rate with --fine-tune. Default: the page's (learning rate / ${DEFAULT_SETTINGS.fineTuneLrDivisor}).
  --fine-tune-schedule <s>  constant or cosine (decay to 0 over stage 2's steps). Default: the page's.
  --fine-tune-at <layer>    First fine-tuned layer of the base: an index or a layer name. Default: the page's.
  --label-smoothing <x>     Label smoothing of the training loss, in [0, 1). Default: the page's.
  --augment <K>             Augmented views per training image. Default: the page's.
  --views-per-epoch <v>     one (each epoch trains on one view of each image, in turn) or all. Default: the page's.
  --rotation <x>            Augmentation's rotation factor (a fraction of a full turn). Default 0.2.
  --zoom <x>                Augmentation's zoom factor. Default 0.2.
  --folds <k>               Stratified k-fold cross-validation on --train: k runs, each validating on one fold and
                            training on the others (features extracted once); reports the mean and spread, and
                            classifies --test with each fold's model. Default 1 (one 80/20 split).
  --model <dir|id>          Base model folder to seed, or the id of one already in a kept state.
                            Default defaults/mobilenet_v2_0.35_224_no_top, the base this repository carries.
  --workers <n>             Extraction workers. Default: the page's (cores, at most 8).
  --backend <b>             auto, wasm, webgpu (SwiftShader here) or cpu. Default auto.
  --input-size <px>         Square input side. Default: the model's.
  --keep-state              Seed into .local/eval-state and keep it (default: a temp folder, removed).
  --cache-dir <dir>         Keep the seeded state and the page's feature cache (IndexedDB) in <dir>, so later runs
                            with the same dir extract only what is new (e.g. more augmented views).
  --export <kind>           What to classify --test with: tfjs (the float32 TF.js model, default), tflite-float32,
                            tflite-float16 or tflite-int8 (the .tflite file the page builds and checks, run in
                            LiteRT.js in headless Chromium).
  --out <dir>               Keep the exported files there: model.tflite + labels.txt, or model.json + weights.bin.
  --publish                 Then publish the classifier from the page as a visitor does (the Publish panel's
                            code: int8 and float32 TFLite files checked in LiteRT.js, labels, model card) to the
                            eval's own server, started with PUBLISH=open. Its link lives as long as that state:
                            keep it with --keep-state or --cache-dir.
  -h, --help                Show this text.

Prints progress to stderr and, as the last stdout line, one JSON object:
{"test_accuracy" (always the TF.js model's), "per_class", "head_val_accuracy", "fine_tune_val_accuracy", "backend",
 "workers", "images_per_s", "seconds", "skipped", ..., "export", "export_test_accuracy", "export_bytes",
 "export_agreement" (share of test images where the export's top-1 equals the TF.js model's), "export_ms_per_image",
 "folds", "val_accuracy_mean", "val_accuracy_std", "extraction_seconds", "training_seconds", ...,
 "published_id", "publish_bytes" (its files), "publish_requests" (API requests the publish made): null without --publish}
Validation accuracies are those of the epoch each stage kept (its lowest validation loss). With --folds, the
accuracies are means over the folds, "fold_runs" lists each fold's figures, and --export and --out use the first
fold's model.`;

const EXPORTS = ['tfjs', ...TFLITE_KINDS.map((k) => `tflite-${k}` as const)] as const;
export type ExportChoice = (typeof EXPORTS)[number];

export interface EvalOptions {
  train: string;
  test: string;
  headEpochs: number;
  fineTuneEpochs: number;
  model: string;
  workers: number | null;
  backend: BackendChoice;
  inputSize: number | null;
  keepState: boolean;
  fineTuneLearningRate: number | null;
  augmentViews: number | null;
  viewsPerEpoch: ViewsPerEpoch | null;
  augmentation: Augmentation;
  fineTuneSchedule: LearningRateSchedule | null;
  fineTuneAt: number | string | null;
  labelSmoothing: number | null;
  cacheDir: string | null;
  folds: number;
  export: ExportChoice;
  out: string | null;
  publish: boolean;
}

export function parseEvalArgs(argv: string[]): EvalOptions | null {
  const values = parseFlags(argv, {
    train: { type: 'string' },
    test: { type: 'string' },
    epochs: { type: 'string' },
    'fine-tune': { type: 'boolean' },
    'fine-tune-epochs': { type: 'string' },
    'fine-tune-lr': { type: 'string' },
    augment: { type: 'string' },
    'views-per-epoch': { type: 'string' },
    rotation: { type: 'string' },
    zoom: { type: 'string' },
    'fine-tune-schedule': { type: 'string' },
    'fine-tune-at': { type: 'string' },
    'label-smoothing': { type: 'string' },
    'cache-dir': { type: 'string' },
    folds: { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
    backend: { type: 'string' },
    'input-size': { type: 'string' },
    'keep-state': { type: 'boolean' },
    export: { type: 'string' },
    out: { type: 'string' },
    publish: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return null;
  if (!values.train || !values.test) throw new UsageError('give both --train and --test');
  const backend = backendFlag(values.backend);
  const exportChoice = (values.export ?? 'tfjs') as ExportChoice;
  if (!EXPORTS.includes(exportChoice)) throw new UsageError(`--export must be one of ${EXPORTS.join(', ')}, got ${values.export}`);
  if (values['fine-tune-epochs'] !== undefined && !values['fine-tune']) throw new UsageError('--fine-tune-epochs needs --fine-tune');
  for (const flag of ['fine-tune-epochs', 'fine-tune-lr', 'fine-tune-schedule', 'fine-tune-at'] as const) {
    if (values[flag] !== undefined && !values['fine-tune']) throw new UsageError(`--${flag} needs --fine-tune`);
  }
  const fineTuneLearningRate = values['fine-tune-lr'] === undefined ? null : Number(values['fine-tune-lr']);
  if (fineTuneLearningRate !== null && !(fineTuneLearningRate > 0 && fineTuneLearningRate < 1)) {
    throw new UsageError(`--fine-tune-lr ${values['fine-tune-lr']} must be a number between 0 and 1`);
  }
  const schedule = values['fine-tune-schedule'] as LearningRateSchedule | undefined;
  if (schedule !== undefined && !LEARNING_RATE_SCHEDULES.includes(schedule)) {
    throw new UsageError(`--fine-tune-schedule must be one of ${LEARNING_RATE_SCHEDULES.join(', ')}, got ${schedule}`);
  }
  const viewsPerEpoch = values['views-per-epoch'] as ViewsPerEpoch | undefined;
  if (viewsPerEpoch !== undefined && !VIEWS_PER_EPOCH.includes(viewsPerEpoch)) {
    throw new UsageError(`--views-per-epoch must be one of ${VIEWS_PER_EPOCH.join(', ')}, got ${viewsPerEpoch}`);
  }
  const fineTuneAtText = values['fine-tune-at'];
  const fraction = (flag: 'label-smoothing' | 'rotation' | 'zoom'): number | null => {
    const text = values[flag];
    if (text === undefined) return null;
    const value = Number(text);
    if (!(value >= 0 && value < 1)) throw new UsageError(`--${flag} ${text} must be a number in [0, 1)`);
    return value;
  };
  return {
    train: resolve(values.train),
    test: resolve(values.test),
    headEpochs: wholeNumberFlag(values.epochs, 'epochs', 1) ?? DEFAULT_SETTINGS.headEpochs,
    fineTuneEpochs: values['fine-tune'] ? (wholeNumberFlag(values['fine-tune-epochs'], 'fine-tune-epochs', 1) ?? DEFAULT_SETTINGS.fineTuneEpochs) : 0,
    model: values.model ?? DEFAULT_MODEL_DIR,
    workers: wholeNumberFlag(values.workers, 'workers', 1),
    backend,
    inputSize: wholeNumberFlag(values['input-size'], 'input-size', 16),
    keepState: values['keep-state'] ?? false,
    fineTuneLearningRate,
    augmentViews: wholeNumberFlag(values.augment, 'augment', 0),
    viewsPerEpoch: viewsPerEpoch ?? null,
    augmentation: {
      ...DEFAULT_AUGMENTATION,
      rotation: fraction('rotation') ?? DEFAULT_AUGMENTATION.rotation,
      zoom: fraction('zoom') ?? DEFAULT_AUGMENTATION.zoom,
    },
    fineTuneSchedule: schedule ?? null,
    fineTuneAt: fineTuneAtText === undefined ? null : /^\d+$/.test(fineTuneAtText) ? Number(fineTuneAtText) : fineTuneAtText,
    labelSmoothing: fraction('label-smoothing'),
    cacheDir: values['cache-dir'] ? resolve(values['cache-dir']) : null,
    folds: wholeNumberFlag(values.folds, 'folds', 1) ?? 1,
    export: exportChoice,
    out: values.out ? resolve(values.out) : null,
    publish: values.publish ?? false,
  };
}
