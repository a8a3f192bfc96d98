/** A file of a source that was left out, and why: ingest never drops a file without saying so. */
export interface SkippedFile {
  /** Path relative to the source's root, with "/" separators. */
  file: string;
  reason: string;
}
