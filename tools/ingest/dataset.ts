/**
 * Turns a class-folder directory into a validated dataset manifest and its staged shards: every file
 * decoded, usable images kept (downscaled when large), duplicates resolved, the rest reported.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { DatasetManifestSchema, describeIssues, type DatasetManifest } from '../../shared/records';
import { byCodeUnit } from '../../shared/class-folders';
import { scanClassFolders } from './class-folders';
import { SourceError } from './errors';
import { sha256Hex } from '../../shared/sha256';
import { prepareImage } from './images';
import { mapLimit } from './pool';
import { packShards, type PackableImage, type StagedShard } from './shards';
import type { SkippedFile } from '../../shared/class-folders';

export interface DatasetOptions {
  id: string;
  name: string;
  /** Shorter side above which images are downscaled; 0 keeps every size. */
  maxSide: number;
  /** Target shard size in bytes. */
  shardBytes: number;
  /** Read symbolic links that lead outside the dataset folder. */
  followLinks: boolean;
  /** An empty folder for re-encoded images and shards; the caller removes it. */
  stagingDir: string;
  /** Called now and then while files are decoded. */
  onProgress?: (done: number, total: number) => void;
}

export interface PreparedDataset {
  manifest: DatasetManifest;
  shards: StagedShard[];
  skipped: SkippedFile[];
  /** Images stored as re-encoded JPEGs rather than their own bytes. */
  reencoded: number;
}

/** Decoding runs on sharp's thread pool: a few files at once keep it busy without holding many in memory. */
const DECODE_PARALLELISM = 4;
const PROGRESS_EVERY = 250;

export async function prepareDataset(root: string, options: DatasetOptions): Promise<PreparedDataset> {
  const scan = await scanClassFolders(root, { followLinks: options.followLinks });
  const skipped = [...scan.skipped];
  const imagesDir = join(options.stagingDir, 'images');
  await mkdir(imagesDir, { recursive: true });

  const files = scan.classes.flatMap((folder) => folder.files.map((file) => ({ class: folder.name, dir: folder.dir, file })));
  let done = 0;
  const prepared = await mapLimit(files, DECODE_PARALLELISM, async ({ class: className, dir, file }) => {
    const path = join(root, dir, file);
    const result = await prepareImage(await readFile(path), options.maxSide);
    if (++done % PROGRESS_EVERY === 0) options.onProgress?.(done, files.length);
    if (!result.ok) {
      skipped.push({ file: `${className}/${file}`, reason: result.reason });
      return null;
    }
    const id = await sha256Hex(result.bytes);
    let location = path;
    if (result.reencoded) {
      location = join(imagesDir, id);
      await writeFile(location, result.bytes);
    }
    const image: PackableImage = { id, class: className, file, type: result.type, length: result.bytes.length, location };
    return { image, reencoded: result.reencoded !== null };
  });
  const decoded = prepared.filter((p) => p !== null);
  const kept = resolveDuplicates(
    decoded.map((p) => p.image),
    skipped,
  );

  const classes = scan.classes.map((folder) => folder.name).filter((name) => kept.some((image) => image.class === name));
  for (const folder of scan.classes) {
    if (!classes.includes(folder.name)) {
      skipped.push({ file: `${folder.name}/`, reason: 'class folder holds no usable image: class left out' });
    }
  }
  if (classes.length < 2) {
    throw new SourceError(
      `${root} has ${classes.length === 0 ? 'no usable images' : `usable images in one class folder only (${classes[0]})`}: ` +
        'a classifier needs at least two class folders with images',
    );
  }

  const { shards, entries } = await packShards(kept, options.shardBytes, options.stagingDir);
  const manifest = {
    version: 1 as const,
    id: options.id,
    name: options.name,
    classes,
    shards: shards.map(({ file, bytes, sha256 }) => ({ file, bytes, sha256 })),
    images: entries,
  };
  const checked = v.safeParse(DatasetManifestSchema, manifest);
  if (!checked.success) throw new SourceError(`the manifest built from ${root} is invalid: ${describeIssues(checked.issues)}`);
  const keptIds = new Set(kept.map((image) => image.id));
  const reencoded = decoded.filter((p) => p.reencoded && keptIds.has(p.image.id)).length;
  return { manifest: checked.output, shards, skipped: skipped.sort((a, b) => byCodeUnit(a.file, b.file)), reencoded };
}

/**
 * The same bytes twice in one class: the first (in sorted order) stays. The same bytes in two classes:
 * the label is ambiguous, so every copy goes.
 */
function resolveDuplicates(images: PackableImage[], skipped: SkippedFile[]): PackableImage[] {
  const byId = new Map<string, PackableImage[]>();
  for (const image of images) byId.set(image.id, [...(byId.get(image.id) ?? []), image]);
  return images.filter((image) => {
    const copies = byId.get(image.id)!;
    const otherClasses = [...new Set(copies.map((c) => c.class))].filter((c) => c !== image.class);
    if (otherClasses.length > 0) {
      skipped.push({
        file: `${image.class}/${image.file}`,
        reason: `same bytes also in class ${otherClasses.join(', ')}: ambiguous label, left out of every class`,
      });
      return false;
    }
    const first = copies[0];
    if (first !== image) {
      skipped.push({ file: `${image.class}/${image.file}`, reason: `duplicate of ${first.class}/${first.file}: kept once` });
      return false;
    }
    return true;
  });
}
