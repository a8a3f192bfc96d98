# Sourced by scripts: keeps wrangler, Chromium and caches offline and inside the project's ignored .local/.
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export XDG_CONFIG_HOME="${XDG_CONFIG_HOME:-$PWD/.local/config}"
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$PWD/.local/cache}"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
