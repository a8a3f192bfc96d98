/**
 * The Graft API Worker (Hono): /api/models, /api/datasets and /api/publications over R2, plus /api/health, and
 * the Cron Trigger's sweep of expired publications. The built page (the classify page /m/<id> included) is served
 * as static assets before this runs; whatever reaches the Worker outside /api gets a JSON 404.
 */
import { Hono } from 'hono';
import type { AppEnv, Env } from './env';
import { methodNotAllowed, notFound, renderError } from './errors';
import { isolation } from './middleware/isolation';
import { sweepPublications } from './publication-store';
import { datasets } from './routes/datasets';
import { models } from './routes/models';
import { publications } from './routes/publications';

export const app = new Hono<AppEnv>();

app.use(isolation());
app.get('/api/health', (c) => c.json({ ok: true }));
app.all('/api/health', methodNotAllowed('GET, HEAD'));
app.route('/api/models', models);
app.route('/api/datasets', datasets);
app.route('/api/publications', publications);
app.notFound(notFound);
app.onError(renderError);

export default {
  fetch: app.fetch,
  /** wrangler.toml [triggers] crons: deletes expired publications and what dead uploads left. */
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      sweepPublications(env.STORE, controller.scheduledTime).then((report) => {
        if (report.expired.length + report.orphans.length > 0) console.log('publication sweep', JSON.stringify(report));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
