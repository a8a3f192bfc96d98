/**
 * The visitor's dataset as a .zip of class folders, `<root>/<class>/<file>`: the layout `npm run seed` takes once
 * unzipped, so a demo host can publish what they recorded. Reading accepts the same layout with or without the
 * root folder and says which entries it leaves out and why. Pure (fflate), no DOM: tested in Node.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { readClassFolders, toClassPaths, type SkippedFile } from '../../shared/class-folders';

export interface ZipClass {
  name: string;
  files: { name: string; bytes: Uint8Array }[];
}

export interface UnzippedDataset {
  /** In the order of their names (by code unit). */
  classes: ZipClass[];
  skipped: SkippedFile[];
}

/** The folder every entry of an exported zip sits in. */
export const ZIP_ROOT = 'graft-classes';

/** Largest file a zip may hold for it to be read as an image (a 256 px JPEG is about 20 kB). */
const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/**
 * The zip of `classes` (JPEGs are stored, not deflated: they do not shrink). Class and file names must be
 * usable as folder and file names already (the sample store checks class names).
 */
export function zipDataset(classes: readonly ZipClass[]): Uint8Array {
  const entries: Zippable = {};
  for (const { name, files } of classes) {
    for (const file of files) entries[`${ZIP_ROOT}/${name}/${file.name}`] = [file.bytes, { level: 0 }];
  }
  return zipSync(entries);
}

export class ZipReadError extends Error {
  override name = 'ZipReadError';
}

/** The class folders of a zip; throws ZipReadError when it is not a zip or holds no image in a class folder. */
export function unzipDataset(zip: Uint8Array): UnzippedDataset {
  const skipped: UnzippedDataset['skipped'] = [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter(entry) {
        if (entry.name.endsWith('/')) return false;
        let reason: string | null = null;
        if (entry.compression !== 0 && entry.compression !== 8) reason = 'compressed in a way this page cannot read';
        else if (entry.originalSize > MAX_ENTRY_BYTES) reason = `larger than ${MAX_ENTRY_BYTES / 1024 / 1024} MB`;
        if (reason) skipped.push({ file: entry.name, reason });
        return reason === null;
      },
    });
  } catch (error) {
    throw new ZipReadError(`This file is not a .zip archive that can be read (${(error as Error).message}).`);
  }
  const names = Object.keys(files);
  const paths = toClassPaths(names);
  const folders = readClassFolders(paths, { imagesOnly: true });
  skipped.push(...folders.skipped);
  if (folders.classes.length === 0) {
    throw new ZipReadError('This zip holds no images inside class folders: it should hold one folder per class, e.g. cats/1.jpg and dogs/2.jpg.');
  }
  const entryAt = new Map(paths.map((path, i) => [path, names[i]]));
  return {
    classes: folders.classes.map(({ name, files: inClass }) => ({ name, files: inClass.map((file) => ({ name: file, bytes: files[entryAt.get(`${name}/${file}`)!] })) })),
    skipped,
  };
}
