#!/usr/bin/env bash
# Runs a TypeScript tool with the project's offline environment: `bash tools/run.sh tools/seed.ts --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
exec npx tsx "$@"
