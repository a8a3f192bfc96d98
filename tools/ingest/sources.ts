/**
 * Where ingest reads from: a local directory, a .tgz/.tar.gz archive (local or by URL) of a class-folder
 * tree, or a model.json URL whose weight files sit next to it. Archives are unpacked into a temp folder
 * the caller owns.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import * as tar from 'tar';
import { SourceError } from './errors';
import { toId } from './ids';
import type { ModelSource } from './model';
import type { SkippedFile } from '../../shared/class-folders';

export const isUrl = (spec: string): boolean => /^https?:\/\//i.test(spec);

const ARCHIVE = /\.(tgz|tar\.gz)$/i;

/** A GET that turns network failures and HTTP errors into messages a user can act on. */
async function download(url: URL): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new SourceError(`cannot download ${url}: ${cause}`);
  }
  if (!response.ok) throw new SourceError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

export async function openModelSource(spec: string): Promise<ModelSource & { defaultId: string }> {
  if (isUrl(spec)) {
    const url = new URL(spec);
    const modelJson = await (await download(url)).text();
    const segments = url.pathname.split('/').filter(Boolean);
    return {
      origin: spec,
      modelJson,
      defaultId: await toId(segments.at(-2) ?? url.hostname),
      readWeightFile: async (path) => new Uint8Array(await (await download(new URL(path, url))).arrayBuffer()),
    };
  }
  const info = await stat(spec).catch(() => null);
  if (!info) throw new SourceError(`${spec} does not exist`);
  const modelFile = info.isDirectory() ? join(spec, 'model.json') : spec;
  const dir = dirname(resolve(modelFile));
  const modelJson = await readFile(modelFile, 'utf8').catch(() => {
    throw new SourceError(`${spec} holds no model.json`);
  });
  return {
    origin: spec,
    modelJson,
    defaultId: await toId(basename(dir)),
    readWeightFile: (path) => readFile(resolve(dir, path)),
  };
}

export interface DatasetSource {
  /** The class-folder root. */
  root: string;
  /** The root folder's name, or the archive's name when it has no single top folder. */
  defaultName: string;
  /** Archive entries that were not unpacked. */
  skipped: SkippedFile[];
}

/** `tempDir` must be an empty folder that outlives the ingest of this source. */
export async function openDatasetSource(spec: string, tempDir: string): Promise<DatasetSource> {
  if (isUrl(spec)) {
    const url = new URL(spec);
    if (!ARCHIVE.test(url.pathname)) {
      throw new SourceError(`${spec}: a dataset URL must point to a .tgz or .tar.gz archive of class folders`);
    }
    const archive = join(tempDir, 'download.tgz');
    const body = (await download(url)).body;
    if (!body) throw new SourceError(`cannot download ${url}: empty response`);
    await pipeline(Readable.fromWeb(body as NodeReadableStream), createWriteStream(archive));
    return unpack(archive, basename(url.pathname).replace(ARCHIVE, ''), tempDir);
  }
  const info = await stat(spec).catch(() => null);
  if (!info) throw new SourceError(`${spec} does not exist`);
  if (info.isFile() && ARCHIVE.test(spec)) return unpack(spec, basename(spec).replace(ARCHIVE, ''), tempDir);
  if (!info.isDirectory()) throw new SourceError(`${spec} is neither a directory of class folders nor a .tgz archive of one`);
  return { root: spec, defaultName: basename(resolve(spec)), skipped: [] };
}

/** An absolute path (POSIX or Windows) or one with a '..' segment: tar would strip or drop it on its own. */
const ESCAPING_PATH = /^([a-z]:)?[\\/]|(^|[\\/])\.\.([\\/]|$)/i;

/** Unpacks files and folders only; links, devices and paths leading outside the archive's folder are listed as skipped. */
async function unpack(archive: string, archiveName: string, tempDir: string): Promise<DatasetSource> {
  const into = join(tempDir, 'unpacked');
  await mkdir(into);
  const skipped: SkippedFile[] = [];
  try {
    await tar.x({
      file: archive,
      cwd: into,
      // Anything tar itself refuses to unpack is said too.
      onwarn: (code, message, data) => {
        if (code.startsWith('TAR_ENTRY') && code !== 'TAR_ENTRY_INFO') skipped.push({ file: (data as { path?: string }).path ?? archiveName, reason: `not unpacked: ${message}` });
      },
      filter: (path, entry) => {
        if (ESCAPING_PATH.test(path)) {
          skipped.push({ file: path, reason: 'archive entry that leads outside the archive\'s folder (".." or an absolute path): not unpacked' });
          return false;
        }
        const type = 'type' in entry ? entry.type : 'File';
        if (['File', 'OldFile', 'ContiguousFile', 'Directory'].includes(type)) return true;
        skipped.push({ file: path, reason: `${type} entry in the archive: not unpacked` });
        return false;
      },
    });
  } catch (error) {
    throw new SourceError(`${archive} cannot be unpacked: ${(error as Error).message}`);
  }
  // Like flower_photos.tgz: one top folder is the dataset; its name is the dataset's.
  const top = (await readdir(into, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  if (top.length === 1 && top[0].isDirectory()) {
    const rootName = top[0].name;
    for (const entry of await readdir(into)) {
      if (entry !== rootName) skipped.push({ file: entry, reason: 'outside the archive\'s dataset folder' });
    }
    const prefix = `${rootName}/`;
    const inRoot = skipped.map((s) => (s.file.startsWith(prefix) ? { ...s, file: s.file.slice(prefix.length) } : s));
    return { root: join(into, rootName), defaultName: rootName, skipped: inRoot };
  }
  return { root: into, defaultName: archiveName, skipped };
}
