package product_test

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/internal/benchdata"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

// BenchmarkCatalog50k imports the 50,000-product benchmark catalog on
// SQLite, then measures what a server on it does: the start-up index build
// with stored embeddings, search_catalog latency through the operation
// (products read from SQL included), and resident memory.
func BenchmarkCatalog50k(b *testing.B) {
	path := benchdata.Catalog(b, "catalog-50000.jsonl")
	ctx := context.Background()
	cfg := gateway.DefaultConfig()
	cfg.DataDir = b.TempDir()
	open := func() (*gateway.Gateway, *product.Module) {
		m := product.New()
		g, err := gateway.Open(ctx, gateway.Options{Config: cfg, Modules: []mdk.Module{m}, Environ: []string{}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		return g, m
	}
	// Import, then a first start embeds every product in the background.
	g, m := open()
	importFile(b, m, path)
	if err := g.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if err := m.WaitSearchReady(ctx); err != nil {
		b.Fatal(err)
	}
	g.Close()

	// A restart builds the index from SQL and the stored embeddings.
	runtime.GC()
	g, m = open()
	defer g.Close()
	start := time.Now()
	if err := g.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if err := m.WaitSearchReady(ctx); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	if n, _ := m.SearchStatus(); n != 50000 {
		b.Fatalf("index holds %d products, want 50000", n)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, ann := m.SearchStatus(); ann {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("ANN index not built in 2 minutes")
		}
	}
	annReady := time.Since(start)
	anon := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range benchdata.Search {
			t := time.Now()
			if _, err := g.Ops().CallJSON(anon, "search_catalog", []byte(q)); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
			lat = append(lat, time.Since(t))
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(build.Seconds(), "startup_build_s")
	b.ReportMetric(annReady.Seconds(), "ann_ready_s")
	b.ReportMetric(float64(rssBytes(b))/(1<<20), "rss_MB")
}

// rssBytes reads this process's resident set size.
func rssBytes(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
