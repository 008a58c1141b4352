package search_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk/embed"
	"github.com/hyperrr/hyperrr/mdk/search"
	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/hnsw"
)

// benchRow is a line of the benchmark catalog (../shared/data/bench).
type benchRow struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	ProductClass string  `json:"productClass"`
	Category     string  `json:"category"`
	Features     string  `json:"features"`
	Price        float64 `json:"price"`
}

// benchDocument maps a catalog row the way the benchmark documents it:
// title = name, description, type = productClass, category, attributes =
// the feature values (and each feature as a keyword), price in cents,
// created_at = line number.
func benchDocument(r benchRow, line int) search.Document {
	d := search.Document{
		ID:       r.ID,
		Text:     map[string]string{"title": r.Name, "description": r.Description, "type": r.ProductClass, "category": r.Category},
		Keywords: map[string][]string{"category": {r.Category}, "type": {r.ProductClass}, "status": {"active"}},
		Numbers:  map[string]int64{"price": int64(math.Round(r.Price * 100)), "created_at": int64(line)},
	}
	var attrs []string
	for _, kv := range strings.Split(r.Features, "|") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			d.Keywords[k] = append(d.Keywords[k], v)
			attrs = append(attrs, v)
		}
	}
	d.Text["attributes"] = strings.Join(attrs, " ")
	return d
}

type benchData struct {
	docs  []search.Document // with vectors from embed.Local
	model *embed.Local
}

var (
	benchOnce   sync.Once
	benchLoaded *benchData
	benchErr    error
)

// loadBench reads and embeds the 50,000-product catalog once per process,
// skipping b when the file is missing.
func loadBench(b *testing.B) *benchData {
	dir := os.Getenv("HYPERRR_BENCH_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data", "bench")
	}
	path := filepath.Join(dir, "catalog-50000.jsonl")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("benchmark catalog %s is missing (set HYPERRR_BENCH_DATA to its folder): %v", path, err)
	}
	benchOnce.Do(func() { benchLoaded, benchErr = readBench(path) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchLoaded
}

func readBench(path string) (*benchData, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read-only
	data := &benchData{model: embed.NewLocal(embed.DefaultLocalDims)}
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r benchRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		data.docs = append(data.docs, benchDocument(r, line))
		texts = append(texts, r.Name+". "+r.Description)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	vecs, err := data.model.Embed(context.Background(), texts)
	if err != nil {
		return nil, err
	}
	for i := range data.docs {
		data.docs[i].Vector = vecs[i]
	}
	return data, nil
}

// BenchmarkBuild50k builds an index of the 50,000-product catalog from
// documents whose vectors are already computed (as at start-up, where they
// are read from SQL). One op is one whole build; heap_MB is the live heap
// the index (and its vector index) holds afterwards. Run with
// -benchtime=3x.
func BenchmarkBuild50k(b *testing.B) {
	data := loadBench(b)
	for _, c := range []struct {
		name    string
		vectors func() vector.Index
	}{
		{"lexical", nil},
		{"vectors=discard", func() vector.Index { return discardIndex{} }},
		{"vectors=exact", func() vector.Index { return must(vector.NewExact(data.model.Dimensions())) }},
		{"vectors=hnsw", func() vector.Index { return must(hnsw.New(data.model.Dimensions(), hnsw.Options{Seed: 1})) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var heap float64
			for range b.N {
				b.StopTimer()
				cfg := search.Config{}
				if c.vectors != nil {
					cfg.Embedder, cfg.Vectors = data.model, c.vectors()
				}
				before := liveHeap()
				b.StartTimer()
				x := search.New(cfg)
				if err := x.Upsert(context.Background(), data.docs...); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				heap = float64(liveHeap()-before) / (1 << 20)
				runtime.KeepAlive(x)
				b.StartTimer()
			}
			b.ReportMetric(heap, "heap_MB")
		})
	}
}

// discardIndex is a vector index that keeps nothing: with it the build
// figures are this package's alone (it still keeps its int8 copies).
type discardIndex struct{}

func (discardIndex) Upsert(context.Context, ...vector.Item) error { return nil }
func (discardIndex) Delete(context.Context, ...string) error      { return nil }
func (discardIndex) Search(context.Context, []float32, int, vector.Filter) ([]vector.Hit, error) {
	return nil, nil
}
func (discardIndex) Count(context.Context) (int, error) { return 0, nil }
func (discardIndex) Close() error                       { return nil }

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// benchQueries are typical shopper queries over the catalog's vocabulary:
// two to four words, with a synonym, typos and a natural-language query.
var benchQueries = []string{
	"teak bed frame", "velvet sofa", "modern floor lamp", "navy throw pillow",
	"rustic oak dining table", "outdoor bench", "bar cart", "marble coffee table",
	"industrial wall sconce", "leather accent chair", "scandinavian bookcase",
	"couch", "coffe tabel", "gold pendant light", "mid-century walnut desk",
	"hammock", "bamboo spice rack", "white dinnerware set", "kitchen island",
	"gray area rug", "glam wall mirror", "farmhouse console table",
	"black metal bar stool", "bohemian rattan planter", "candle holder",
	"teak adirondack chair", "espresso nightstand", "coastal end table",
	"linen loveseat", "somewhere to keep spices",
}

var (
	searchOnce  sync.Once
	searchIndex *search.Index
)

// BenchmarkSearch50k runs the fixed query list against the 50,000-product
// catalog, one query per op, and reports the latency percentiles. The
// hybrid cases use embed.Local and the hnsw index, with the query
// embedding cache off so every query pays for its embedding.
func BenchmarkSearch50k(b *testing.B) {
	data := loadBench(b)
	searchOnce.Do(func() {
		searchIndex = search.New(search.Config{Embedder: data.model, QueryCacheSize: -1,
			Vectors: must(hnsw.New(data.model.Dimensions(), hnsw.Options{Seed: 1}))})
		if err := searchIndex.Upsert(context.Background(), data.docs...); err != nil {
			panic(err)
		}
	})
	bands := []search.Band{
		{Label: "Under $100", Range: search.Range{Max: ptr(9999)}},
		{Label: "$100 to $500", Range: search.Range{Min: ptr(10000), Max: ptr(49999)}},
		{Label: "$500 and up", Range: search.Range{Min: ptr(50000)}},
	}
	faceted := func(q search.Query) search.Query {
		q.Filter = map[string][]string{"category": {"Furniture", "Outdoor"}}
		q.Ranges = map[string]search.Range{"price": {Max: ptr(60000)}}
		q.Facets = []string{"category", "type", "color", "material", "style"}
		q.RangeFacets = map[string][]search.Band{"price": bands}
		return q
	}
	for _, c := range []struct {
		name  string
		query func(text string) search.Query
	}{
		{"lexical", func(t string) search.Query { return search.Query{Text: t, Mode: search.ModeLexical} }},
		{"lexical+filters+facets", func(t string) search.Query { return faceted(search.Query{Text: t, Mode: search.ModeLexical}) }},
		{"hybrid", func(t string) search.Query { return search.Query{Text: t} }},
		{"hybrid+filters+facets", func(t string) search.Query { return faceted(search.Query{Text: t}) }},
		{"browse+filters+facets", func(string) search.Query { return faceted(search.Query{}) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				q := c.query(benchQueries[i%len(benchQueries)])
				start := time.Now()
				if _, err := searchIndex.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}

// BenchmarkSearchDuringReimport50k measures lexical search latency while
// the whole 50,000-product catalog is upserted again (every document
// replaced, with two compactions): how long searches wait for the writer.
// One op is one re-import.
func BenchmarkSearchDuringReimport50k(b *testing.B) {
	data := loadBench(b)
	ctx := context.Background()
	x := search.New(search.Config{Embedder: data.model, Vectors: must(vector.NewExact(data.model.Dimensions()))})
	if err := x.Upsert(ctx, data.docs...); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		done := make(chan error, 1)
		go func() { done <- x.Upsert(ctx, data.docs...) }()
		var err error
		for i, running := 0, true; running; i++ {
			select {
			case err = <-done:
				running = false
			default:
				start := time.Now()
				if _, err := x.Search(ctx, search.Query{Text: benchQueries[i%len(benchQueries)], Mode: search.ModeLexical}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
	b.ReportMetric(float64(slices.Max(lat))/float64(time.Millisecond), "max_ms")
}

// reportLatencies reports the 50th and 99th percentile of lat.
func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}
