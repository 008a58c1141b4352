#!/usr/bin/env bash
# GraphQL schema checks in CI, with graphql-js (the reference implementation,
# pinned, installed from npm into a cache):
#   1. the committed schema graph/schema.graphql is a valid schema;
#   2. it is the schema `hyperrr serve` serves at /graphql/schema.graphql
#      (built, served on a free loopback port with a throwaway data directory);
#   3. against the base revision's graph/schema.graphql (GRAPHQL_BASE_REF,
#      default HEAD~1), every breaking change is recorded in CHANGELOG.md: the
#      changed type or field (e.g. `Query.products`) appears in it.
#      GRAPHQL_BASE_FILE=path compares against a schema file instead.
# Needs node >= 18 and the npm registry. Cache: HYPERRR_GRAPHQL_CI_CACHE
# (default /tmp/hyperrr-graphql-ci).
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHQL_JS="graphql@16.15.0"
CACHE="${HYPERRR_GRAPHQL_CI_CACHE:-/tmp/hyperrr-graphql-ci}"
BASE_REF="${GRAPHQL_BASE_REF:-HEAD~1}"

. .ci/serve.sh

echo "== graphql: install $GRAPHQL_JS"
if [ "$(node -p 'try{require(process.argv[1]+"/node_modules/graphql/package.json").version}catch(e){""}' "$CACHE" 2>/dev/null)" != "${GRAPHQL_JS#graphql@}" ]; then
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-save --no-audit --no-fund --loglevel=error "$GRAPHQL_JS" >/dev/null
fi

serve graphql
fetch "$BASE/graphql/schema.graphql" "$WORK/served.graphql"

if [ -n "${GRAPHQL_BASE_FILE:-}" ]; then
  cp "$GRAPHQL_BASE_FILE" "$WORK/base.graphql"
  echo "== graphql: breaking changes since $GRAPHQL_BASE_FILE"
elif git cat-file -e "$BASE_REF:graph/schema.graphql" 2>/dev/null; then
  git show "$BASE_REF:graph/schema.graphql" >"$WORK/base.graphql"
  echo "== graphql: breaking changes since $BASE_REF"
else
  echo "== graphql: $BASE_REF has no graph/schema.graphql; no breaking-change baseline"
fi

cat >"$WORK/check.cjs" <<'JS'
const fs = require("fs");
const g = require(process.env.GRAPHQL_JS_DIR + "/node_modules/graphql");
const [committedPath, servedPath, basePath, changelogPath] = process.argv.slice(2);
let failed = false;
const fail = (msg) => { console.log("FAIL " + msg); failed = true; };
const load = (path) => {
  const schema = g.buildSchema(fs.readFileSync(path, "utf8"));
  const errs = g.validateSchema(schema);
  if (errs.length) fail(path + " is not a valid schema:\n  " + errs.map(String).join("\n  "));
  return schema;
};
const print = (s) => g.printSchema(g.lexicographicSortSchema(s));
const committed = load(committedPath);
const served = load(servedPath);
if (print(committed) !== print(served)) {
  fail("graph/schema.graphql differs from the served schema: run UPDATE_SCHEMA=1 go test ./graph -run TestSchemaSnapshot");
} else {
  console.log("ok   the committed schema is valid and is the served schema");
}
if (fs.existsSync(basePath)) {
  const changelog = fs.readFileSync(changelogPath, "utf8");
  const base = load(basePath);
  const breaking = g.findBreakingChanges(base, committed);
  for (const c of breaking) {
    const coord = c.description.split(" ")[0].replace(/\.$/, "");
    if (changelog.includes(coord)) console.log("ok   breaking, recorded in CHANGELOG.md: " + c.description);
    else fail("breaking change not recorded in CHANGELOG.md (name " + coord + " there): " + c.description);
  }
  for (const c of g.findDangerousChanges(base, committed)) console.log("note dangerous change: " + c.description);
  if (!breaking.length) console.log("ok   no breaking changes");
}
process.exit(failed ? 1 : 0);
JS
GRAPHQL_JS_DIR="$CACHE" node "$WORK/check.cjs" graph/schema.graphql "$WORK/served.graphql" "$WORK/base.graphql" CHANGELOG.md
