package search_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/search"
)

// TestConcurrentReadersAndWriters runs searches while writers upsert,
// replace and delete documents (run it with -race). Each search must be
// internally consistent: hits are live documents matching the filter, and
// pages are sorted.
func TestConcurrentReadersAndWriters(t *testing.T) {
	ctx := context.Background()
	emb, vecs := &conceptEmbedder{dims: 32}, newBruteIndex()
	x := search.New(search.Config{Embedder: emb, Vectors: vecs, ExactVectorLimit: 500})
	doc := func(i, gen int) search.Document {
		text := fmt.Sprintf("%s %s chair gen%d", []string{"oak", "pine", "walnut"}[i%3], []string{"dining", "office"}[i%2], gen)
		v, err := emb.Embed(ctx, []string{text})
		if err != nil {
			t.Error(err)
		}
		return search.Document{
			ID:       fmt.Sprintf("w%04d", i),
			Text:     map[string]string{"title": text},
			Keywords: map[string][]string{"wood": {[]string{"oak", "pine", "walnut"}[i%3]}},
			Numbers:  map[string]int64{"price": int64(i % 50), "created_at": int64(i)},
			Vector:   v[0],
		}
	}
	var initial []search.Document
	for i := range 2000 {
		initial = append(initial, doc(i, 0))
	}
	if err := x.Upsert(ctx, initial...); err != nil {
		t.Fatal(err)
	}

	// Two writers replace documents 0–1899 six times (each its half) and
	// delete twelve of 1900–1999 between them.
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		writers.Go(func() {
			for gen := 1; gen <= 6; gen++ {
				var batch []search.Document
				for i := w; i < 1900; i += 2 {
					batch = append(batch, doc(i, gen))
				}
				if err := x.Upsert(ctx, batch...); err != nil {
					t.Error(err)
				}
				if err := x.Delete(ctx, fmt.Sprintf("w%04d", 1900+2*gen+w)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	queries := []search.Query{
		{Text: "oak chair", Filter: map[string][]string{"wood": {"oak"}}, Facets: []string{"wood"}, Limit: 50},
		{Text: "office", Sort: search.Sort{Field: "price"}, Limit: 50},
		{Filter: map[string][]string{"wood": {"pine"}}, Limit: 50},
		{Text: "walnut dinning", Mode: search.ModeLexical, Limit: 50},
		{Text: "pine", Mode: search.ModeVector, Limit: 50},
	}
	for r := range 4 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := queries[(i+r)%len(queries)]
				res, err := x.Search(ctx, q)
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.Hits) > res.Total {
					t.Errorf("%d hits, total %d", len(res.Hits), res.Total)
				}
				if q.Sort.Field == "" && q.Text != "" && !slices.IsSortedFunc(res.Hits, func(a, b search.Hit) int {
					if a.Score > b.Score {
						return -1
					}
					if a.Score < b.Score {
						return 1
					}
					return 0
				}) {
					t.Errorf("%q: hits not in score order", q.Text)
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if n := x.Len(); n != 2000-12 {
		t.Fatalf("len %d, want %d", n, 2000-12)
	}
	if n, _ := vecs.Count(ctx); n != 2000-12 {
		t.Fatalf("vector index holds %d, want %d", n, 2000-12)
	}
	if res := mustSearch(t, x, search.Query{Text: "gen6", Limit: 1}); res.Total != 1900 {
		t.Fatalf("%d documents of the last generation, want 1900", res.Total)
	}
}
