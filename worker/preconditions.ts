/**
 * Conditional request headers as RFC 9110 (section 13) reads them: entity tags in If-None-Match, and the
 * validator in If-Range. What cannot be parsed never matches, so a bad header costs a full answer, not a 500.
 */

/** One entity tag: optional W/, then a quoted string of etagc characters (no '"', no spaces or controls). */
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/** List members, keeping commas inside quoted tags (an etagc may be ','). */
const LIST_MEMBER = /(?:[^,"]|"[^"]*"?)+/g;

/**
 * The If-None-Match value to hand R2: "*" or the members that are entity tags, or undefined when none is
 * (R2 throws on a tag it cannot parse; RFC 9110 treats such a tag as not matching).
 */
export function parsedIfNoneMatch(header: string | null): string | undefined {
  if (header === null) return undefined;
  const members = (header.match(LIST_MEMBER) ?? []).map((member) => member.trim());
  if (members.length === 1 && members[0] === '*') return '*';
  const tags = members.filter((member) => ENTITY_TAG.test(member));
  return tags.length > 0 ? tags.join(', ') : undefined;
}

/**
 * Whether a Range request may be answered with a part (RFC 9110, 13.1.5): with no If-Range, or when it
 * holds exactly the current strong ETag. A weak tag, a date (no Last-Modified is ever sent) or a stale tag
 * means the client's copy is not this file: it gets the whole file instead of a part it would splice wrongly.
 */
export function rangeStillApplies(ifRange: string | null, currentEtag: string): boolean {
  return ifRange === null || ifRange.trim() === currentEtag;
}
