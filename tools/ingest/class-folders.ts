/**
 * Reads the layout of a dataset directory the way Keras' image_dataset_from_directory does: each
 * subfolder of the root is a class, and every file below it (at any depth) belongs to that class.
 * Files directly in the root (a LICENSE.txt) and hidden entries (.DS_Store, ._x.jpg) are not images of
 * any class: they are listed as skipped. Symbolic links are followed, once.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from './errors';
import type { SkippedFile } from './skipped';

export interface ClassFolder {
  name: string;
  /** Files below the class folder, relative to it with "/" separators, sorted. */
  files: string[];
}

export interface ClassFolderScan {
  /** Sorted by name. */
  classes: ClassFolder[];
  skipped: SkippedFile[];
}

/** Sorting by code unit keeps the order (and so the shards) the same on every machine and locale. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export async function scanClassFolders(root: string): Promise<ClassFolderScan> {
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) throw new SourceError(`${root} is not a directory`);
  const skipped: SkippedFile[] = [];
  const classes: ClassFolder[] = [];
  const visited = new Set<string>([await realpath(root)]);

  for (const name of (await readdir(root)).sort(byCodeUnit)) {
    const path = join(root, name);
    const kind = await entryKind(path);
    if (name.startsWith('.')) skipped.push({ file: name, reason: 'hidden entry in the dataset root' });
    else if (kind === 'directory') {
      const files: string[] = [];
      await collectFiles(path, name, '', files, skipped, visited);
      classes.push({ name, files: files.sort(byCodeUnit) });
    } else if (kind === 'file') {
      skipped.push({ file: name, reason: 'file in the dataset root: only files inside class folders are images' });
    } else skipped.push({ file: name, reason: kind });
  }
  if (classes.length === 0) {
    throw new SourceError(
      `${root} has no class folders: expected one subfolder per class holding its images (root/<class>/<image>)`,
    );
  }
  return { classes, skipped };
}

async function entryKind(path: string): Promise<'directory' | 'file' | string> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return 'directory';
    if (info.isFile()) return 'file';
    return 'neither a file nor a directory';
  } catch {
    return 'unreadable (a broken link?)';
  }
}

async function collectFiles(
  dir: string,
  className: string,
  prefix: string,
  files: string[],
  skipped: SkippedFile[],
  visited: Set<string>,
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
    const kind = await entryKind(path);
    if (kind === 'directory') await collectFiles(path, className, `${relative}/`, files, skipped, visited);
    else if (kind === 'file') files.push(relative);
    else skipped.push({ file: `${className}/${relative}`, reason: kind });
  }
}
