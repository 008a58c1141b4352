#!/usr/bin/env bash
# MCP conformance in CI: build hyperrr, serve it on a random free loopback
# port with a throwaway data directory, run the official MCP conformance
# suite (generic scenarios) and the official TypeScript SDK client against
# /mcp, then stop the server. Needs ../shared (checked out beside the repo),
# node and the npm registry (the harness installs its pinned packages).
set -euo pipefail
cd "$(dirname "$0")/.."

HARNESS="../shared/tools/mcp"
[ -x "$HARNESS/run_conformance.sh" ] || { echo "mcp.sh: $HARNESS/run_conformance.sh is missing (check out shared beside the repo)"; exit 1; }

. .ci/serve.sh
serve mcp
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
