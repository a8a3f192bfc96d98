/**
 * Reads the layout of a dataset directory the way Keras' image_dataset_from_directory does: each
 * subfolder of the root is a class, and every file below it (at any depth) belongs to that class.
 * Files directly in the root (a LICENSE.txt) and hidden entries (.DS_Store, ._x.jpg) are not images of
 * any class: they are listed as skipped, and so are names too long for a manifest. A class is named as the page
 * names it (shared/class-names.ts): its folder's name NFC-normalised, with the page's export escapes undone
 * ("sun%3Aflowers" is "sun:flowers"); a folder whose name holds a line break or an invisible character, or
 * spells a class already read in another case or normalisation, is skipped with the reason. Symbolic links that
 * stay inside the dataset folder are followed, once; links leading outside it only when asked
 * (`followLinks`), so a stray link never pulls in files from elsewhere on the disk.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { classNameCharacterProblem, classNameOfFolder, sameClassName } from '../../shared/class-names';
import { MAX_CLASS_NAME_LENGTH, MAX_IMAGE_PATH_LENGTH } from '../../shared/records';
import { SourceError } from './errors';
import type { SkippedFile } from './skipped';

export interface ClassFolder {
  /** The class's name (NFC, escapes undone). */
  name: string;
  /** The folder's name on disk, below the root. */
  dir: string;
  /** Files below the class folder, relative to it with "/" separators, sorted. */
  files: string[];
}

export interface ClassFolderScan {
  /** Sorted by name. */
  classes: ClassFolder[];
  skipped: SkippedFile[];
}

export interface ScanOptions {
  /** Read symbolic links that lead outside the dataset folder too. */
  followLinks?: boolean;
}

/** Sorting by code unit keeps the order (and so the shards) the same on every machine and locale. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const OUTSIDE = 'link to outside the dataset folder: not read (give --follow-links to read such links)';

/** What one directory entry is, after deciding whether a link may be followed. */
type EntryKind = 'directory' | 'file' | { skip: string };

export async function scanClassFolders(root: string, options: ScanOptions = {}): Promise<ClassFolderScan> {
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) throw new SourceError(`${root} is not a directory`);
  const realRoot = await realpath(root);
  const kindOf = (path: string) => entryKind(path, realRoot, options.followLinks ?? false);
  const skipped: SkippedFile[] = [];
  const classes: ClassFolder[] = [];
  const visited = new Set<string>([realRoot]);

  for (const name of (await readdir(root)).sort(byCodeUnit)) {
    const path = join(root, name);
    const kind = await kindOf(path);
    if (name.startsWith('.')) skipped.push({ file: name, reason: 'hidden entry in the dataset root' });
    else if (kind === 'directory' && name.length > MAX_CLASS_NAME_LENGTH) {
      skipped.push({
        file: `${name}/`,
        reason: `class name is ${name.length} characters long: at most ${MAX_CLASS_NAME_LENGTH} are stored; class left out`,
      });
    } else if (kind === 'directory') {
      const className = classNameOfFolder(name);
      const refused = classNameCharacterProblem(className);
      const same = classes.find((c) => sameClassName(c.name, className));
      if (refused) skipped.push({ file: `${name}/`, reason: `${refused.slice(0, -1)}: class left out` });
      else if (same) skipped.push({ file: `${name}/`, reason: `the same class name as “${same.name}” (another case or Unicode spelling of it): class left out` });
      else {
        const files: string[] = [];
        await collectFiles(path, name, '', files, skipped, visited, kindOf);
        classes.push({ name: className, dir: name, files: files.sort(byCodeUnit) });
      }
    } else if (kind === 'file') {
      skipped.push({ file: name, reason: 'file in the dataset root: only files inside class folders are images' });
    } else skipped.push({ file: name, reason: kind.skip });
  }
  if (classes.length === 0) {
    throw new SourceError(
      `${root} has no class folders: expected one subfolder per class holding its images (root/<class>/<image>)`,
    );
  }
  return { classes, skipped };
}

async function entryKind(path: string, realRoot: string, followLinks: boolean): Promise<EntryKind> {
  try {
    if ((await lstat(path)).isSymbolicLink() && !followLinks) {
      const target = await realpath(path);
      if (target !== realRoot && !target.startsWith(realRoot + sep)) return { skip: OUTSIDE };
    }
    const info = await stat(path);
    if (info.isDirectory()) return 'directory';
    if (info.isFile()) return 'file';
    return { skip: 'neither a file nor a directory' };
  } catch {
    return { skip: 'unreadable (a broken link?)' };
  }
}

async function collectFiles(
  dir: string,
  className: string,
  prefix: string,
  files: string[],
  skipped: SkippedFile[],
  visited: Set<string>,
  kindOf: (path: string) => Promise<EntryKind>,
): Promise<void> {
  const real = await realpath(dir);
  if (visited.has(real) && prefix !== '') {
    skipped.push({ file: `${className}/${prefix}`, reason: 'link to a folder already read' });
    return;
  }
  visited.add(real);
  for (const name of await readdir(dir)) {
    const relative = prefix + name;
    if (name.startsWith('.')) {
      skipped.push({ file: `${className}/${relative}`, reason: 'hidden entry' });
      continue;
    }
    const path = join(dir, name);
    const kind = await kindOf(path);
    if (kind === 'directory') await collectFiles(path, className, `${relative}/`, files, skipped, visited, kindOf);
    else if (kind === 'file' && relative.length > MAX_IMAGE_PATH_LENGTH) {
      skipped.push({
        file: `${className}/${relative}`,
        reason: `path below its class folder is ${relative.length} characters long: at most ${MAX_IMAGE_PATH_LENGTH} are stored`,
      });
    } else if (kind === 'file') files.push(relative);
    else skipped.push({ file: `${className}/${relative}`, reason: kind.skip });
  }
}
