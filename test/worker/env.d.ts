/**
 * Types for the worker tests: `env` from 'cloudflare:workers' carries the Worker's bindings, `exports`
 * its default export, 'cloudflare:test' its reset(), and Vite's `?raw` / `?url&inline` imports bring in the real files of ../shared.
 */
/// <reference types="vite/client" />
/// <reference types="@cloudflare/vitest-pool-workers/types" />
import type { Env as GraftEnv } from '../../worker/env';

declare global {
  namespace Cloudflare {
    interface Env extends GraftEnv {}
    interface GlobalProps {
      mainModule: typeof import('../../worker/index');
    }
  }
}
