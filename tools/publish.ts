/**
 * `npm run publish`: lists, pins, unpins and deletes the classifiers published on a Graft. Usage:
 * `npm run publish -- --help`.
 */
import { parsePublishArgs, runPublishCli, USAGE, UsageError } from './publications/cli';

try {
  const options = parsePublishArgs(process.argv.slice(2));
  if (options === null) console.log(USAGE);
  else process.exitCode = await runPublishCli(options);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`publish: ${error.message}\nRun \`npm run publish -- --help\` for the options.`);
  process.exitCode = 2;
}
