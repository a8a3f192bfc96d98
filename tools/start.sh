#!/usr/bin/env bash
# `npm start`: build the page, seed a new local store with the repository's defaults (the base model and demo
# dataset of defaults/; a store seeded before is left as it is), then serve page + API on http://127.0.0.1:8787
# with the local R2 in .state/ (what `npm run seed` fills). Offline: no Cloudflare account, no telemetry.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
npx vite build --logLevel warn
# A seed that fails says why above; the page still serves what the store holds.
npx tsx tools/seed-new-state.ts .state || echo "npm start: the defaults were not all seeded (see above); serving .state as it is."
exec npx tsx tools/serve.ts --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .state
