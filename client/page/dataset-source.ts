/**
 * A dataset as the page trains on it, wherever it comes from: a stored dataset (manifest + shards from the
 * API, each shard fetched once and only when one of its images is needed), a folder the visitor dropped
 * (one subfolder per class; the files stay on this computer) or the classes the visitor built in the page.
 */
import { readClassFolders } from '../../shared/class-folders';
import type { DatasetManifest } from '../../shared/records';
import { sha256Hex } from '../../shared/sha256';
import { getManifest, getShard } from '../api/storage-client';
import { readLocalDataset, readSampleImage } from '../cache/sample-store';

export interface SessionImage {
  imageId: string;
  class: string;
  /** Path below the class folder, for reports. */
  file: string;
  bytes(): Promise<Blob>;
}

export interface DatasetChoice {
  id: string;
  name: string;
  classes: string[];
  images: SessionImage[];
  /** Files of a dropped folder that cannot be used, with the reason. */
  skipped: { file: string; reason: string }[];
  /** True for a dropped folder or the classes built in the page: their images never leave this computer. */
  local: boolean;
}

export async function storedDataset(id: string): Promise<DatasetChoice> {
  const manifest: DatasetManifest = await getManifest(id);
  const shards = new Map(manifest.shards.map((s) => [s.file, s]));
  const loaded = new Map<string, Promise<Blob>>();
  const shard = (file: string) => {
    let blob = loaded.get(file);
    if (!blob) {
      // getShard retries by itself; a shard that still fails stays failed for this choice of the dataset, so
      // its other images fail at once with the same reason (choosing the dataset again tries it again).
      blob = getShard(manifest.id, shards.get(file)!);
      loaded.set(file, blob);
    }
    return blob;
  };
  return {
    id: manifest.id,
    name: manifest.name,
    classes: manifest.classes,
    local: false,
    skipped: [],
    images: manifest.images.map((image) => ({
      imageId: image.id,
      class: image.class,
      file: image.file,
      bytes: async () => (await shard(image.shard)).slice(image.offset, image.offset + image.length, image.type),
    })),
  };
}

const LOCAL_PREFIX = 'local-';

/** Whether a dataset id names a dropped folder (which lives only on the visitor's computer). */
export function isDroppedFolderId(id: string): boolean {
  return id.startsWith(LOCAL_PREFIX);
}

/**
 * A dropped or picked folder, its files given by their paths below its root (`<class>/<file>`): read as every
 * class-folder dataset is (shared/class-folders.ts); files outside class folders, non-images and duplicates
 * are reported.
 */
export async function droppedFolder(files: { file: File; path: string }[]): Promise<DatasetChoice> {
  const folders = readClassFolders(files.map((f) => f.path), { imagesOnly: true });
  const skipped: DatasetChoice['skipped'] = [...folders.skipped];
  const fileAt = new Map(files.map(({ file, path }) => [path, file]));
  const images: SessionImage[] = [];
  const seen = new Map<string, string>();
  for (const { name: className, dir, files: inClass } of folders.classes) {
    for (const path of inClass) {
      const file = fileAt.get(`${dir}/${path}`)!;
      const imageId = await sha256Hex(await file.arrayBuffer());
      const earlier = seen.get(imageId);
      if (earlier !== undefined) {
        skipped.push({ file: `${className}/${path}`, reason: earlier === className ? 'duplicate of another file' : `same image also in class '${earlier}'` });
        continue;
      }
      seen.set(imageId, className);
      images.push({ imageId, class: className, file: path, bytes: async () => file });
    }
  }
  const classes = folders.classes.map((c) => c.name).filter((name) => images.some((i) => i.class === name));
  if (classes.length < 2) throw new Error(`a dataset needs at least two class folders with images; found ${classes.length}`);
  const id = `${LOCAL_PREFIX}${(await sha256Hex(images.map((i) => `${i.class}/${i.imageId}`).sort().join('\n'))).slice(0, 16)}`;
  return { id, name: 'dropped folder', classes, images, skipped, local: true };
}

const ON_DEVICE_PREFIX = 'device-';

/** A stored dataset, or the classes built in the page as they were when a run on dataset `id` used them. */
export async function datasetOfId(id: string): Promise<DatasetChoice> {
  if (!isOnDeviceId(id)) return storedDataset(id);
  const now = await onDeviceDataset();
  if (now.id !== id) throw new Error('Your classes have changed since this run used them: train again on them as they are now.');
  return now;
}

/** Whether a dataset id names the classes built in this page (they live in this browser's IndexedDB). */
export function isOnDeviceId(id: string): boolean {
  return id.startsWith(ON_DEVICE_PREFIX);
}

/**
 * The classes built in this page, as the farm and the trainer take any dataset: images keyed by their content
 * hash (so an edit leaves every other sample's cached features in use), classes in the order they were made,
 * those without samples left out. The id hashes the content, so a run is resumed only on the data it began with.
 */
export async function onDeviceDataset(): Promise<DatasetChoice> {
  const { classes, samples } = await readLocalDataset();
  const names = new Map(classes.map((c) => [c.id, c.name]));
  const images: SessionImage[] = samples.map((s) => ({
    imageId: s.id,
    class: names.get(s.classId) ?? '',
    file: `${s.id.slice(0, 16)}.jpg`,
    bytes: async () => {
      const image = await readSampleImage(s.id);
      if (!image) throw new Error('this sample is no longer stored (deleted meanwhile?)');
      return image;
    },
  }));
  const used = new Set(images.map((i) => i.class));
  const withSamples = classes.map((c) => c.name).filter((name) => used.has(name));
  if (withSamples.length < 2) throw new Error('Add samples to at least two classes to train on them.');
  const content = withSamples.join('\n') + '\n\n' + images.map((i) => `${i.class}/${i.imageId}`).sort().join('\n');
  const id = `${ON_DEVICE_PREFIX}${(await sha256Hex(content)).slice(0, 16)}`;
  return { id, name: 'Your classes', classes: withSamples, images, skipped: [], local: true };
}
