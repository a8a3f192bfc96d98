/**
 * The Worker's bindings (wrangler.toml) and the Hono environment type every sub-app shares.
 */

export interface Env {
  /** The R2 bucket holding models, datasets and the list index (layout in ./storage.ts). */
  STORE: R2Bucket;
  /** The built page (dist/client); the runtime serves it before the Worker runs. */
  ASSETS: Fetcher;
  /** Secret that write requests must present as a Bearer token; writes are refused while unset. */
  GRAFT_ADMIN_TOKEN?: string;
}

export type AppEnv = { Bindings: Env };
