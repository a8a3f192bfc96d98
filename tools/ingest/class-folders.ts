/**
 * Lists a dataset directory's entries for the one class-folder reading (shared/class-folders.ts: which file is an
 * image of which class, how a class is named, what is left out and why, in what order; a class's files are read
 * from its folder, `dir`). What only a disk has is decided here: symbolic
 * links that stay inside the dataset folder are followed, once; links leading outside it only when asked
 * (`followLinks`), so a stray link never pulls in files from elsewhere on the disk; hidden entries are not read.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { byCodeUnit, readClassFolders, type ClassFolders, type SkippedFile } from '../../shared/class-folders';
import { SourceError } from './errors';

export interface ScanOptions {
  /** Read symbolic links that lead outside the dataset folder too. */
  followLinks?: boolean;
  /** Leave out files whose extension no browser decodes (readClassFolders' imagesOnly). */
  imagesOnly?: boolean;
}

const OUTSIDE = 'link to outside the dataset folder: not read (give --follow-links to read such links)';

/** What one directory entry is, after deciding whether a link may be followed. */
type EntryKind = 'directory' | 'file' | { skip: string };

/** The classes of the class-folder directory `root`; throws SourceError when it is not one. */
export async function scanClassFolders(root: string, options: ScanOptions = {}): Promise<ClassFolders> {
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) throw new SourceError(`${root} is not a directory`);
  const realRoot = await realpath(root);
  const kindOf = (path: string) => entryKind(path, realRoot, options.followLinks ?? false);
  const entries: string[] = [];
  const skipped: SkippedFile[] = [];
  await listEntries(root, '', entries, skipped, new Set([realRoot]), kindOf);
  const read = readClassFolders(entries, { imagesOnly: options.imagesOnly });
  if (read.classes.length === 0) {
    throw new SourceError(`${root} has no class folders: expected one subfolder per class holding its images (root/<class>/<image>)`);
  }
  return { classes: read.classes, skipped: [...read.skipped, ...skipped].sort((a, b) => byCodeUnit(a.file, b.file)) };
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

/**
 * Every entry below `dir` as a path relative to the root (`prefix`): files, top-level folders with a trailing
 * "/", and hidden entries as they are (never read into).
 */
async function listEntries(
  dir: string,
  prefix: string,
  entries: string[],
  skipped: SkippedFile[],
  visited: Set<string>,
  kindOf: (path: string) => Promise<EntryKind>,
): Promise<void> {
  for (const name of (await readdir(dir)).sort(byCodeUnit)) {
    const relative = prefix + name;
    if (name.startsWith('.')) {
      entries.push(relative);
      continue;
    }
    const path = join(dir, name);
    const kind = await kindOf(path);
    if (kind === 'file') entries.push(relative);
    else if (kind !== 'directory') skipped.push({ file: relative, reason: kind.skip });
    else {
      const real = await realpath(path);
      // A class folder is read whatever else links to it; a folder below one, once.
      if (prefix !== '' && visited.has(real)) {
        skipped.push({ file: relative, reason: 'link to a folder already read' });
        continue;
      }
      visited.add(real);
      if (prefix === '') entries.push(`${relative}/`);
      await listEntries(path, `${relative}/`, entries, skipped, visited, kindOf);
    }
  }
}
