/**
 * The folders of client/ follow the data (storage → API → farm → cache → trainer → page): no two folders import
 * each other, farm/ and trainer/ share only engine/ and cache/, and shared/ imports nothing of client/. Imports are
 * read with TypeScript's own pre-processor (static, dynamic, `export ... from`), plus the `new URL('…',
 * import.meta.url)` by which a module names a worker file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The folder a repository file belongs to: client/<folder> for the page's code, else its top-level folder. */
function folderOf(file: string): string {
  const parts = relative(REPO_ROOT, file).split(sep);
  return parts[0] === 'client' && parts.length > 2 ? `client/${parts[1]}` : parts[0];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importedPaths(source: string): string[] {
  const modules = ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
  const workers = [...source.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g)].map((m) => m[1]);
  return [...modules, ...workers].filter((path) => path.startsWith('.'));
}

/** Every "folder A imports folder B" of client/ and shared/, as 'A -> B'. */
function folderImports(): Set<string> {
  const edges = new Set<string>();
  for (const file of [...sourceFiles(join(REPO_ROOT, 'client')), ...sourceFiles(join(REPO_ROOT, 'shared'))]) {
    const from = folderOf(file);
    for (const path of importedPaths(readFileSync(file, 'utf8'))) {
      const to = folderOf(resolve(dirname(file), path));
      if (to !== from) edges.add(`${from} -> ${to}`);
    }
  }
  return edges;
}

describe('folder layering', () => {
  const edges = folderImports();

  it('reads the imports that are there', () => {
    // A scan that found nothing would pass every check below.
    for (const edge of ['client/farm -> client/engine', 'client/farm -> client/cache', 'client/trainer -> client/engine', 'client/page -> client/trainer', 'client/engine -> shared']) {
      expect(edges).toContain(edge);
    }
  });

  it('farm and trainer do not import each other', () => {
    expect([...edges].filter((e) => e === 'client/farm -> client/trainer' || e === 'client/trainer -> client/farm')).toEqual([]);
  });

  it('no two folders import each other', () => {
    const mutual = [...edges].filter((edge) => {
      const [from, to] = edge.split(' -> ');
      return from < to && edges.has(`${to} -> ${from}`);
    });
    expect(mutual).toEqual([]);
  });

  it('shared imports nothing of client', () => {
    expect([...edges].filter((e) => e.startsWith('shared -> '))).toEqual([]);
  });
});
