/**
 * The visitor's dataset as a .zip of class folders, `<root>/<class>/<file>`: the layout `npm run seed` takes once
 * unzipped, so a demo host can publish what they recorded. Reading accepts the same layout with or without the
 * root folder and says which entries it leaves out and why. Pure (fflate), no DOM: tested in Node.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { readClassFolders, toClassPaths, type SkippedFile } from '../../shared/class-folders';
import { folderNameOf } from '../../shared/class-names';
import { zipEntryName } from '../../shared/zip-entry-name';

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

/**
 * Each central directory entry's name decoded by zipEntryName (fflate reads names without the UTF-8 flag as
 * Latin-1), in directory order: the order fflate's filter sees the entries in.
 */
function entryNames(zip: Uint8Array): string[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end > 0 && zip.length - end <= 65557 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0 || view.getUint32(end, true) !== 0x06054b50) return [];
  let count = view.getUint16(end + 8, true);
  let at = view.getUint32(end + 16, true);
  const zip64 = end >= 20 && view.getUint32(end - 20, true) === 0x07064b50 ? Number(view.getBigUint64(end - 12, true)) : -1;
  if (zip64 >= 0 && zip64 + 56 <= zip.length && view.getUint32(zip64, true) === 0x06064b50) {
    count = Number(view.getBigUint64(zip64 + 32, true));
    at = Number(view.getBigUint64(zip64 + 48, true));
  }
  const names: string[] = [];
  for (; names.length < count && at + 46 <= zip.length && view.getUint32(at, true) === 0x02014b50; ) {
    const nameLength = view.getUint16(at + 28, true);
    names.push(zipEntryName(zip.subarray(at + 46, at + 46 + nameLength), view.getUint16(at + 8, true)));
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return names;
}

/** The class folders of a zip; throws ZipReadError when it is not a zip or holds no image in a class folder. */
export function unzipDataset(zip: Uint8Array): UnzippedDataset {
  const skipped: UnzippedDataset['skipped'] = [];
  const decoded = entryNames(zip);
  const nameOf = new Map<string, string>();
  let files: Record<string, Uint8Array>;
  try {
    let index = 0;
    files = unzipSync(zip, {
      filter(entry) {
        const name = decoded[index++] ?? entry.name;
        nameOf.set(entry.name, name);
        if (name.endsWith('/')) return false;
        let reason: string | null = null;
        if (entry.compression !== 0 && entry.compression !== 8) reason = 'compressed in a way this page cannot read';
        else if (entry.originalSize > MAX_ENTRY_BYTES) reason = `larger than ${MAX_ENTRY_BYTES / 1024 / 1024} MB`;
        if (reason) skipped.push({ file: name, reason });
        return reason === null;
      },
    });
  } catch (error) {
    throw new ZipReadError(`This file is not a .zip archive that can be read (${(error as Error).message}).`);
  }
  const names = Object.keys(files);
  const paths = toClassPaths(names.map((name) => nameOf.get(name) ?? name));
  // Folder names as exported (escapes undone) and NFC: "café" in either normalisation is one class.
  const folders = readClassFolders(paths, { imagesOnly: true });
  skipped.push(...folders.skipped);
  if (folders.classes.length === 0) {
    throw new ZipReadError('This zip holds no images inside class folders: it should hold one folder per class, e.g. cats/1.jpg and dogs/2.jpg.');
  }
  const entryAt = new Map(paths.map((path, i) => [path, names[i]]));
  return {
    classes: folders.classes.map(({ name, dir, files: inClass }) => ({ name, files: inClass.map((file) => ({ name: file, bytes: files[entryAt.get(`${dir}/${file}`)!] })) })),
    skipped,
  };
}
