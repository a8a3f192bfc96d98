/**
 * The one reading of a class-folder dataset (shared/class-folders.ts), as the seed, the page and the tests read
 * it: the picked folder's own name comes off, every file below a class folder is one of its images, what is left
 * out says why, and classes and files come in code-unit order whatever the locale (a class's index is its label).
 */
import { describe, expect, it } from 'vitest';
import { byCodeUnit, readClassFolders, toClassPaths } from '../../shared/class-folders';

describe('class folders', () => {
  it('drops the picked folder name so each path starts with its class', () => {
    expect(toClassPaths(['flowers/daisy/1.jpg', 'flowers/roses/2.jpg', 'flowers/notes.txt'])).toEqual(['daisy/1.jpg', 'roses/2.jpg', 'notes.txt']);
    expect(toClassPaths(['/flowers/daisy/1.jpg', '/flowers/roses/a/2.jpg'])).toEqual(['daisy/1.jpg', 'roses/a/2.jpg']);
  });

  it('keeps class folders dropped side by side, and a lone class folder, as they are', () => {
    expect(toClassPaths(['/daisy/1.jpg', '/roses/2.jpg'])).toEqual(['daisy/1.jpg', 'roses/2.jpg']);
    expect(toClassPaths(['daisy/1.jpg', 'daisy/2.jpg'])).toEqual(['daisy/1.jpg', 'daisy/2.jpg']);
  });

  it('puts every file below a class folder in its class and says which are left out and why', () => {
    const paths = ['roses/3.png', 'daisy/sub/2.JPEG', 'daisy/1.jpg', 'roses/.DS_Store', 'notes.txt', 'roses/readme.md', '.git/config', 'tulips/'];
    expect(readClassFolders(paths, { imagesOnly: true })).toEqual({
      classes: [
        { name: 'daisy', dir: 'daisy', files: ['1.jpg', 'sub/2.JPEG'] },
        { name: 'roses', dir: 'roses', files: ['3.png'] },
        // A class folder given as such counts even without images (the seed then says it holds none).
        { name: 'tulips', dir: 'tulips', files: [] },
      ],
      skipped: [
        { file: '.git/config', reason: 'hidden entry in the dataset root' },
        { file: 'notes.txt', reason: 'file in the dataset root: only files inside class folders are images' },
        { file: 'roses/.DS_Store', reason: 'hidden entry' },
        { file: 'roses/readme.md', reason: 'not a JPEG, PNG, WebP, GIF, BMP or AVIF image' },
      ],
    });
    // The seed decodes every file to tell an image: it keeps the readme for that.
    expect(readClassFolders(paths).classes[1]).toEqual({ name: 'roses', dir: 'roses', files: ['3.png', 'readme.md'] });
  });

  it('sorts classes by code unit, the same in every locale', () => {
    const names = ['b', 'C', 'a', 'É', 'ä'];
    const { classes } = readClassFolders(names.map((n) => `${n}/1.jpg`));
    expect(classes.map((c) => c.name)).toEqual(['C', 'a', 'b', 'É', 'ä']);
    expect(classes.map((c) => c.name)).toEqual([...names].sort(byCodeUnit));
    expect(classes.map((c) => c.name)).not.toEqual([...names].sort((x, y) => x.localeCompare(y, 'en')));
  });

  it('names a class as the page does, and leaves out a second spelling of it (the first in code-unit order stays)', () => {
    const { classes, skipped } = readClassFolders(['caf\u00e9/2.jpg', 'cafe\u0301/1.jpg', 'daisy/6.jpg', 'Daisy/5.jpg', 'sun%3Aflowers/3.jpg', 'a\u2028b/4.jpg']);
    expect(classes).toEqual([
      { name: 'Daisy', dir: 'Daisy', files: ['5.jpg'] },
      { name: 'caf\u00e9', dir: 'cafe\u0301', files: ['1.jpg'] },
      { name: 'sun:flowers', dir: 'sun%3Aflowers', files: ['3.jpg'] },
    ]);
    expect(skipped).toEqual([
      { file: 'a\u2028b/', reason: 'A class name cannot contain U+2028 (line separator): class left out' },
      { file: 'caf\u00e9/', reason: 'the same class name as “caf\u00e9” (another case or Unicode spelling of it): class left out' },
      { file: 'daisy/', reason: 'the same class name as “Daisy” (another case or Unicode spelling of it): class left out' },
    ]);
  });

  it('leaves out a class whose name is too long once, and a file whose path is too long', () => {
    const long = 'x'.repeat(201);
    const deep = `${'d'.repeat(999)}/a.jpg`;
    const { classes, skipped } = readClassFolders([`${long}/1.jpg`, `${long}/2.jpg`, `roses/${deep}`, 'roses/1.jpg']);
    expect(classes).toEqual([{ name: 'roses', dir: 'roses', files: ['1.jpg'] }]);
    expect(skipped).toEqual([
      { file: `roses/${deep}`, reason: 'path below its class folder is 1005 characters long: at most 1000 are stored' },
      { file: `${long}/`, reason: 'class name is 201 characters long: at most 200 are stored; class left out' },
    ]);
  });
});
