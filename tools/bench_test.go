package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/internal/benchdata"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

const benchClients = 16

// BenchmarkSearchCatalog50k measures search_catalog over streamable HTTP
// (a stateless tools/call POST per search, as agents behind a load
// balancer send them) at 16 concurrent clients against the 50,000-product
// benchmark catalog, beside a bare net/http handler that calls the same
// operation and writes its result with encoding/json, in the same run:
//
//	go test ./tools -run '^$' -bench SearchCatalog50k -benchtime 4000x
//
// Each op is one search on each transport.
func BenchmarkSearchCatalog50k(b *testing.B) {
	path := benchdata.Catalog(b, "catalog-50000.jsonl")
	ctx := context.Background()
	cfg := gateway.DefaultConfig()
	cfg.DataDir = b.TempDir()
	m := product.New()
	g, err := gateway.Open(ctx, gateway.Options{Config: cfg, Modules: []mdk.Module{m}, Environ: environ(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	res, err := m.Import(ctx, f, product.ImportOptions{})
	f.Close()
	if err != nil || res.Failed > 0 {
		b.Fatalf("import: %+v, %v", res, err)
	}
	if err := g.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if err := m.WaitSearchReady(ctx); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if _, ann := m.SearchStatus(); ann {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("vector index not ready in 5 minutes")
		}
	}
	// The import's 50,000 product events reach the index through the
	// relay after start: measure once they have all been applied.
	for deadline, last := time.Now().Add(5*time.Minute), m.SearchGeneration(); ; {
		time.Sleep(time.Second)
		now := m.SearchGeneration()
		if now == last {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("search index still taking in changes after 5 minutes")
		}
		last = now
	}

	mcpSrv := httptest.NewServer(g.Handler())
	defer mcpSrv.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := g.Ops().CallJSON(r.Context(), "search_catalog", body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out) //nolint:errcheck // the benchmark client checks the status
	}))
	defer bare.Close()

	mcpBodies := make([][]byte, len(benchdata.Search))
	for i, q := range benchdata.Search {
		mcpBodies[i] = []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"search_catalog","arguments":{"catalog":%s}}}`, i, q))
	}
	bareBodies := make([][]byte, len(benchdata.Search))
	for i, q := range benchdata.Search {
		bareBodies[i] = []byte(q)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	mcpURL := mcpSrv.URL + "/mcp"
	// Warm both paths, then alternate them in rounds (MCP first, then bare
	// first) so that neither gets the quieter half of the run.
	warm := 4 * benchClients * len(benchdata.Search)
	load(b, client, mcpURL, mcpBodies, true, warm)
	load(b, client, bare.URL, bareBodies, false, warm)
	var mcp, bareRun loadResult
	const rounds = 4
	b.ResetTimer()
	for r := range rounds {
		n := b.N / rounds
		if r == rounds-1 {
			n = b.N - n*(rounds-1)
		}
		if r%2 == 0 {
			mcp.add(load(b, client, mcpURL, mcpBodies, true, n))
			bareRun.add(load(b, client, bare.URL, bareBodies, false, n))
		} else {
			bareRun.add(load(b, client, bare.URL, bareBodies, false, n))
			mcp.add(load(b, client, mcpURL, mcpBodies, true, n))
		}
	}
	b.StopTimer()
	b.ReportMetric(mcp.rate(), "mcp_calls/s")
	b.ReportMetric(mcp.p(50), "mcp_p50_ms")
	b.ReportMetric(mcp.p(99), "mcp_p99_ms")
	b.ReportMetric(bareRun.rate(), "bare_calls/s")
	b.ReportMetric(bareRun.p(50), "bare_p50_ms")
	b.ReportMetric(bareRun.p(99), "bare_p99_ms")
	if len(mcp.lat) > 0 && len(bareRun.lat) > 0 {
		b.ReportMetric(mcp.rate()/bareRun.rate(), "mcp/bare")
		b.ReportMetric(float64(mcp.bytes)/float64(len(mcp.lat)), "mcp_B/resp")
		b.ReportMetric(float64(bareRun.bytes)/float64(len(bareRun.lat)), "bare_B/resp")
	}
}

// environ passes HYPERRR_PRODUCT_SEARCH_CACHE_SIZE through, so the
// benchmark can run without the search result cache (=0).
func environ() []string {
	if v, ok := os.LookupEnv("HYPERRR_PRODUCT_SEARCH_CACHE_SIZE"); ok {
		return []string{"HYPERRR_PRODUCT_SEARCH_CACHE_SIZE=" + v}
	}
	return []string{}
}

// loadResult is one transport's figures, summed over rounds.
type loadResult struct {
	elapsed time.Duration
	lat     []time.Duration
	bytes   int64
}

func (r *loadResult) add(o loadResult) {
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.bytes += o.bytes
}

func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

func (r loadResult) p(q int) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	return float64(lat[(len(lat)-1)*q/100].Microseconds()) / 1000
}

// load sends n requests from 16 concurrent clients, cycling through
// bodies, and fails b on any error answer.
func load(b *testing.B, c *http.Client, url string, bodies [][]byte, mcp bool, n int) loadResult {
	var next, size atomic.Int64
	lats := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i%int64(len(bodies))]))
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				if mcp {
					req.Header.Set("Accept", "application/json, text/event-stream")
					req.Header.Set("MCP-Protocol-Version", "2025-06-18")
				}
				t := time.Now()
				res, err := c.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				lats[w] = append(lats[w], time.Since(t))
				if err != nil || res.StatusCode != http.StatusOK || (mcp && bytes.Contains(body, []byte(`"isError":true`))) {
					b.Errorf("status %d: %.300s (%v)", res.StatusCode, body, err)
					return
				}
				size.Add(int64(len(body)))
			}
		}()
	}
	wg.Wait()
	out := loadResult{elapsed: time.Since(start), bytes: size.Load()}
	for _, l := range lats {
		out.lat = append(out.lat, l...)
	}
	return out
}
