#!/usr/bin/env bash
# The test command (`npm test`): typecheck, build the page, then every vitest project.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
npx tsc -p tsconfig.json
npx tsc -p tsconfig.worker.json
npx vite build --logLevel warn
npx vitest run "$@"
