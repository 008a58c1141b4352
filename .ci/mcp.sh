#!/usr/bin/env bash
# MCP conformance in CI: build hyperrr, serve it on a random free loopback
# port with a throwaway data directory, run the official MCP conformance
# suite (generic scenarios) and the official TypeScript SDK client against
# /mcp, then stop the server. Needs ../shared (checked out beside the repo),
# node and the npm registry (the harness installs its pinned packages).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

HARNESS="../shared/tools/mcp"
[ -x "$HARNESS/run_conformance.sh" ] || { echo "mcp.sh: $HARNESS/run_conformance.sh is missing (check out shared beside the repo)"; exit 1; }

WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== mcp: build"
go build -o "$WORK/hyperrr" ./cmd/hyperrr

echo "== mcp: serve on a free loopback port"
HYPERRR_DATA_DIR="$WORK/data" HYPERRR_PRODUCT_EMBEDDER=none HYPERRR_LOG_LEVEL=warn \
  "$WORK/hyperrr" serve --addr 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
PID=$!
ready() { node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1/readyz"; }
BASE=""
for _ in $(seq 1 120); do
  BASE="$(grep -o 'serving http://[0-9.:]*' "$WORK/serve.log" | head -n 1 | sed 's/^serving //')" || true
  [ -n "$BASE" ] && ready "$BASE" && break
  kill -0 "$PID" 2>/dev/null || { echo "mcp.sh: the server exited:"; cat "$WORK/serve.log"; exit 1; }
  sleep 0.5
done
[ -n "$BASE" ] && ready "$BASE" || { echo "mcp.sh: the server is not ready after 60 s:"; cat "$WORK/serve.log"; exit 1; }
URL="$BASE/mcp"
echo "serving $URL"

echo "== mcp: conformance suite (generic scenarios)"
CONF="$("$HARNESS/run_conformance.sh" --generic --quiet --timeout 300 "$URL" | tail -n 1)" || true
echo "$CONF"
case "$CONF" in
  "conformance: "*" passed, 0 failed") ;;
  *) echo "mcp.sh: conformance failed"; exit 1 ;;
esac

echo "== mcp: TypeScript SDK client smoke (search_catalog, output schema validated)"
SMOKE="$(node "$HARNESS/client_smoke.mjs" "$URL" search_catalog '{"catalog":{"query":"oak table","pagination":{"limit":5}}}')" || { echo "$SMOKE"; echo "mcp.sh: client smoke failed"; exit 1; }
echo "$SMOKE" | head -c 600; echo
echo "$SMOKE" | grep -q '"ok":true' || { echo "mcp.sh: client smoke not ok"; exit 1; }

echo "== mcp: ok"
