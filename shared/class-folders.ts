/**
 * The one reading of a class-folder dataset (`<class>/<file>`, Keras's image_dataset_from_directory layout) from
 * its entries' paths: the seed's folders and archives (tools/ingest), the page's picked or dropped folders and
 * zips, the tests' folders. Each class folder at the top is a class, and every file below it (at any depth) is
 * one of its images. A class is named as the page names it (class-names.ts): its folder's name NFC-normalised,
 * with the page's export escapes undone ("sun%3Aflowers" is "sun:flowers"). Hidden entries, files at the top,
 * names too long for a manifest, a folder whose name holds a line break or an invisible character, and one that
 * spells a class already read in another case or normalisation are left out, each with its reason. Classes (by
 * name), files and what is left out are sorted by code unit: the same on every machine and locale, so a class's
 * index (the label it trains as) never depends on where the dataset was read.
 */
import { classNameCharacterProblem, classNameOfFolder, sameClassName } from './class-names';
import { MAX_CLASS_NAME_LENGTH, MAX_IMAGE_PATH_LENGTH } from './records';

/** A file of a dataset that was left out, and why: nothing is dropped without saying so. */
export interface SkippedFile {
  /** Path relative to the dataset's root, with "/" separators. */
  file: string;
  reason: string;
}

export interface ClassFolder {
  /** The class's name (NFC, the export's escapes undone). */
  name: string;
  /** The folder's name as given, below the root. */
  dir: string;
  /** Paths below the class folder, "/"-separated, sorted. */
  files: string[];
}

export interface ClassFolders {
  classes: ClassFolder[];
  skipped: SkippedFile[];
}

export interface ClassFolderOptions {
  /** Leave out files whose extension no browser decodes (the page); the seed decodes every file to tell. */
  imagesOnly?: boolean;
}

/** Sorting by code unit keeps the order the same on every machine and locale. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Extensions of the images browsers decode. */
const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'avif']);

function extension(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * The classes of the entries `paths`, relative to the dataset's root and "/"-separated. A folder's own entry
 * ends with "/" (a class folder given so counts even when it is empty); files are given without.
 */
export function readClassFolders(paths: readonly string[], options: ClassFolderOptions = {}): ClassFolders {
  const classes = new Map<string, string[]>();
  const skipped: SkippedFile[] = [];
  const tooLong = new Set<string>();
  for (const path of paths) {
    const folder = path.endsWith('/');
    const [name, ...rest] = path.replace(/\/+$/, '').split('/');
    const file = rest.join('/');
    if (name.startsWith('.')) skipped.push({ file: path, reason: 'hidden entry in the dataset root' });
    else if (rest.some((part) => part.startsWith('.'))) skipped.push({ file: path, reason: 'hidden entry' });
    else if (rest.length === 0 && !folder) skipped.push({ file: path, reason: 'file in the dataset root: only files inside class folders are images' });
    else if (name.length > MAX_CLASS_NAME_LENGTH) tooLong.add(name);
    else if (folder) {
      // A folder's own entry: a class, perhaps still without images.
      if (rest.length === 0 && !classes.has(name)) classes.set(name, []);
    } else if (options.imagesOnly && !IMAGE_EXTENSIONS.has(extension(file))) {
      skipped.push({ file: path, reason: 'not a JPEG, PNG, WebP, GIF, BMP or AVIF image' });
    } else if (file.length > MAX_IMAGE_PATH_LENGTH) {
      skipped.push({ file: path, reason: `path below its class folder is ${file.length} characters long: at most ${MAX_IMAGE_PATH_LENGTH} are stored` });
    } else {
      classes.set(name, [...(classes.get(name) ?? []), file]);
    }
  }
  for (const name of tooLong) {
    skipped.push({ file: `${name}/`, reason: `class name is ${name.length} characters long: at most ${MAX_CLASS_NAME_LENGTH} are stored; class left out` });
  }
  // Folders in code-unit order: of two spellings of one name, the first is the class.
  const read: ClassFolder[] = [];
  for (const [dir, files] of [...classes].sort(([a], [b]) => byCodeUnit(a, b))) {
    const name = classNameOfFolder(dir);
    const refused = classNameCharacterProblem(name);
    const same = read.find((c) => sameClassName(c.name, name));
    if (refused) skipped.push({ file: `${dir}/`, reason: `${refused.slice(0, -1)}: class left out` });
    else if (same) skipped.push({ file: `${dir}/`, reason: `the same class name as “${same.name}” (another case or Unicode spelling of it): class left out` });
    else read.push({ name, dir, files: files.sort(byCodeUnit) });
  }
  return { classes: read.sort((a, b) => byCodeUnit(a.name, b.name)), skipped: skipped.sort((a, b) => byCodeUnit(a.file, b.file)) };
}

/**
 * Paths of a picked or dropped folder, or of a zip, below the dataset's root: a leading "/" (drag-and-drop
 * entries) and the picked folder's own name (webkitRelativePath "flowers/daisy/1.jpg", a dropped "flowers"
 * folder, a zip's one top folder) are taken off. The first folder is that root when every path starts with it
 * and some path goes deeper; class folders side by side ("daisy/1.jpg", "roses/2.jpg"), or a single class
 * folder, are kept as they are.
 */
export function toClassPaths(rawPaths: readonly string[]): string[] {
  const paths = rawPaths.map((p) => p.replace(/\\/g, '/').replace(/^\/+/, ''));
  if (paths.length === 0) return paths;
  const first = paths[0].split('/')[0];
  const underOneRoot = paths.every((p) => p.startsWith(`${first}/`)) && paths.some((p) => p.split('/').length >= 3);
  return underOneRoot ? paths.map((p) => p.slice(first.length + 1)) : paths;
}
