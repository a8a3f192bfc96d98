/**
 * Command-line bits `npm run eval` and `npm run bench` share: flag parsing that turns mistakes into a usage
 * error (exit 2), whole-number and backend flags, and the exit codes of a run.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BACKEND_CHOICES, type BackendChoice } from '../../shared/farm';

/** A command line that cannot be run; the message says what to change. */
export class UsageError extends Error {}

/** The parsed flags (strict: an unknown flag or a missing value is a UsageError). */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, strict: true, options }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The flag's value as a whole number of at least `min`, or null when it was not given. */
export function wholeNumberFlag(text: string | undefined, flag: string, min: number): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} ${text} must be a whole number of at least ${min}`);
  return value;
}

/** --backend, 'auto' when not given. */
export function backendFlag(text: string | undefined): BackendChoice {
  const backend = (text ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend ${text} must be one of ${BACKEND_CHOICES.join(', ')}`);
  return backend;
}

/** Runs a command's main: exit 2 with a hint for a usage error, 1 with the message for any other failure. */
export async function runCommand(name: string, main: () => Promise<void>, options: { stack?: boolean } = {}): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}\nRun \`npm run ${name} -- --help\` for the options.`);
      process.exitCode = 2;
    } else {
      const text = error instanceof Error ? (options.stack ? (error.stack ?? error.message) : error.message) : String(error);
      console.error(`${name}: ${text}`);
      process.exitCode = 1;
    }
  }
}
