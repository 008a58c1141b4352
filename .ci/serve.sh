# Sourced by the CI checks that need a running server (.ci/mcp.sh,
# .ci/graphql.sh): builds hyperrr, serves it on a free loopback port with a
# throwaway data directory and sets BASE (http://127.0.0.1:PORT) and WORK
# (a temp dir removed on exit, with serve.log in it). Node does the HTTP
# probing, so curl need not be installed.
export PATH="$PATH:/usr/local/go/bin"
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

# fetch URL [FILE]: GET URL, exit non-zero unless 2xx; the body goes to FILE.
fetch() {
  node -e 'fetch(process.argv[1]).then(async r => { if (process.argv[2]) require("fs").writeFileSync(process.argv[2], await r.text()); process.exit(r.ok ? 0 : 1) }, () => process.exit(1))' "$1" "${2:-}"
}

# serve NAME: start the server and wait until /readyz answers (60 s at most).
serve() {
  echo "== $1: build and serve"
  go build -o "$WORK/hyperrr" ./cmd/hyperrr
  HYPERRR_DATA_DIR="$WORK/data" HYPERRR_PRODUCT_EMBEDDER=none HYPERRR_LOG_LEVEL=warn \
    "$WORK/hyperrr" serve --addr 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
  PID=$!
  BASE=""
  for _ in $(seq 1 120); do
    BASE="$(grep -o 'serving http://[0-9.:]*' "$WORK/serve.log" | head -n 1 | sed 's/^serving //')" || true
    [ -n "$BASE" ] && fetch "$BASE/readyz" && return 0
    kill -0 "$PID" 2>/dev/null || { echo "$1: the server exited:"; cat "$WORK/serve.log"; exit 1; }
    sleep 0.5
  done
  echo "$1: the server is not ready after 60 s:"; cat "$WORK/serve.log"; exit 1
}
