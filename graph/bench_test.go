package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/internal/benchdata"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

const benchListing = `query Listing($first: Int) {
  products(first: $first, sort: NEWEST) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id handle title vendor categories
      images { url }
      priceRange { min { amount currencyCode formatted } max { amount currencyCode formatted } }
      variants { id sku title available price { amount currencyCode formatted } } } }
  }
}`

const benchSearch = `query Search($q: String!) {
  products(query: $q, first: 20) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id title priceRange { min { amount formatted } } variants { id available price { amount formatted } } } }
  }
}`

var benchSearchTexts = []string{"bar cart", "green pine bar cart", "oak coffee table under $300", "outdoor bench",
	"bamboo planter", "throw pillow", "scandinavian walnut", "industrial desk lamp", "cofee tabel", "couch"}

// BenchmarkGraphQL50k serves the 50,000-product benchmark catalog (SQLite,
// lexical search) over real HTTP and measures a 20-product listing and
// searches at 2 and 16 concurrent clients: anonymous (answered from the
// response cache once warm), with a shopper key (never cached: the full
// resolver path), the same search_catalog input through the plain HTTP
// operation endpoint, and a bare net/http handler writing the GraphQL
// response bytes from memory, in the same run. Run it alone:
//
//	go test ./graph -run '^$' -bench GraphQL50k -benchtime=3000x
func BenchmarkGraphQL50k(b *testing.B) {
	e := benchEnv(b)
	listing := e.benchBody(b, benchListing, map[string]any{"first": 20})
	searches := make([][]byte, len(benchSearchTexts))
	searchOps := make([][]byte, len(benchSearchTexts))
	for i, q := range benchSearchTexts {
		searches[i] = e.benchBody(b, benchSearch, map[string]any{"q": q})
		searchOps[i], _ = json.Marshal(map[string]any{"query": q, "pagination": map[string]any{"limit": 20}})
	}
	// The same reads through POST /v1/operations/search_catalog: the
	// operation's own cost, without GraphQL.
	listingOp := []byte(`{"sort":"newest","pagination":{"limit":20}}`)
	for _, c := range []int{2, 16} {
		for _, load := range []struct {
			name        string
			bodies, ops [][]byte
		}{{"listing", [][]byte{listing}, [][]byte{listingOp}}, {"search", searches, searchOps}} {
			b.Run(fmt.Sprintf("%s/c=%d/graphql-anonymous", load.name, c), func(b *testing.B) {
				e.load(b, c, e.base+"/graphql", "", load.bodies)
			})
			b.Run(fmt.Sprintf("%s/c=%d/graphql-shopper-uncached", load.name, c), func(b *testing.B) {
				e.load(b, c, e.base+"/graphql", e.alice, load.bodies)
			})
			b.Run(fmt.Sprintf("%s/c=%d/operation-http", load.name, c), func(b *testing.B) {
				e.load(b, c, e.base+"/v1/operations/search_catalog", e.alice, load.ops)
			})
			b.Run(fmt.Sprintf("%s/c=%d/bare", load.name, c), func(b *testing.B) {
				e.load(b, c, e.bare(b, load.bodies), "", load.bodies)
			})
		}
	}
}

// benchEnv imports the catalog before the server starts, then serves it.
func benchEnv(b *testing.B) *env {
	path := benchdata.Catalog(b, "catalog-50000.jsonl")
	ctx := context.Background()
	cfg := gateway.DefaultConfig()
	cfg.DataDir = b.TempDir()
	cfg.ShutdownTimeout = 10 * time.Second
	g, err := gateway.Open(ctx, gateway.Options{Config: cfg, Environ: []string{"HYPERRR_PRODUCT_EMBEDDER=none"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	mod, _ := g.Module("commerce.product")
	pm, ok := mod.(*product.Module)
	if !ok {
		b.Fatalf("commerce.product is %T", mod)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	res, err := pm.Import(ctx, f, product.ImportOptions{})
	f.Close()
	if err != nil || res.Created != 50000 {
		b.Fatalf("import: %+v %v", res, err)
	}
	// The import's 50,000 product events go out now, not during the
	// measurements (each one empties the response cache).
	if err := g.Relay().Flush(ctx); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Serve(sctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	if err := pm.WaitSearchReady(ctx); err != nil {
		b.Fatal(err)
	}
	e := &env{g: g, base: "http://" + ln.Addr().String()}
	if e.alice, _, err = g.Keys().Create(ctx, mdk.RoleShopper, "cust_bench", "bench"); err != nil {
		b.Fatal(err)
	}
	e.waitReady(b)
	return e
}

// benchBody checks the query and waits until the response cache keeps its
// answer (catalog events still being handled empty it).
func (e *env) benchBody(b *testing.B, query string, vars map[string]any) []byte {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		b.Fatal(err)
	}
	hits := 0
	for deadline := time.Now().Add(time.Minute); hits < 50; {
		r := e.post(b, "", query, vars)
		if len(r.Errors) > 0 || len(r.Data) < 100 {
			b.Fatalf("%s: %+v %s", query, r.Errors, r.Data)
		}
		if r.header.Get("X-Cache") == "hit" {
			hits++
		} else {
			hits = 0
		}
		if time.Now().After(deadline) {
			b.Fatal("the response cache does not keep the answer: catalog events keep coming")
		}
	}
	return body
}

// bare serves, for each request body, the GraphQL server's answer to it,
// from memory: the ceiling an HTTP JSON endpoint reaches on this machine.
func (e *env) bare(b *testing.B, bodies [][]byte) string {
	answers := map[string][]byte{}
	for _, body := range bodies {
		resp, err := http.Post(e.base+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers[string(body)] = answer
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answers[string(body)]) //nolint:errcheck // benchmark
	})}
	go srv.Serve(ln) //nolint:errcheck // closed below
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// load sends b.N requests from c clients, cycling through bodies, and
// reports requests/s and the p50 and p99 latency.
func (e *env) load(b *testing.B, c int, url, key string, bodies [][]byte) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	defer client.CloseIdleConnections()
	send := func(body []byte) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // benchmark
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d", resp.StatusCode)
		}
	}
	for _, body := range bodies { // warm connections and caches
		send(body)
	}
	lat := make([]time.Duration, b.N)
	var next sync.Mutex
	i := 0
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				n := i
				i++
				next.Unlock()
				if n >= b.N {
					return
				}
				t0 := time.Now()
				send(bodies[n%len(bodies)])
				lat[n] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[b.N/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds()), "p99-µs")
}
