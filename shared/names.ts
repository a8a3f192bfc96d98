/**
 * Names of stored things (model ids, dataset ids, file names) and content-addressed file names.
 * Used by the API (to refuse bad paths), by ingest (to make names) and by the client.
 */

/** Longest id or file name the API accepts. */
export const MAX_NAME_LENGTH = 128;

const SAFE_NAME = /^[a-z0-9._-]+$/;

/** Why `name` is not an acceptable id or file name, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (!SAFE_NAME.test(name)) return 'may contain only a-z, 0-9, ".", "_" and "-"';
  if (name.includes('..')) return 'may not contain ".."';
  if (name.startsWith('.')) return 'may not start with "."';
  return null;
}

/** Hex digits of the sha256 kept in a content-addressed name (128 bits). */
export const CONTENT_HASH_LENGTH = 32;

const CONTENT_NAME = new RegExp(`-([0-9a-f]{${CONTENT_HASH_LENGTH}})\\.[a-z0-9]+$`);

/** `<stem>-<first 32 hex of sha256>.<ext>`: the bytes behind such a name never change. */
export function contentAddressedName(stem: string, sha256Hex: string, ext: string): string {
  return `${stem}-${sha256Hex.slice(0, CONTENT_HASH_LENGTH)}.${ext}`;
}

/** The hash prefix a content-addressed name promises, or null for other names. */
export function contentHashOf(name: string): string | null {
  return CONTENT_NAME.exec(name)?.[1] ?? null;
}
