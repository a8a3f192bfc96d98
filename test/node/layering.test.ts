/**
 * The folders follow the data (storage → API → farm → cache → trainer → page): no two folders import each other,
 * farm/ and trainer/ share only engine/ and cache/ (engine/ imports neither), shared/ imports nothing but itself,
 * tools/ nothing of test/ (test/support builds on tools/, not the other way round), and no module imports itself
 * back through others. Inside the page, views render and report intent: they import no page logic (not even its
 * types), and run no worker, storage or camera code of their own; page logic imports no view; the words both
 * use (page/text/) import neither; main.ts and the *-controller.ts files join views to logic.
 *
 * Imports are read with TypeScript's parser (static, `export ... from`, dynamic, `import type`), plus the
 * `new URL('…', import.meta.url)` by which a module names a worker file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['client', 'shared', 'tools', 'test/support', 'worker'];

/** The folder a repository file belongs to: client/<folder>, page/views and page/text apart, test/support, or its top folder. */
function folderOf(file: string): string {
  const parts = relative(REPO_ROOT, file).split(sep);
  if (parts[0] === 'client' && parts[1] === 'page' && (parts[2] === 'views' || parts[2] === 'text') && parts.length > 3) return `client/page/${parts[2]}`;
  if (parts[0] === 'client' && parts.length > 2) return `client/${parts[1]}`;
  if (parts[0] === 'test' && parts.length > 2) return `test/${parts[1]}`;
  return parts[0];
}

/** The page's composition: main.ts and the controllers that join views to logic. */
const isWiring = (file: string) => folderOf(file) === 'client/page' && (basename(file) === 'main.ts' || basename(file).endsWith('-controller.ts'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  from: string;
  to: string;
  /** Types only: erased from the built code. */
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const source = readFileSync(file, 'utf8');
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : null;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  for (const match of source.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g)) found.push({ specifier: match[1], typeOnly: false });
  return found
    .filter(({ specifier }) => specifier.startsWith('.'))
    .map(({ specifier, typeOnly }) => {
      const to = resolve(dirname(file), specifier);
      return { from: file, to: to.endsWith('.ts') ? to : `${to}.ts`, typeOnly };
    });
}

const files = SCANNED.flatMap((dir) => sourceFiles(join(REPO_ROOT, dir)));
const imports = files.flatMap(importsOf);
const name = (file: string) => relative(REPO_ROOT, file).split(sep).join('/');

/** Every "folder A imports folder B" as 'A -> B'. */
const edges = new Set(imports.map((i) => `${folderOf(i.from)} -> ${folderOf(i.to)}`).filter((edge) => !edge.match(/^(.+) -> \1$/)));

/** The imports breaking a rule, as 'file -> file'. */
const breaking = (rule: (i: Import) => boolean) => imports.filter(rule).map((i) => `${name(i.from)} -> ${name(i.to)}`);

describe('folder layering', () => {
  it('reads the imports that are there', () => {
    // A scan that found nothing would pass every check below.
    for (const edge of [
      'client/farm -> client/engine',
      'client/farm -> client/cache',
      'client/trainer -> client/engine',
      'client/page -> client/trainer',
      'client/engine -> shared',
      'client/page -> client/page/views',
      'client/page/views -> client/page/text',
      'test/support -> tools',
      'tools -> client/page',
    ]) {
      expect(edges).toContain(edge);
    }
    expect(imports.some((i) => i.typeOnly) && imports.some((i) => !i.typeOnly)).toBe(true);
  });

  it('farm and trainer do not import each other, and engine imports neither', () => {
    const forbidden = ['client/farm -> client/trainer', 'client/trainer -> client/farm', 'client/engine -> client/farm', 'client/engine -> client/trainer'];
    expect([...edges].filter((e) => forbidden.includes(e))).toEqual([]);
  });

  it('no two folders import each other', () => {
    const mutual = [...edges].filter((edge) => {
      const [from, to] = edge.split(' -> ');
      return from < to && edges.has(`${to} -> ${from}`);
    });
    expect(mutual).toEqual([]);
  });

  it('shared imports nothing but itself, and tools nothing of the tests', () => {
    expect([...edges].filter((e) => e.startsWith('shared -> '))).toEqual([]);
    expect([...edges].filter((e) => e.startsWith('tools -> test'))).toEqual([]);
  });

  it('no module imports itself back through others', () => {
    const next = new Map<string, string[]>();
    for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const to of next.get(file) ?? []) walk(to, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) walk(file, []);
    expect(cycles).toEqual([]);
  });
});

describe('page layering', () => {
  const inPage = (file: string, folder: string) => folderOf(file) === folder;

  it('views import no page logic, not even its types', () => {
    expect(breaking((i) => inPage(i.from, 'client/page/views') && inPage(i.to, 'client/page'))).toEqual([]);
  });

  it('views run no worker, storage or camera code: what they run comes from views, text, shared and the TFLite snippets', () => {
    const allowed = (to: string) =>
      ['client/page/views', 'client/page/text', 'shared'].includes(folderOf(to)) || name(to) === 'client/tflite/snippets.ts';
    expect(breaking((i) => inPage(i.from, 'client/page/views') && !i.typeOnly && !allowed(i.to))).toEqual([]);
  });

  it('page logic imports no view; only main.ts and the controllers join the two', () => {
    expect(breaking((i) => inPage(i.from, 'client/page') && !isWiring(i.from) && inPage(i.to, 'client/page/views'))).toEqual([]);
    expect(breaking((i) => !inPage(i.from, 'client/page') && inPage(i.to, 'client/page') && isWiring(i.to))).toEqual([]);
  });

  it('the words views and logic share import neither', () => {
    expect(breaking((i) => inPage(i.from, 'client/page/text') && !['client/page/text', 'shared'].includes(folderOf(i.to)))).toEqual([]);
  });
});
