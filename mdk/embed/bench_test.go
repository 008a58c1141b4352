package embed_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/embed"
)

// catalogPath is the shared benchmark catalog (see its README).
const catalogPath = "/work/shared/data/bench/catalog-5000.jsonl"

// benchProduct is the part of a catalog line the embedding benchmarks use.
type benchProduct struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	ProductClass string `json:"productClass"`
}

// loadCatalog reads the benchmark catalog, skipping the test (with the
// reason) on a machine without it.
func loadCatalog(tb testing.TB) []benchProduct {
	tb.Helper()
	f, err := os.Open(catalogPath)
	if err != nil {
		tb.Skipf("benchmark catalog not available: %v", err)
	}
	defer f.Close()
	var out []benchProduct
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p benchProduct
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			tb.Fatalf("decode %s line %d: %v", catalogPath, len(out)+1, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", catalogPath, err)
	}
	return out
}

// BenchmarkLocal measures texts a second: names (short, like queries) and
// name + description (a product). Run with -cpu 1 for one core.
func BenchmarkLocal(b *testing.B) {
	products := loadCatalog(b)
	names := make([]string, len(products))
	full := make([]string, len(products))
	for i, p := range products {
		names[i] = p.Name
		full[i] = p.Name + ". " + p.Description
	}
	l := embed.NewLocal(0)
	for _, bc := range []struct {
		name  string
		texts []string
	}{{"Names", names}, {"Products", full}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := l.Embed(context.Background(), bc.texts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(bc.texts))/b.Elapsed().Seconds(), "texts/s")
		})
	}
}
