/**
 * Who may publish, as the host set it in wrangler.toml [vars] (or .dev.vars): PUBLISH unset or "admin" needs
 * the admin token; "open" lets anyone publish within the limits a public demo needs (size, a per-client rate
 * limit through the PUBLISH_LIMITER binding, expiry after PUBLISH_TTL_DAYS). The admin's own publications are
 * pinned: the host made them on purpose and removes them with `npm run publish -- --delete`.
 */
import type { Context } from 'hono';
import {
  DEFAULT_PUBLISH_TTL_DAYS,
  MAX_ADMIN_PUBLICATION_BYTES,
  MAX_OPEN_PUBLICATION_BYTES,
  type PublishPolicy,
} from '../shared/publication';
import type { AppEnv, Env } from './env';
import { apiError } from './errors';
import { adminCredential, unauthorized } from './middleware/admin-auth';

/** The rate limiter's window (wrangler.toml [[ratelimits]] simple.period): a refused client may try again after it. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

const misconfigured = (message: string) => apiError(503, `publishing is misconfigured on this server: ${message}`);

export function publishPolicy(env: Env): PublishPolicy {
  const mode = (env.PUBLISH ?? 'admin').trim().toLowerCase();
  if (mode !== 'admin' && mode !== 'open') throw misconfigured(`PUBLISH is ${JSON.stringify(env.PUBLISH)}; set it to "admin" or "open"`);
  const ttl = env.PUBLISH_TTL_DAYS === undefined || env.PUBLISH_TTL_DAYS.trim() === '' ? DEFAULT_PUBLISH_TTL_DAYS : Number(env.PUBLISH_TTL_DAYS);
  if (!Number.isFinite(ttl) || ttl <= 0 || ttl > 3650) {
    throw misconfigured(`PUBLISH_TTL_DAYS is ${JSON.stringify(env.PUBLISH_TTL_DAYS)}; set it to a number of days above 0 and at most 3650`);
  }
  return { mode, maxBytes: MAX_OPEN_PUBLICATION_BYTES, ttlDays: ttl };
}

export interface Publisher {
  who: 'admin' | 'visitor';
  maxBytes: number;
  /** Visitors' publications expire; the admin's are pinned. */
  pinned: boolean;
  ttlDays: number;
}

/**
 * Who is publishing: the admin (with the token, in either mode) or, when publishing is open, a visitor, who is
 * counted against the rate limit (429 with Retry-After once over it). 401 for a wrong token, or no token in admin mode.
 */
export async function publisherOf(c: Context<AppEnv>): Promise<Publisher> {
  const policy = publishPolicy(c.env);
  if ((await adminCredential(c)) === 'admin') {
    return { who: 'admin', maxBytes: MAX_ADMIN_PUBLICATION_BYTES, pinned: true, ttlDays: policy.ttlDays };
  }
  if (policy.mode === 'admin') {
    throw unauthorized(
      c.env.GRAFT_ADMIN_TOKEN
        ? 'publishing on this server needs the admin token: an Authorization: Bearer <admin token> header'
        : 'publishing is disabled: PUBLISH is "admin" and the server has no GRAFT_ADMIN_TOKEN set',
    );
  }
  const { success } = await c.env.PUBLISH_LIMITER.limit({ key: clientKey(c.req.header('CF-Connecting-IP')) });
  if (!success) {
    throw apiError(429, `too many publications from your address: try again in ${RATE_LIMIT_PERIOD_SECONDS} seconds`, {
      'Retry-After': String(RATE_LIMIT_PERIOD_SECONDS),
    });
  }
  return { who: 'visitor', maxBytes: policy.maxBytes, pinned: false, ttlDays: policy.ttlDays };
}

/**
 * The rate limit's key for a client address (Cloudflare sets CF-Connecting-IP): an IPv4 address as it is, an
 * IPv6 address by its /64 network, which one subscriber usually holds whole (so rotating addresses in it does not
 * reset the count). Requests without the header (not through Cloudflare) share one key.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const rest = tail === '' ? [] : tail.split(':');
    groups.push(...new Array(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest);
  }
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
