/**
 * `npm run seed`: stores base models and image datasets where Graft serves them from (the local R2 of
 * `npm start`, or a deployed Graft through its API). Usage: `npm run seed -- --help`.
 */
import { USAGE, UsageError, parseSeedArgs } from './ingest/options';
import { nextStep, seed } from './ingest/run';

try {
  const options = parseSeedArgs(process.argv.slice(2));
  if (options === null) console.log(USAGE);
  else {
    const report = await seed(options);
    if (report.results.some((r) => r.error === undefined)) console.log(nextStep(options));
    process.exitCode = report.exitCode;
  }
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`seed: ${error.message}\nRun \`npm run seed -- --help\` for the options.`);
  process.exitCode = 2;
}
