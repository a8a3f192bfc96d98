/**
 * What a class name may be, for every place one is made or written: the page's sample store, the dataset zip
 * (export and import), the seed's class folders and the TFLite labels. Names are kept NFC-normalised. Two names
 * are one class when they differ only in case or in Unicode normalisation ("café" typed as é or as e + ◌́),
 * compared by full case mapping, so "Straße" and "STRASSE" are one name too: a case-insensitive file system
 * holds them as one folder or refuses the second, and a visitor who types both means one class. Characters that
 * end a line somewhere (labels.txt is read line by line, Python's splitlines() also splits on U+0085, U+2028,
 * U+2029 and a few controls), other control characters, and invisible format characters that make two names
 * look alike or reorder how one is shown, are refused with a message naming the character. Zero-width joiners
 * stay (emoji sequences and several scripts need them).
 */
import { MAX_CLASS_NAME_LENGTH } from './records';

export const normalizeClassName = (name: string): string => name.normalize('NFC');

/** The form two names are compared in: NFC, then full case mapping (upper, then lower, as String does it). */
export const classNameKey = (name: string): string => name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');

export const sameClassName = (a: string, b: string): boolean => classNameKey(a) === classNameKey(b);

/**
 * Controls (Cc: U+0000–U+001F, U+007F–U+009F, among them U+0085), line and paragraph separators, lone surrogates,
 * and the invisible format characters chosen here: soft hyphen, Arabic letter mark, Mongolian vowel separator,
 * zero width space, left-to-right and right-to-left marks, bidi embeddings, overrides and isolates, word joiner
 * and invisible operators, and the byte order mark.
 */
const REFUSED = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

const CHARACTER_NAMES: Record<string, string> = {
  '\t': 'tab',
  '\n': 'line feed',
  '\r': 'carriage return',
  '\u0085': 'next line',
  '\u00ad': 'soft hyphen',
  '\u200b': 'zero width space',
  '\u200e': 'left-to-right mark',
  '\u200f': 'right-to-left mark',
  '\u202e': 'right-to-left override',
  '\u2028': 'line separator',
  '\u2029': 'paragraph separator',
  '\ufeff': 'byte order mark',
};

/** "U+2028 (line separator)": a character as a message names it. */
export function describeCharacter(character: string): string {
  const code = character.codePointAt(0)!;
  const kind =
    CHARACTER_NAMES[character] ??
    (/\p{Cc}/u.test(character) ? 'a control character' : /\p{Cs}/u.test(character) ? 'half of a character: a lone surrogate' : 'an invisible formatting character');
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} (${kind})`;
}

/**
 * The first character of `name` that ends a line for some reader of a text file, described ("U+2028 (line
 * separator)"), or null: controls (\n, \r, U+0085, and U+001C–U+001E for Python's splitlines()) and the line and
 * paragraph separators.
 */
export function lineBreakIn(name: string): string | null {
  const found = /[\p{Cc}\p{Zl}\p{Zp}]/u.exec(name);
  return found ? describeCharacter(found[0]) : null;
}

/** Why `name` holds a character no class name may have (naming the first), or null. */
export function classNameCharacterProblem(name: string): string | null {
  const found = REFUSED.exec(name);
  return found ? `A class name cannot contain ${describeCharacter(found[0])}.` : null;
}

/**
 * Why `name` cannot name a class beside `others`, or null. A class is a folder in the exported zip, so the name
 * must be a usable folder name (characters Windows refuses are escaped there: folderNameOf).
 */
export function classNameProblem(name: string, others: readonly string[]): string | null {
  const normalized = normalizeClassName(name);
  if (normalized.trim() !== normalized) return 'A class name cannot start or end with a space.';
  if (normalized.length === 0) return 'A class needs a name.';
  if (normalized.length > MAX_CLASS_NAME_LENGTH) return `A class name can have at most ${MAX_CLASS_NAME_LENGTH} characters.`;
  if (/[/\\]/.test(normalized)) return 'A class name cannot contain “/” or “\\”.';
  if (normalized.startsWith('.')) return 'A class name cannot start with “.”.';
  const character = classNameCharacterProblem(normalized);
  if (character) return character;
  // Named as typed: the class there may differ in case or spelling only.
  if (others.some((other) => sameClassName(other, normalized))) return `There is already a class named “${normalized}”.`;
  return null;
}

/** Windows device names, with any extension: CON, PRN, AUX, NUL, COM0–9 and LPT0–9 (also with ¹ ² ³). */
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])\s*(\..*)?$/i;

/** Characters Windows refuses in a file name, the escape character itself, and what no class name may hold. */
const ESCAPED = /[<>:"/\\|?*%\p{Cc}\p{Zl}\p{Zp}\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/** "%XX" for each UTF-8 byte of `character`. */
const percentEncoded = (character: string) =>
  Array.from(new TextEncoder().encode(character), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * The folder name a class is exported under, one Windows, macOS and Linux all hold: characters Windows refuses
 * (< > : " / \ | ? * and controls) and “%” are percent-encoded (UTF-8, as in a URL), and so are a trailing dot or
 * space, a leading dot, and the first letter of a device name ("CON" -> "%43ON"). classNameOfFolder undoes it.
 */
export function folderNameOf(className: string): string {
  let folder = className.replace(ESCAPED, percentEncoded);
  if (DEVICE_NAME.test(folder) || folder.startsWith('.')) folder = percentEncoded(folder[0]!) + folder.slice(1);
  const last = folder.at(-1);
  if (last === '.' || last === ' ') folder = folder.slice(0, -1) + percentEncoded(last);
  return folder;
}

/**
 * The class a folder name stands for: runs of %XX that spell UTF-8 decoded (so a folderNameOf name comes back
 * as it was), anything else kept as it is; then NFC.
 */
export function classNameOfFolder(folder: string): string {
  const decoded = folder.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  return normalizeClassName(decoded);
}
