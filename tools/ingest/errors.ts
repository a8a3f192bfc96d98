/**
 * The one error ingest expects: a source (dataset, model) or target it cannot use. Its message is meant
 * for the person running `npm run seed` and is printed without a stack.
 */
export class SourceError extends Error {
  override name = 'SourceError';
}
