/**
 * Byte ranges: reading a Range request header, and the span R2 actually served.
 *
 * Only a single `bytes` range is honoured (bytes=a-b, bytes=a-, bytes=-n). RFC 9110 (section 14.2) lets
 * a server ignore Range, and this one does for other units, malformed or inverted ranges and
 * multi-range requests: they get the whole object with 200 rather than multipart/byteranges.
 */

const SINGLE_BYTE_RANGE = /^bytes=(\d*)-(\d*)$/;

/** The R2 range a Range header asks for, or undefined to serve the whole object. */
export function requestedRange(header: string | null): R2Range | undefined {
  const match = header === null ? null : SINGLE_BYTE_RANGE.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') return last === '' ? undefined : { suffix: Number(last) };
  const offset = Number(first);
  if (last === '') return { offset };
  const end = Number(last);
  return end < offset ? undefined : { offset, length: end - offset + 1 };
}

/** R2Range with every field optional: R2 reports served ranges with the unused fields present but undefined. */
type LooseRange = { offset?: number; length?: number; suffix?: number };

/** Whether `range` selects at least one byte of an object of `size` bytes. */
export function isSatisfiable(range: R2Range, size: number): boolean {
  const { offset = 0, suffix } = range as LooseRange;
  return suffix !== undefined ? suffix > 0 && size > 0 : offset < size;
}

/** First byte and length of what R2 served for `range` (R2 may echo the request or report it resolved). */
export function servedSpan(range: R2Range, size: number): { offset: number; length: number } {
  const { offset = 0, length, suffix } = range as LooseRange;
  if (suffix !== undefined) {
    const served = Math.min(suffix, size);
    return { offset: size - served, length: served };
  }
  return { offset, length: Math.min(length ?? size - offset, size - offset) };
}
