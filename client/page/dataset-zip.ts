/**
 * The visitor's dataset as a .zip of class folders, `<root>/<class>/<file>`: the layout `npm run seed` takes once
 * unzipped, so a demo host can publish what they recorded. Reading accepts the same layout with or without the
 * root folder. What it reads is planned from the central directory alone (zip-directory.ts) before anything is
 * unpacked: only the images of class folders, not a name twice, none over the per-entry cap, and all of them
 * within the total cap (zip-limits.ts); every entry left out is listed with its reason. Then each image is unpacked
 * on its own (zip-entry.ts). Pure (fflate, Blob), no DOM: tested in Node; the page reads zips in a worker.
 */
import { zipSync, type Zippable } from 'fflate';
import { byCodeUnit, readClassFolders, toClassPaths, type SkippedFile } from '../../shared/class-folders';
import { folderNameOf } from '../../shared/class-names';
import { imageFormatOf, NOT_AN_IMAGE } from '../engine/image-header';
import { formatBytes } from './text/format';
import { readZipDirectory, ZipLimitError, ZipReadError, type ZipEntry } from './zip-directory';
import { readZipEntry, ZipEntryError } from './zip-entry';
import { MAX_ZIP_ENTRY_BYTES, MAX_ZIP_IMAGE_BYTES } from './zip-limits';

export { ZipLimitError, ZipReadError };

export interface ZipClass {
  name: string;
  files: { name: string; bytes: Uint8Array }[];
}

/** A class folder of a zip and the entries of its images, to be unpacked one by one. */
export interface ZipClassPlan {
  name: string;
  /** Its folder's name in the zip (below the root folder), as reports name its files. */
  dir: string;
  /** Each image's path below the class folder, as reports name it, and its entry. */
  files: { name: string; entry: ZipEntry }[];
}

export interface ZipPlan {
  /** In the order of their names (by code unit). */
  classes: ZipClassPlan[];
  /** Entries left out, with the reason, by path. */
  skipped: SkippedFile[];
}

/** The folder every entry of an exported zip sits in. */
export const ZIP_ROOT = 'graft-classes';

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

/** Why an entry that names an image is not unpacked, or null. */
function entryProblem(entry: ZipEntry): string | null {
  if (entry.flags & 1) return 'encrypted: this page cannot read it';
  if (entry.method !== 0 && entry.method !== 8) return 'compressed in a way this page cannot read';
  if (entry.size > MAX_ZIP_ENTRY_BYTES) return `unpacks to ${formatBytes(entry.size)}: Graft unpacks at most ${formatBytes(MAX_ZIP_ENTRY_BYTES)} for one image`;
  return null;
}

/**
 * What an import of these entries reads: the images of each class folder. Throws ZipLimitError when they would
 * unpack to more than MAX_ZIP_IMAGE_BYTES together, ZipReadError when there is none.
 */
export function planZip(entries: readonly ZipEntry[]): ZipPlan {
  const paths = toClassPaths(entries.map((e) => e.name));
  const skipped: SkippedFile[] = [];
  const entryAt = new Map<string, ZipEntry>();
  const named: string[] = [];
  entries.forEach((entry, i) => {
    if (!entryAt.has(paths[i])) {
      entryAt.set(paths[i], entry);
      named.push(paths[i]);
    } else if (!paths[i].endsWith('/')) {
      skipped.push({ file: paths[i], reason: 'a second entry of this name in the zip: the first one is kept' });
    }
  });
  // Folder names as exported (escapes undone) and NFC: "café" in either normalisation is one class.
  const folders = readClassFolders(named, { imagesOnly: true });
  skipped.push(...folders.skipped);
  const classes: ZipClassPlan[] = [];
  let total = 0;
  for (const { name, dir, files } of folders.classes) {
    const kept: ZipClassPlan['files'] = [];
    for (const file of files) {
      const entry = entryAt.get(`${dir}/${file}`)!;
      const problem = entryProblem(entry);
      if (problem) {
        skipped.push({ file: `${dir}/${file}`, reason: problem });
      } else {
        kept.push({ name: file, entry });
        total += entry.size;
      }
    }
    if (kept.length > 0) classes.push({ name, dir, files: kept });
  }
  if (total > MAX_ZIP_IMAGE_BYTES) {
    throw new ZipLimitError(
      `the images in this zip would unpack to ${formatBytes(total)}, and Graft unpacks at most ${formatBytes(MAX_ZIP_IMAGE_BYTES)} from one zip. Split it into smaller zips.`,
    );
  }
  if (classes.length === 0) {
    throw new ZipReadError('This zip holds no images inside class folders: it should hold one folder per class, e.g. cats/1.jpg and dogs/2.jpg.');
  }
  return { classes, skipped: skipped.sort((a, b) => byCodeUnit(a.file, b.file)) };
}

/** The plan of a zip's import, from its central directory alone. */
export async function readZipPlan(zip: Blob): Promise<ZipPlan> {
  return planZip(await readZipDirectory(zip));
}

/** An image's bytes, unpacked; throws ZipEntryError (with the reason) for an entry that is no image or damaged. */
export function readZipImage(zip: Blob, entry: ZipEntry): Promise<Uint8Array> {
  return readZipEntry(zip, entry, (start) => (imageFormatOf(start) ? null : NOT_AN_IMAGE));
}

/** Every class folder's images, unpacked (for tools and tests; the page takes a class at a time in a worker). */
export async function readZipDataset(zip: Blob): Promise<{ classes: ZipClass[]; skipped: SkippedFile[] }> {
  const plan = await readZipPlan(zip);
  const skipped = [...plan.skipped];
  const classes: ZipClass[] = [];
  for (const { name, dir, files } of plan.classes) {
    const read: ZipClass['files'] = [];
    for (const file of files) {
      try {
        read.push({ name: file.name, bytes: await readZipImage(zip, file.entry) });
      } catch (error) {
        if (!(error instanceof ZipEntryError)) throw error;
        skipped.push({ file: `${dir}/${file.name}`, reason: error.message });
      }
    }
    classes.push({ name, files: read });
  }
  return { classes, skipped: skipped.sort((a, b) => byCodeUnit(a.file, b.file)) };
}
