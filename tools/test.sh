#!/usr/bin/env bash
# The test command (`npm test`): typecheck, build the page and the Worker, then every vitest project.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
npx tsc -p tsconfig.json
npx tsc -p tsconfig.worker.json
npx vite build --logLevel warn
# `npm run deploy` must build: bundle the Worker and its assets without uploading anything.
npx wrangler deploy --dry-run --outdir .local/deploy-dry-run > /dev/null
# The browser tests run last, on their own: they measure main-thread long tasks, which a machine busy with the
# Node tests would distort.
npx vitest run --project worker --project node "$@"
npx vitest run --project browser "$@"
