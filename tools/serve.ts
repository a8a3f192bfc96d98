/**
 * `npm start`'s server, and the one tools/graft-server.ts runs for tests, eval and bench: Graft on wrangler's dev
 * environment (tools/local-server.ts). wrangler prints `Ready on <origin>` once it listens; SIGINT or SIGTERM stops it.
 */
import { parseArgs } from 'node:util';
import { serve } from './local-server';

/** `tsx tools/serve.ts --ip 127.0.0.1 --port 8787 --persist-to .state [--var NAME:VALUE ...]` */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ip: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8787' },
      'persist-to': { type: 'string', default: '.state' },
      var: { type: 'string', multiple: true, default: [] },
    },
  });
  const vars = Object.fromEntries(values.var.map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)]));
  const serving = await serve({
    ip: values.ip,
    port: Number(values.port),
    persistTo: values['persist-to'],
    vars,
    onError: (reason) => console.warn(`Graft's server: ${reason}. Still serving.`),
  });
  const stop = (): void => void serving.stop().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`Graft's server did not start: ${error.message}`);
  process.exit(1);
});
