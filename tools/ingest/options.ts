/**
 * The command line of `npm run seed`: parses it into SeedOptions and holds the --help text.
 * Options that describe one source (--model-id, --dataset-name, ...) are given once per source, in order.
 */
import { parseArgs } from 'node:util';
import { STORED_IMAGE_SIDE } from '../../shared/image-limits';
import { nameProblem } from '../../shared/names';
import { DEFAULT_MODEL_DIR, DEMO_DATASET_DIR } from './defaults';

export interface ModelSpec {
  source: string;
  id?: string;
  name?: string;
  bottleneck?: string;
  inputSize?: number;
  scale: number;
  offset: number;
}

export interface DatasetSpec {
  source: string;
  id?: string;
  name?: string;
}

export type TargetSpec = { kind: 'local'; persistTo: string } | { kind: 'remote'; origin: string };

export interface SeedOptions {
  models: ModelSpec[];
  datasets: DatasetSpec[];
  /** Shorter side above which images are downscaled; 0 keeps originals. */
  maxSide: number;
  /** Target shard size in bytes. */
  shardBytes: number;
  /** Read symbolic links in a dataset folder that lead outside it. */
  followLinks: boolean;
  /** Store over a different model or dataset already stored under the same id. */
  replace: boolean;
  target: TargetSpec;
}

/** A command line that cannot be run; the message says what to change. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run seed -- [--model <dir|url> ...] [--dataset <dir|url> ...] [options]

Stores base models and image datasets where Graft serves them from. Re-running stores only what changed.

Without --model, the base model this repository carries (defaults/mobilenet_v2_0.35_224_no_top,
MobileNetV2 0.35 at 224 px) is stored; without --model and --dataset, its demo dataset too
(defaults/flowers-demo, 200 flower photos in 5 classes). So \`npm run seed -- --remote <origin>\` alone
makes a deployed Graft a working demo. Both are already present after \`npm start\` in the local state.

Sources (each may be repeated):
  --model <dir|url>        TF.js layers model: a folder (or path) with model.json and its weight files,
                           or an http(s) URL of a model.json (weight files are fetched next to it).
                           Weights are checked against the manifest and re-sharded into files of at most 4 MB.
  --dataset <dir|url>      Image dataset, one subfolder per class (root/<class>/<image>; deeper folders
                           belong to their class; files in the root are skipped), or a .tgz/.tar.gz archive
                           of such a tree (a local file or an http(s) URL; a single top folder is the root).
                           Links inside the folder are followed; links leading outside it are skipped unless
                           --follow-links. Class names over 200 characters, paths over 1000 and images whose
                           header declares more than 50 megapixels are skipped, each with its reason.

Per model (give once per --model, in the same order):
  --model-id <id>          Id in URLs (a-z 0-9 . _ -). Default: the model folder's name, made safe.
  --model-name <text>      Display name. Default: the id.
  --bottleneck <layer>     Layer whose output is the feature map. Default: out_relu or conv_pw_13_relu.
  --input-size <px>        Square input side, needed only when the input layer does not fix it.
  --scale <x>              Preprocessing: input = pixel * scale + offset. Default 1/127.5 (fractions allowed).
  --offset <x>             Default -1. Write negative values as --offset=-1.

Per dataset (give once per --dataset, in the same order):
  --dataset-id <id>        Default: the folder's (or archive's) name, made safe ("Über" -> uber; names in
                           other scripts, like "Цветы", keep a short hash so they stay distinct).
  --dataset-name <text>    Display name. Default: the folder's name.

Dataset packing:
  --max-side <px>          Downscale images whose shorter side exceeds this to exactly this (JPEG quality 90,
                           auto-oriented); smaller images are stored byte for byte. 0 keeps originals. Default 256.
  --shard-mb <mb>          Approximate size of each shard of images. Default 4.
  --follow-links           Also read symbolic links that lead outside a dataset folder (e.g. a folder of links
                           to photos kept elsewhere).

Replacing:
  --replace                Store over a different model or dataset that is already stored under the same id.
                           Without it such a source is refused and nothing of it is stored.

Target (default: the local R2 that \`npm start\` serves):
  --persist-to <dir>       Local state folder, as in \`wrangler dev --persist-to\`. Default .state.
  --remote <origin>        Write through the API of a running Graft, e.g. https://graft.example.workers.dev.
                           The admin token is read from the environment variable GRAFT_ADMIN_TOKEN.

  -h, --help               Show this text.

Examples:
  npm run seed -- --dataset ~/Pictures/birds
  npm run seed -- --model ../mobilenet_v1_0.25_224 --dataset flower_photos.tgz
  GRAFT_ADMIN_TOKEN=... npm run seed -- --remote https://graft.example.workers.dev
  GRAFT_ADMIN_TOKEN=... npm run seed -- --remote https://graft.example.workers.dev --dataset flower_photos.tgz`;

/** Preprocessing of a model given no --scale and --offset: MobileNet's x / 127.5 - 1. */
const DEFAULT_SCALE = '1/127.5';
const DEFAULT_OFFSET = '-1';

const PER_MODEL = ['model-id', 'model-name', 'bottleneck', 'input-size', 'scale', 'offset'] as const;
const PER_DATASET = ['dataset-id', 'dataset-name'] as const;
const repeatable = { type: 'string', multiple: true } as const;

/** Every flag the command accepts (USAGE documents each). */
export const SEED_FLAGS = {
  model: repeatable,
  dataset: repeatable,
  ...Object.fromEntries([...PER_MODEL, ...PER_DATASET].map((flag) => [flag, repeatable])),
  'max-side': { type: 'string' },
  'shard-mb': { type: 'string' },
  'follow-links': { type: 'boolean' },
  replace: { type: 'boolean' },
  'persist-to': { type: 'string' },
  remote: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses `argv` (without node and script); null means --help was asked for. */
export function parseSeedArgs(argv: string[]): SeedOptions | null {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: SEED_FLAGS }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;

  const flagValues = values as Record<string, string[] | undefined>;
  const perSource = (flag: string, sourceFlag: string, count: number): (string | undefined)[] => {
    const given = flagValues[flag] ?? [];
    if (given.length === 0) return new Array(count).fill(undefined);
    if (given.length !== count) {
      throw new UsageError(
        `--${flag} was given ${given.length} time(s) for ${count} --${sourceFlag}: give it once per --${sourceFlag}, in the same order`,
      );
    }
    return given;
  };

  const modelSources = values.model ?? [];
  const datasetSources = values.dataset ?? [];

  const modelFlags = Object.fromEntries(PER_MODEL.map((flag) => [flag, perSource(flag, 'model', modelSources.length)]));
  const models = modelSources.map((source, i): ModelSpec => {
    const inputSize = modelFlags['input-size'][i];
    return {
      source,
      id: checkedId(modelFlags['model-id'][i], 'model-id'),
      name: modelFlags['model-name'][i],
      bottleneck: modelFlags.bottleneck[i],
      inputSize: inputSize === undefined ? undefined : integer(inputSize, 'input-size', 1),
      scale: number(modelFlags.scale[i] ?? DEFAULT_SCALE, 'scale'),
      offset: number(modelFlags.offset[i] ?? DEFAULT_OFFSET, 'offset'),
    };
  });
  const datasetFlags = Object.fromEntries(PER_DATASET.map((flag) => [flag, perSource(flag, 'dataset', datasetSources.length)]));
  const datasets = datasetSources.map(
    (source, i): DatasetSpec => ({
      source,
      id: checkedId(datasetFlags['dataset-id'][i], 'dataset-id'),
      name: datasetFlags['dataset-name'][i],
    }),
  );
  // The repository's own defaults where no source says otherwise (USAGE).
  if (modelSources.length === 0) {
    models.push({ source: DEFAULT_MODEL_DIR, scale: number(DEFAULT_SCALE, 'scale'), offset: number(DEFAULT_OFFSET, 'offset') });
  }
  if (modelSources.length + datasetSources.length === 0) datasets.push({ source: DEMO_DATASET_DIR });

  if (values.remote !== undefined && values['persist-to'] !== undefined) {
    throw new UsageError('give either --remote or --persist-to, not both');
  }
  const shardMb = number(values['shard-mb'] ?? '4', 'shard-mb');
  if (shardMb <= 0) throw new UsageError('--shard-mb must be more than 0');
  return {
    models,
    datasets,
    maxSide: integer(values['max-side'] ?? String(STORED_IMAGE_SIDE), 'max-side', 0),
    shardBytes: Math.round(shardMb * 1024 * 1024),
    followLinks: values['follow-links'] ?? false,
    replace: values.replace ?? false,
    target:
      values.remote !== undefined
        ? { kind: 'remote', origin: values.remote }
        : { kind: 'local', persistTo: values['persist-to'] ?? '.state' },
  };
}

/** A decimal number or a fraction like 1/127.5. */
function number(text: string, flag: string): number {
  const [numerator, denominator, ...rest] = text.split('/').map((part) => (part.trim() === '' ? NaN : Number(part)));
  const value = denominator === undefined ? numerator : numerator / denominator;
  if (rest.length > 0 || !Number.isFinite(value)) throw new UsageError(`--${flag} ${text} is not a number`);
  return value;
}

function integer(text: string, flag: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} ${text} must be a whole number of at least ${min}`);
  return value;
}

function checkedId(id: string | undefined, flag: string): string | undefined {
  const problem = id === undefined ? null : nameProblem(id);
  if (problem) throw new UsageError(`--${flag} ${id} ${problem}`);
  return id;
}
