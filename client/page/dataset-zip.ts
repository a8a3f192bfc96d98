/**
 * The visitor's dataset as a .zip of class folders, `<root>/<class>/<file>`: the layout `npm run seed` takes once
 * unzipped, so a demo host can publish what they recorded. Reading accepts the same layout with or without the
 * root folder and says which entries it leaves out and why. Pure (fflate), no DOM: tested in Node.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { classNameOfFolder, folderNameOf } from '../../shared/class-names';
import { summariseFolder, toClassPaths } from './views/folder';

export interface ZipClass {
  name: string;
  files: { name: string; bytes: Uint8Array }[];
}

export interface UnzippedDataset {
  /** In the order of their names. */
  classes: ZipClass[];
  skipped: { path: string; reason: string }[];
}

/** The folder every entry of an exported zip sits in. */
export const ZIP_ROOT = 'graft-classes';

/** Largest file a zip may hold for it to be read as an image (a 256 px JPEG is about 20 kB). */
const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/**
 * The zip of `classes` (JPEGs are stored, not deflated: they do not shrink). Class names become folder names
 * every file system holds (folderNameOf: "CON" -> "%43ON", "a:b" -> "a%3Ab"), read back as they were; file
 * names must be usable as they are.
 */
export function zipDataset(classes: readonly ZipClass[]): Uint8Array {
  const entries: Zippable = {};
  for (const { name, files } of classes) {
    for (const file of files) entries[`${ZIP_ROOT}/${folderNameOf(name)}/${file.name}`] = [file.bytes, { level: 0 }];
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
        if (reason) skipped.push({ path: entry.name, reason });
        return reason === null;
      },
    });
  } catch (error) {
    throw new ZipReadError(`This file is not a .zip archive that can be read (${(error as Error).message}).`);
  }
  const names = Object.keys(files);
  const paths = toClassPaths(names);
  const summary = summariseFolder(paths);
  skipped.push(...summary.ignored);
  // Folder names as exported (escapes undone) and NFC: "café" in either normalisation is one class.
  const byClass = new Map<string, ZipClass>();
  for (const index of summary.accepted) {
    const [folder, ...rest] = paths[index].split('/');
    const className = classNameOfFolder(folder);
    let entry = byClass.get(className);
    if (!entry) byClass.set(className, (entry = { name: className, files: [] }));
    entry.files.push({ name: rest.join('/'), bytes: files[names[index]] });
  }
  if (byClass.size === 0) {
    throw new ZipReadError('This zip holds no images inside class folders: it should hold one folder per class, e.g. cats/1.jpg and dogs/2.jpg.');
  }
  return { classes: [...new Set(summary.classes.map((c) => classNameOfFolder(c.name)))].map((name) => byClass.get(name)!), skipped };
}
