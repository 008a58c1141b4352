package hnsw_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk/embed"
	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/hnsw"
	"github.com/hyperrr/hyperrr/mdk/vector/vectortest"
)

// The benchmarks run on 50,000 vectors of 256 dimensions: the benchmark
// catalog's products (name and description) embedded by embed.Local, with
// 200 product names as queries, and uniformly random unit vectors, the
// worst case for any ANN index.
//
//	go test ./mdk/vector/hnsw -run '^$' -bench . -benchtime 2000x
const (
	benchCatalog = "/work/shared/data/bench/catalog-50000.jsonl"
	benchDims    = 256
	benchQueries = 200
)

type dataset struct {
	name    string
	items   []vector.Item
	queries [][]float32
	// filters are the filtered searches measured, by name.
	filters []namedFilter
}

type namedFilter struct {
	name   string
	filter vector.Filter
}

var (
	datasetsOnce sync.Once
	datasetList  []dataset
	catalogErr   error
)

// datasets builds the data once per test binary.
func datasets(b *testing.B) []dataset {
	datasetsOnce.Do(func() {
		var cat dataset
		cat, catalogErr = catalogDataset()
		if catalogErr == nil {
			datasetList = append(datasetList, cat)
		}
		datasetList = append(datasetList, randomDataset())
	})
	if catalogErr != nil {
		b.Logf("catalog data set skipped: %v", catalogErr)
	}
	return datasetList
}

func catalogDataset() (dataset, error) {
	f, err := os.Open(benchCatalog)
	if err != nil {
		return dataset{}, err
	}
	defer f.Close()
	var docs, names []string
	var fields []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p struct {
			Name, Description, Category, Features string
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return dataset{}, fmt.Errorf("decode %s: %w", benchCatalog, err)
		}
		docs = append(docs, p.Name+". "+p.Description)
		names = append(names, p.Name)
		fl := map[string]string{"category": p.Category}
		for _, kv := range strings.Split(p.Features, "|") {
			if k, v, ok := strings.Cut(kv, ":"); ok {
				fl[k] = v
			}
		}
		fields = append(fields, fl)
	}
	if err := sc.Err(); err != nil {
		return dataset{}, fmt.Errorf("read %s: %w", benchCatalog, err)
	}
	l := embed.NewLocal(benchDims)
	vecs, err := l.Embed(context.Background(), docs)
	if err != nil {
		return dataset{}, err
	}
	ds := dataset{name: "Catalog"}
	for i, v := range vecs {
		ds.items = append(ds.items, vector.Item{ID: strconv.Itoa(i + 1), Vector: v, Fields: fields[i]})
	}
	rng := rand.New(rand.NewPCG(7, 7))
	qs := make([]string, benchQueries)
	for i := range qs {
		qs[i] = names[rng.IntN(len(names))]
	}
	if ds.queries, err = l.Embed(context.Background(), qs); err != nil {
		return dataset{}, err
	}
	ds.filters = []namedFilter{
		{"TwoCategories", vector.Filter{"category": {"Outdoor", "Lighting"}}},           // 40%
		{"Category", vector.Filter{"category": {"Outdoor"}}},                            // 20%
		{"CategoryStyle", vector.Filter{"category": {"Outdoor"}, "style": {"Coastal"}}}, // 2%
	}
	return ds, nil
}

func randomDataset() dataset {
	ds := dataset{name: "Random", items: vectortest.RandomItems(1, "", 50000, benchDims)}
	for i := range ds.items {
		ds.items[i].Fields = map[string]string{"category": strconv.Itoa(i % 5), "style": strconv.Itoa(i % 50 / 5)}
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for range benchQueries {
		ds.queries = append(ds.queries, vectortest.RandomUnit(rng, benchDims))
	}
	ds.filters = []namedFilter{
		{"TwoCategories", vector.Filter{"category": {"0", "1"}}},
		{"Category", vector.Filter{"category": {"0"}}},
		{"CategoryStyle", vector.Filter{"category": {"0"}, "style": {"0"}}},
	}
	return ds
}

// heapMB is the live heap after a collection.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// searcher is what the benchmark measures: an index, or a thin wrapper of
// another library.
type searcher func(q []float32, k int, f vector.Filter) []string

// build times and sizes the construction of an index over ds (reported
// after the empty b.Loop, which would reset the metrics).
func build(b *testing.B, ds dataset, newIndex func() (searcher, func(items []vector.Item))) searcher {
	b.Helper()
	before := heapMB()
	search, load := newIndex()
	start := time.Now()
	load(ds.items)
	took := time.Since(start)
	heap := heapMB() - before
	for b.Loop() {
		// the build is the measurement
	}
	b.ReportMetric(took.Seconds(), "build-s")
	b.ReportMetric(heap, "heap-MB")
	return search
}

// measure runs the queries (one per iteration), reporting latency
// percentiles and recall@k against the exact answers.
func measure(b *testing.B, ds dataset, search searcher, k int, f vector.Filter) {
	b.Helper()
	truth := exactAnswers(b, ds, k, f)
	var found, total int
	for i, q := range ds.queries {
		got := search(q, k, f)
		for _, id := range got {
			if slices.Contains(truth[i], id) {
				found++
			}
		}
		total += len(truth[i])
	}
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		search(ds.queries[i%len(ds.queries)], k, f)
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(found)/float64(total), fmt.Sprintf("recall@%d", k))
	b.ReportMetric(lat[len(lat)/2].Seconds()*1000, "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100].Seconds()*1000, "p99-ms")
}

var (
	truthMu    sync.Mutex
	truthCache = map[string][][]string{}
)

// exactAnswers are the true k nearest IDs of every query, by exact scan.
func exactAnswers(b *testing.B, ds dataset, k int, f vector.Filter) [][]string {
	key := fmt.Sprint(ds.name, k, f)
	truthMu.Lock()
	defer truthMu.Unlock()
	if t, ok := truthCache[key]; ok {
		return t
	}
	x, err := vector.NewExact(benchDims)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	if err := x.Upsert(context.Background(), ds.items...); err != nil {
		b.Fatal(err)
	}
	t := make([][]string, len(ds.queries))
	for i, q := range ds.queries {
		hits, err := x.Search(context.Background(), q, k, f)
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range hits {
			t[i] = append(t[i], h.ID)
		}
	}
	truthCache[key] = t
	return t
}

// measureAll measures unfiltered searches at k=10 and k=100 and the
// filtered ones at k=10, on an index built by the Build sub-benchmark.
func measureAll(b *testing.B, ds dataset, name string, search searcher, filters []namedFilter) {
	run := func(sub string, k int, f vector.Filter) {
		b.Run(name+"/"+sub, func(b *testing.B) {
			if search == nil {
				b.Skip("the index is built by the Build benchmark: include it in -bench")
			}
			measure(b, ds, search, k, f)
		})
	}
	run("K10", 10, nil)
	run("K100", 100, nil)
	for _, nf := range filters {
		run("Filter"+nf.name+"/K10", 10, nf.filter)
	}
}

// indexSearcher adapts a vector.Index.
func indexSearcher(b *testing.B, x vector.Index) (searcher, func([]vector.Item)) {
	search := func(q []float32, k int, f vector.Filter) []string {
		hits, err := x.Search(context.Background(), q, k, f)
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		return ids
	}
	load := func(items []vector.Item) {
		if err := x.Upsert(context.Background(), items...); err != nil {
			b.Fatal(err)
		}
	}
	return search, load
}

func BenchmarkIndex(b *testing.B) {
	for _, ds := range datasets(b) {
		b.Run(ds.name, func(b *testing.B) {
			indexes := []struct {
				name string
				new  func() vector.Index
			}{
				{"HNSW", func() vector.Index {
					x, err := hnsw.New(benchDims, hnsw.Options{Seed: 1})
					if err != nil {
						b.Fatal(err)
					}
					return x
				}},
				{"Exact", func() vector.Index {
					x, err := vector.NewExact(benchDims)
					if err != nil {
						b.Fatal(err)
					}
					return x
				}},
			}
			for _, ix := range indexes {
				var search searcher
				b.Run(ix.name+"/Build", func(b *testing.B) {
					search = build(b, ds, func() (searcher, func([]vector.Item)) { return indexSearcher(b, ix.new()) })
				})
				measureAll(b, ds, ix.name, search, ds.filters)
			}
		})
	}
}
