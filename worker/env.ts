/**
 * The Worker's bindings (wrangler.toml) and the Hono environment type every sub-app shares.
 */

export interface Env {
  /** The R2 bucket holding models, datasets, publications and the list index (layout in ./storage.ts). */
  STORE: R2Bucket;
  /** The built page (dist/client); the runtime serves it before the Worker runs. */
  ASSETS: Fetcher;
  /** Secret that write requests must present as a Bearer token; writes are refused while unset. */
  GRAFT_ADMIN_TOKEN?: string;
  /** Who may publish: unset or "admin" (the admin token), or "open" (anyone, within limits). See ./publish-policy.ts. */
  PUBLISH?: string;
  /** Days an open-mode publication lives (default 30). */
  PUBLISH_TTL_DAYS?: string;
  /** Publications per client per minute in open mode (wrangler.toml [[ratelimits]]). */
  PUBLISH_LIMITER: RateLimit;
}

export type AppEnv = { Bindings: Env };
