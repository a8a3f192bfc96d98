/**
 * The Graft API Worker (Hono): /api/models and /api/datasets over R2, plus /api/health. The built page
 * is served as static assets before this runs; whatever reaches the Worker outside /api gets a JSON 404.
 */
import { Hono } from 'hono';
import type { AppEnv } from './env';
import { methodNotAllowed, notFound, renderError } from './errors';
import { isolation } from './middleware/isolation';
import { datasets } from './routes/datasets';
import { models } from './routes/models';

const app = new Hono<AppEnv>();

app.use(isolation());
app.get('/api/health', (c) => c.json({ ok: true }));
app.all('/api/health', methodNotAllowed('GET, HEAD'));
app.route('/api/models', models);
app.route('/api/datasets', datasets);
app.notFound(notFound);
app.onError(renderError);

export default app;
