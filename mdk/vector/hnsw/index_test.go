package hnsw_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/hnsw"
	"github.com/hyperrr/hyperrr/mdk/vector/vectortest"
)

func newIndex(t *testing.T, dims int, o hnsw.Options) *hnsw.Index {
	t.Helper()
	x, err := hnsw.New(dims, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return x
}

func TestIndex(t *testing.T) {
	t.Run("Default", func(t *testing.T) {
		vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
			x, err := hnsw.New(dims, hnsw.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			return x
		})
	})
	// A negative ExactBelow sends every search it can through the graph,
	// so the suite's small sets test the graph, not the exact fallback; a
	// low CompactMin rebuilds it along the way.
	t.Run("GraphOnly", func(t *testing.T) {
		vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
			x, err := hnsw.New(dims, hnsw.Options{Seed: 1, ExactBelow: -1, CompactMin: 8})
			if err != nil {
				t.Fatal(err)
			}
			return x
		})
	})
	t.Run("ErrDimensions", func(t *testing.T) {
		if _, err := hnsw.New(0, hnsw.Options{}); err == nil {
			t.Error("New(0) succeeded")
		}
	})
}

// recall is the share of want's IDs found in got.
func recall(got, want []vector.Hit) float64 {
	if len(want) == 0 {
		return 1
	}
	n := 0
	for _, h := range got {
		if slices.ContainsFunc(want, func(w vector.Hit) bool { return w.ID == h.ID }) {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// TestFilteredRecall checks both plans of filtered search on a set large
// enough for them to differ: the cost-based choice (default) and the graph
// walk forced.
func TestFilteredRecall(t *testing.T) {
	const n, dims = 5000, 24
	items := vectortest.RandomItems(21, "f", n, dims)
	for i := range items {
		items[i].Fields = map[string]string{"tenth": fmt.Sprint(i % 10), "half": fmt.Sprint(i % 2)}
	}
	filters := []vector.Filter{
		nil,
		{"half": {"0"}},
		{"tenth": {"3", "4", "5"}},
		{"tenth": {"7"}},
		{"tenth": {"1", "2"}, "half": {"1"}},
	}
	for _, o := range []struct {
		name string
		opts hnsw.Options
	}{{"Default", hnsw.Options{Seed: 2}}, {"GraphWalk", hnsw.Options{Seed: 2, ExactBelow: -1}}} {
		t.Run(o.name, func(t *testing.T) {
			x := newIndex(t, dims, o.opts)
			if err := x.Upsert(context.Background(), items...); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(22, 0))
			for _, f := range filters {
				var sum float64
				const queries = 40
				for range queries {
					q := vectortest.RandomUnit(rng, dims)
					got, err := x.Search(context.Background(), q, 10, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, h := range got {
						it := items[slices.IndexFunc(items, func(it vector.Item) bool { return it.ID == h.ID })]
						if !f.Match(it.Fields) {
							t.Fatalf("filter %v returned %s with fields %v", f, h.ID, it.Fields)
						}
					}
					sum += recall(got, vectortest.Nearest(items, q, 10, f))
				}
				if r := sum / queries; r < 0.95 {
					t.Errorf("filter %v: recall@10 %.3f, want ≥ 0.95", f, r)
				}
			}
		})
	}
}

func TestFieldsOnlyUpdate(t *testing.T) {
	x := newIndex(t, 8, hnsw.Options{})
	it := vectortest.RandomItems(30, "p", 1, 8)[0]
	it.Fields = map[string]string{"status": "draft"}
	ctx := context.Background()
	if err := x.Upsert(ctx, it); err != nil {
		t.Fatal(err)
	}
	it.Fields = map[string]string{"status": "active"}
	if err := x.Upsert(ctx, it); err != nil {
		t.Fatal(err)
	}
	if s := x.Stats(); s.Live != 1 || s.Dead != 0 {
		t.Errorf("same vector, new fields: stats %+v, want 1 live, 0 dead (no new node)", s)
	}
	it.Vector = vectortest.RandomItems(31, "p", 1, 8)[0].Vector
	if err := x.Upsert(ctx, it); err != nil {
		t.Fatal(err)
	}
	if s := x.Stats(); s.Live != 1 || s.Dead != 1 {
		t.Errorf("new vector: stats %+v, want 1 live, 1 dead", s)
	}
}

// TestCompaction deletes enough to start a rebuild while writers keep
// changing the index, then checks the rebuilt index holds exactly what a
// plain map says it should.
func TestCompaction(t *testing.T) {
	const n, dims = 2000, 16
	ctx := context.Background()
	x := newIndex(t, dims, hnsw.Options{Seed: 3, CompactMin: 100})
	items := vectortest.RandomItems(40, "c", n, dims)
	if err := x.Upsert(ctx, items...); err != nil {
		t.Fatal(err)
	}
	want := make(map[string][]float32, n)
	for _, it := range items {
		want[it.ID] = it.Vector
	}
	var del []string
	for _, it := range items[:n/2] {
		del = append(del, it.ID)
		delete(want, it.ID)
	}
	if err := x.Delete(ctx, del...); err != nil {
		t.Fatal(err)
	}
	if !x.Stats().Compacting {
		t.Fatalf("stats %+v after deleting half: want a rebuild running", x.Stats())
	}
	// Writes during the rebuild land in its journal.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			fresh := vectortest.RandomItems(50+uint64(w), fmt.Sprintf("w%d-", w), 100, dims)
			for i, it := range fresh {
				if err := x.Upsert(ctx, it); err != nil {
					t.Error(err)
					return
				}
				gone := items[n/2+w*100+i].ID
				if err := x.Delete(ctx, gone); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[it.ID] = it.Vector
				delete(want, gone)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for x.Stats().Compacting {
		if time.Now().After(deadline) {
			t.Fatal("rebuild did not finish in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s := x.Stats()
	if s.Compactions < 1 || s.Live != len(want) {
		t.Fatalf("after rebuild: stats %+v, want ≥ 1 compaction and %d live", s, len(want))
	}
	// The 1,000 deleted before the rebuild are gone; only the 200 deleted
	// while it ran (replayed onto it) are dead in the new graph.
	if s.Dead > 200 {
		t.Errorf("after rebuild: %d dead vectors, want at most the 200 deleted during it", s.Dead)
	}
	for id, v := range want {
		hits, err := x.Search(ctx, v, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].ID != id {
			t.Fatalf("after rebuild, %s not found by its own vector: got %v", id, hits)
		}
	}
	for _, id := range del[:50] {
		hits, err := x.Search(ctx, items[slices.IndexFunc(items, func(it vector.Item) bool { return it.ID == id })].Vector, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if _, ok := want[h.ID]; !ok {
				t.Fatalf("deleted %s found after rebuild", h.ID)
			}
		}
	}
}

func TestCloseDuringCompaction(t *testing.T) {
	ctx := context.Background()
	x, err := hnsw.New(16, hnsw.Options{CompactMin: 10})
	if err != nil {
		t.Fatal(err)
	}
	items := vectortest.RandomItems(60, "z", 3000, 16)
	if err := x.Upsert(ctx, items...); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range items[:2000] {
		ids = append(ids, it.ID)
	}
	if err := x.Delete(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := x.Search(ctx, items[2500].Vector, 1, nil); !errors.Is(err, vector.ErrClosed) {
		t.Errorf("search after close: got %v, want vector.ErrClosed", err)
	}
	if err := x.Upsert(ctx, items[0]); !errors.Is(err, vector.ErrClosed) {
		t.Errorf("upsert after close: got %v, want vector.ErrClosed", err)
	}
}
