/**
 * Command-line bits `npm run eval` and `npm run bench` share: a usage error (exit 2) and whole-number flags.
 */

/** A command line that cannot be run; the message says what to change. */
export class UsageError extends Error {}

/** The flag's value as a whole number of at least `min`, or null when it was not given. */
export function wholeNumberFlag(text: string | undefined, flag: string, min: number): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} ${text} must be a whole number of at least ${min}`);
  return value;
}
