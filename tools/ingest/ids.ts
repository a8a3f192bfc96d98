/**
 * Default ids for models and datasets, made from folder and file names: readable where the name is Latin
 * ("Flower Photos" -> flower-photos, "Über" -> uber), and distinct where letters have no ASCII form
 * ("Цветы", "花"): those keep a short hash of the whole name, so two names never share an id by accident.
 */
import { MAX_NAME_LENGTH } from '../../shared/names';
import { sha256Hex } from '../../shared/sha256';

/** Hex digits of the name's sha256 appended when letters were lost: 32 bits, ample for one store. */
const SUFFIX_LENGTH = 8;

/** An id the API accepts (shared nameProblem), the same for the same name on every machine. */
export async function toId(name: string): Promise<string> {
  // NFKD splits accented letters into letter and mark; the marks go, the letters stay.
  const folded = name.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  const slug = folded
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|-+$/g, '');
  const lossless = slug !== '' && /^[\x00-\x7f]*$/.test(folded) && slug.length <= MAX_NAME_LENGTH;
  if (lossless) return slug;
  const suffix = (await sha256Hex(name)).slice(0, SUFFIX_LENGTH);
  const kept = slug.slice(0, MAX_NAME_LENGTH - SUFFIX_LENGTH - 1).replace(/[.-]+$/, '');
  return kept === '' ? suffix : `${kept}-${suffix}`;
}
