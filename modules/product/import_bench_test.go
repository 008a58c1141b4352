package product_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/internal/benchdata"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product"
)

// openProduct opens a gateway running only commerce.product on a fresh
// database of engine e; seedDemo is passed to the module's runtime.
func openProduct(tb testing.TB, e sqldb.Engine, seedDemo bool) (*gateway.Gateway, *product.Module) {
	tb.Helper()
	db := dbtest.Config(tb, e)
	cfg := gateway.DefaultConfig()
	cfg.DataDir, cfg.DatabaseURL, cfg.ShutdownTimeout = db.DataDir, db.URL, 5*time.Second
	m := product.New()
	g, err := gateway.Open(context.Background(), gateway.Options{
		Config: cfg, Modules: []mdk.Module{m}, Environ: []string{}, SeedDemo: seedDemo, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(g.Close)
	return g, m
}

// benchCatalog returns the path of a benchmark catalog
// (../shared/data/bench, or $HYPERRR_BENCH_DATA), skipping b when it is
// not there.
func importFile(b *testing.B, m *product.Module, path string) product.ImportResult {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	res, err := m.Import(context.Background(), f, product.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if res.Failed > 0 {
		b.Fatalf("%d rows failed: %v", res.Failed, res.Errors[0].Error())
	}
	return res
}

// BenchmarkImportBench imports the benchmark catalogs into an empty store
// (one op is one whole file), then re-imports them unchanged. Run with
// -benchtime=1x: one 50,000-product import is several seconds.
//
//	go test ./modules/product -run '^$' -bench ImportBench -benchtime=1x
func BenchmarkImportBench(b *testing.B) {
	for _, name := range []string{"catalog-5000.jsonl", "catalog-50000.jsonl"} {
		for _, e := range dbtest.Engines() {
			b.Run(fmt.Sprintf("%s/%s/import", name, e), func(b *testing.B) {
				path := benchdata.Catalog(b, name)
				var res product.ImportResult
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					_, m := openProduct(b, e, false)
					b.StartTimer()
					res = importFile(b, m, path)
				}
				b.ReportMetric(float64(res.Created)*float64(b.N)/b.Elapsed().Seconds(), "products/s")
			})
			b.Run(fmt.Sprintf("%s/%s/reimport", name, e), func(b *testing.B) {
				path := benchdata.Catalog(b, name)
				_, m := openProduct(b, e, false)
				importFile(b, m, path)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if res := importFile(b, m, path); res.Unchanged == 0 || res.Created+res.Updated > 0 {
						b.Fatalf("re-import wrote: %+v", res)
					}
				}
			})
		}
	}
}
