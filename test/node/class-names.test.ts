/**
 * The class-name rules (shared/class-names.ts) and the seed's use of them: names compared case- and
 * normalisation-insensitively, characters that break a line or hide in a name refused by name, folder names every
 * file system holds and their way back, and class folders on disk (NFD or NFC, a line separator, two spellings of
 * one name) seeded as the page would name them.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classNameOfFolder, classNameProblem, folderNameOf, sameClassName } from '../../shared/class-names';
import { scanClassFolders } from '../../tools/ingest/class-folders';
import { prepareDataset } from '../../tools/ingest/dataset';
import { FLOWERS, sampleFiles } from '../support/ingest-fixtures';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'graft-class-names-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('class names', () => {
  it('are one name in either normalisation and any case; different letters stay different', () => {
    expect(sameClassName('café', 'CAFE\u0301')).toBe(true);
    expect(sameClassName('Straße', 'STRASSE')).toBe(true);
    expect(sameClassName('ΟΔΟΣ', 'οδοσ')).toBe(true);
    expect(sameClassName('cafe', 'café')).toBe(false);
    expect(sameClassName('猫', '狗')).toBe(false);
  });

  it('refuse what breaks a line or hides in a name, naming the character; other scripts and emoji pass', () => {
    expect(classNameProblem('a\u2028b', [])).toBe('A class name cannot contain U+2028 (line separator).');
    expect(classNameProblem('a\u001cb', [])).toBe('A class name cannot contain U+001C (a control character).');
    expect(classNameProblem('a\u2066b', [])).toBe('A class name cannot contain U+2066 (an invisible formatting character).');
    expect(classNameProblem('a\ud800b', [])).toBe('A class name cannot contain U+D800 (half of a character: a lone surrogate).');
    for (const good of ['猫', 'Ελληνικά', 'کتاب\u200cها', '👨\u200d👩\u200d👧', '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}', 'CON', 'a:b']) {
      expect([good, classNameProblem(good, [])]).toEqual([good, null]);
    }
  });

  it('become folder names Windows, macOS and Linux hold, and come back from them unchanged', () => {
    const names = ['CON', 'con.txt', 'LPT9', 'COM¹', 'PRN ', 'AUX.', 'a:b?*', '<>|"', 'back\\slash', 'x/y', 'end.', 'end ', '.start', '%', '%25', '100% sure', 'tab\there', 'café', '猫'];
    for (const name of names) {
      const folder = folderNameOf(name);
      expect(folder, name).not.toMatch(/[<>:"/\\|?*\u0000-\u001f]|[. ]$|^\.|^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])\s*(\..*)?$/iu);
      expect(classNameOfFolder(folder), name).toBe(name);
    }
    expect(folderNameOf('café')).toBe('café');
    // A folder not made by Graft keeps what is not a UTF-8 escape.
    expect(classNameOfFolder('50%off')).toBe('50%off');
    expect(classNameOfFolder('%E2%82')).toBe('%E2%82');
  });
});

describe('the seed\'s class folders', () => {
  it('are named NFC, read from the folder on disk, and a second spelling or a line separator is skipped with the reason', async () => {
    const root = join(work, 'dataset');
    const picked = await sampleFiles(FLOWERS, ['daisy', 'roses', 'tulips', 'sunflowers'], 2);
    const folders: Record<string, string[]> = {
      'cafe\u0301': picked.daisy, // NFD, as a tar made on macOS holds it
      'café': picked.roses, // the same name in NFC: a second folder on Linux
      'a\u2028b': picked.tulips,
      'sun%3Aflowers': picked.sunflowers, // exported by the page from "sun:flowers"
    };
    const source = { 'cafe\u0301': 'daisy', 'café': 'roses', 'a\u2028b': 'tulips', 'sun%3Aflowers': 'sunflowers' } as Record<string, string>;
    for (const [folder, files] of Object.entries(folders)) {
      await mkdir(join(root, folder), { recursive: true });
      for (const file of files) await copyFile(join(FLOWERS, source[folder]!, file), join(root, folder, file));
    }
    const scan = await scanClassFolders(root);
    expect(scan.classes.map((c) => c.name)).toEqual(['café'.normalize('NFC'), 'sun:flowers']);
    expect(scan.skipped).toEqual([
      { file: 'a\u2028b/', reason: 'A class name cannot contain U+2028 (line separator): class left out' },
      { file: 'café/', reason: 'the same class name as “café” (another case or Unicode spelling of it): class left out' },
    ]);
    const staging = join(work, 'staging');
    await mkdir(staging);
    const prepared = await prepareDataset(root, { id: 'names', name: 'names', maxSide: 256, shardBytes: 4 << 20, followLinks: false, stagingDir: staging });
    expect(prepared.manifest.classes).toEqual(['café'.normalize('NFC'), 'sun:flowers']);
    expect(prepared.manifest.images.map((image) => image.class)).toEqual(['café', 'café', 'sun:flowers', 'sun:flowers'].map((c) => c.normalize('NFC')));
  });
});
