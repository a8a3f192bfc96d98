/**
 * Serves Graft locally (`npm start`, and every test, eval and bench server): wrangler's own dev environment, the
 * one `wrangler dev` runs (the built page as assets, the API over a local R2 in the state folder, wrangler.toml
 * and .dev.vars), started through wrangler's API so that one failed request does not end the server.
 *
 * Why not the `wrangler dev` command: when the proxy in front of the Worker fails to forward one request (a
 * browser that leaves mid-request on a slow machine is enough), wrangler 4.86's command treats it as fatal and
 * exits, and every later request is refused (cloudflare/workers-sdk#15203, #15317; a CI run lost four tests to
 * it). The dev environment reports that failure as an event; here it is logged, and the server goes on.
 */
import { unstable_DevEnv as DevEnv } from 'wrangler';

export interface ServeOptions {
  /** Address to listen on. */
  ip: string;
  /** 0: a free port the OS picks. */
  port: number;
  /** State folder, as `wrangler dev --persist-to` (its R2 lives in <persistTo>/v3). */
  persistTo: string;
  /** wrangler.toml [vars] to override, and secrets such as GRAFT_ADMIN_TOKEN. */
  vars?: Record<string, string>;
  /** Told of each error the dev environment reports once serving (a request the proxy failed to forward); the
   * server goes on. */
  onError?: (reason: string) => void;
}

export interface Serving {
  /** e.g. http://127.0.0.1:8787 */
  origin: string;
  /** The dev environment, for tests that speak to its proxy. */
  devEnv: DevEnv;
  stop(): Promise<void>;
}

/** What the dev environment emits as 'error': an Error (a user error such as a port in use), or its controllers'
 * event, whose cause may wrap the error the proxy sent as JSON. */
type DevEnvError = Error | { reason?: string; cause?: { message?: string; cause?: { message?: string } } };

function describeError(event: DevEnvError): string {
  if (event instanceof Error) return event.message;
  return [event.reason, event.cause?.message || event.cause?.cause?.message].filter(Boolean).join(': ') || 'an error';
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const devEnv = new DevEnv();
  // Before it serves, an error (the port is taken, say) means it never will; after, it is one request's.
  let failStart: (error: Error) => void = () => {};
  const startFailed = new Promise<never>((_, reject) => (failStart = reject));
  // Raced below; if startWorker() throws first, nothing awaits it, and a later 'error' must not crash the process.
  startFailed.catch(() => {});
  let serving = false;
  devEnv.on('error', (event: DevEnvError) => (serving ? options.onError?.(describeError(event)) : failStart(new Error(describeError(event)))));
  const worker = await devEnv.startWorker({
    config: 'wrangler.toml',
    bindings: Object.fromEntries(Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: 'plain_text', value }])),
    dev: {
      remote: false,
      persist: options.persistTo,
      server: { hostname: options.ip, port: options.port },
      inspector: false,
      watch: false,
    },
  });
  try {
    const url = await Promise.race([worker.url, startFailed]);
    serving = true;
    return { origin: url.origin, devEnv, stop: () => worker.dispose() };
  } catch (error) {
    // Not worker.dispose(): it waits for the proxy to be ready, which it never will be.
    await devEnv.teardown();
    throw error;
  }
}
