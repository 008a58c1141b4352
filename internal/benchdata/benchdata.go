// Package benchdata is what the search benchmarks share: the path of the
// benchmark catalogs (../shared/data/bench, or HYPERRR_BENCH_DATA) and the
// search requests sent over them, so the operation, transport and GraphQL
// benchmarks measure the same mix and their figures compare.
package benchdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Search are search_catalog inputs (UCP catalog objects) as shoppers and
// agents send them: words, typos, natural language, filters, sorts, a price
// intent and a browse.
var Search = []string{
	`{"query":"bar cart"}`,
	`{"query":"green pine bar cart"}`,
	`{"query":"oak coffee table under $300"}`,
	`{"query":"outdoor bench"}`,
	`{"query":"bamboo planter","filters":{"categories":["Outdoor"]}}`,
	`{"query":"throw pillow","filters":{"price":{"max":5000}}}`,
	`{"query":"scandinavian walnut"}`,
	`{"query":"industrial desk lamp"}`,
	`{"query":"cofee tabel"}`,
	`{"query":"something to hold spices in a small kitchen"}`,
	`{"query":"couch"}`,
	`{"query":"bookshelf","sort":"price_asc"}`,
	`{"filters":{"categories":["Kitchen & Tabletop"]}}`,
	`{"query":"white traditional","pagination":{"limit":20}}`,
}

// Catalog returns the path of the benchmark catalog called name
// (catalog-50000.jsonl), skipping tb when it is missing.
func Catalog(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("HYPERRR_BENCH_DATA")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data", "bench")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("benchmark catalog %s is missing (set HYPERRR_BENCH_DATA to its folder): %v", path, err)
	}
	return path
}
