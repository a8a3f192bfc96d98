#!/usr/bin/env bash
# `npm start`: build the page, then serve page + API on http://127.0.0.1:8787 with the local R2 in .state/
# (what `npm run seed` fills). Offline: no Cloudflare account, no telemetry.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
npx vite build --logLevel warn
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .state --show-interactive-dev-session=false
