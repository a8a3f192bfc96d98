/**
 * A bounded wait: `work`, or an error naming `what` once `ms` pass without it settling. For the waits a browser
 * driver leaves unbounded (page.evaluate, a download's saveAs, closing a browser): a hang fails at its step, with
 * its name, instead of at a test's or a tool's own limit with none.
 */
export function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
