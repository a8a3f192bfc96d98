/**
 * Validates path parameters (ids, file names) before anything reaches storage. Hono hands handlers
 * percent-decoded params, so an encoded '/' or '..' shows up here as itself and is refused.
 */
import { validator } from 'hono/validator';
import { nameProblem } from '../shared/names';
import { apiError } from './errors';

/**
 * Middleware: every listed param must be a safe name (shared nameProblem), else 400 naming the part.
 * @example models.get('/:id/:file', safeParams({ id: 'model id', file: 'file name' }), (c) => c.req.valid('param'))
 */
export function safeParams<K extends string>(labels: Record<K, string>) {
  return validator('param', (params: Record<string, string>) => {
    for (const [key, label] of Object.entries<string>(labels)) {
      const value = params[key] ?? '';
      const problem = nameProblem(value);
      if (problem) throw apiError(400, `bad ${label} ${JSON.stringify(value.slice(0, 80))}: it ${problem}`);
    }
    return params as Record<K, string>;
  });
}
