/**
 * labels.txt and the code the TFLite download's README gives for it: one class a line whatever the names hold
 * (a name that would break a line is refused, naming the character), and the README's Python reads 猫 and
 * Ελληνικά back as they were written, under a locale that is not UTF-8 (as on Windows), with python3 itself.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsText } from '../../client/tflite/metadata';
import { kotlinSnippet, pythonSnippet, type TfliteSnippetInput } from '../../client/tflite/snippets';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'graft-labels-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const LABELS = ['猫', 'Ελληνικά', 'café', 'dogs'];

const snippetInput: TfliteSnippetInput = {
  kind: 'float32',
  signature: { input: { shape: [1, 224, 224, 3], type: 'float32', quantization: null }, output: { shape: [1, LABELS.length], type: 'float32' } },
  preprocessing: { scale: 1 / 127.5, offset: -1 },
  labels: LABELS,
};

describe('labels.txt', () => {
  it('refuses a class name that would break a line for some reader, naming the class and the character', () => {
    for (const [name, named] of [
      ['a\u2028b', 'U+2028 (line separator)'],
      ['a\u2029b', 'U+2029 (paragraph separator)'],
      ['a\u0085b', 'U+0085 (next line)'],
      ['a\u001cb', 'U+001C (a control character)'],
      ['a\rb', 'U+000D (carriage return)'],
    ]) {
      expect(() => labelsText(['cats', name])).toThrow(`The class “${name}” cannot be a line of labels.txt: it contains ${named}. Rename it and export again.`);
    }
    expect(labelsText(LABELS)).toBe('猫\nΕλληνικά\ncafé\ndogs\n');
  });

  it('is read back by the README\'s Python as written, with a locale that is not UTF-8', async () => {
    await writeFile(join(work, 'labels.txt'), labelsText(LABELS));
    const line = pythonSnippet(snippetInput)
      .split('\n')
      .find((l) => l.startsWith('labels = '));
    expect(line).toBeDefined();
    // The C locale without Python's UTF-8 mode: open() without an encoding reads ASCII, as Windows reads cp1252.
    const { stdout } = await promisify(execFile)('python3', ['-c', `import json\n${line}\nprint(json.dumps(labels))`], {
      cwd: work,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', PYTHONUTF8: '0', PYTHONCOERCECLOCALE: '0' },
    });
    expect(JSON.parse(stdout)).toEqual(LABELS);
  });

  it('is read as UTF-8 by the Kotlin too, never by the platform\'s default charset', () => {
    expect(kotlinSnippet(snippetInput)).toContain('context.assets.open("labels.txt").bufferedReader(Charsets.UTF_8)');
  });
});
