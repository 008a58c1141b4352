package vectortest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
)

func testEmpty(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	wantCount(t, idx, 0)
	q := RandomItems(1, "q", 1, dims)[0].Vector
	if hits := search(t, idx, q, 10, nil); len(hits) != 0 {
		t.Errorf("search on empty index: got %v, want none", hits)
	}
	if hits := search(t, idx, q, 10, vector.Filter{"category": {"A"}}); len(hits) != 0 {
		t.Errorf("filtered search on empty index: got %v, want none", hits)
	}
	if err := idx.Delete(context.Background(), "missing"); err != nil {
		t.Errorf("delete on empty index: %v", err)
	}
	if err := idx.Upsert(context.Background()); err != nil {
		t.Errorf("upsert of no items: %v", err)
	}
	if err := idx.Delete(context.Background()); err != nil {
		t.Errorf("delete of no IDs: %v", err)
	}
	wantCount(t, idx, 0)
}

// testSearchNearest: every stored vector, used as the query, finds itself
// first with score 1, and the scores are the cosine similarities.
func testSearchNearest(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	items := RandomItems(2, "item-", 200, dims)
	upsert(t, idx, items[:100]...)
	upsert(t, idx, items[100:]...)
	wantCount(t, idx, len(items))
	byID := make(map[string][]float32, len(items))
	for _, it := range items {
		byID[it.ID] = it.Vector
	}
	for _, it := range items[:40] {
		hits := search(t, idx, it.Vector, 5, nil)
		if len(hits) != 5 {
			t.Fatalf("query %s: got %d hits, want 5", it.ID, len(hits))
		}
		if hits[0].ID != it.ID || math.Abs(float64(hits[0].Score)-1) > scoreTolerance {
			t.Errorf("query %s: first hit %s score %.4f, want itself with score 1", it.ID, hits[0].ID, hits[0].Score)
		}
		for _, h := range hits {
			v, ok := byID[h.ID]
			if !ok {
				t.Fatalf("query %s: hit %q was never stored", it.ID, h.ID)
			}
			if want := Dot(it.Vector, v); math.Abs(float64(h.Score-want)) > scoreTolerance {
				t.Errorf("query %s: hit %s score %.5f, want cosine similarity %.5f", it.ID, h.ID, h.Score, want)
			}
		}
	}
}

// testRecall: on a small set an index must be exact or nearly so.
func testRecall(t *testing.T, open func(*testing.T, int) vector.Index) {
	const n, k, queries, d = 1000, 10, 30, 32
	idx := open(t, d)
	items := RandomItems(3, "r", n, d)
	for start := 0; start < n; start += 250 {
		upsert(t, idx, items[start:start+250]...)
	}
	rng := rand.New(rand.NewPCG(4, 0))
	var found, total int
	for range queries {
		q := RandomUnit(rng, d)
		want := Nearest(items, q, k, nil)
		got := search(t, idx, q, k, nil)
		if len(got) != k {
			t.Fatalf("got %d hits, want %d", len(got), k)
		}
		wantSet := make(map[string]bool, k)
		for _, h := range want {
			wantSet[h.ID] = true
		}
		for _, h := range got {
			if wantSet[h.ID] {
				found++
			}
		}
		total += k
	}
	if recall := float64(found) / float64(total); recall < 0.95 {
		t.Errorf("recall@%d over %d items = %.3f, want at least 0.95", k, n, recall)
	}
}

func testUpsertReplaces(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	items := RandomItems(5, "u", 50, dims)
	for i := range items {
		items[i].Fields = map[string]string{"color": "red"}
	}
	upsert(t, idx, items...)
	old := items[7]
	fresh := vector.Item{ID: old.ID, Vector: RandomItems(6, "n", 1, dims)[0].Vector, Fields: map[string]string{"color": "blue"}}
	upsert(t, idx, fresh)
	wantCount(t, idx, len(items))

	hits := search(t, idx, fresh.Vector, 1, nil)
	if len(hits) != 1 || hits[0].ID != fresh.ID || math.Abs(float64(hits[0].Score)-1) > scoreTolerance {
		t.Errorf("search by new vector: got %v, want %s with score 1", hits, fresh.ID)
	}
	for _, h := range search(t, idx, old.Vector, len(items), nil) {
		if h.ID == old.ID && math.Abs(float64(h.Score-Dot(old.Vector, fresh.Vector))) > scoreTolerance {
			t.Errorf("search by old vector: %s scored %.4f, want its new similarity %.4f", h.ID, h.Score, Dot(old.Vector, fresh.Vector))
		}
	}
	for _, h := range search(t, idx, fresh.Vector, len(items), vector.Filter{"color": {"red"}}) {
		if h.ID == fresh.ID {
			t.Errorf("filter on the old field value still finds %s", h.ID)
		}
	}
	blue := search(t, idx, old.Vector, len(items), vector.Filter{"color": {"blue"}})
	if len(blue) != 1 || blue[0].ID != fresh.ID {
		t.Errorf("filter on the new field value: got %v, want only %s", ids(blue), fresh.ID)
	}

	// The same vector with new fields (a price or status edit) changes
	// what filters see, and nothing else.
	same := items[9]
	same.Fields = map[string]string{"color": "green"}
	upsert(t, idx, same)
	wantCount(t, idx, len(items))
	for color, want := range map[string]int{"red": len(items) - 2, "blue": 1, "green": 1} {
		got := search(t, idx, same.Vector, 3, vector.Filter{"color": {color}})
		if len(got) != min(3, want) {
			t.Errorf("after a fields-only update, filter color=%s: got %d hits, want %d", color, len(got), min(3, want))
		}
		if color == "green" && (len(got) != 1 || got[0].ID != same.ID || math.Abs(float64(got[0].Score)-1) > scoreTolerance) {
			t.Errorf("after a fields-only update, filter color=green: got %v, want %s with score 1", got, same.ID)
		}
		if color == "red" && slices.Contains(ids(got), same.ID) {
			t.Errorf("after a fields-only update, filter color=red still finds %s", same.ID)
		}
	}
}

func testRepeatedID(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	vs := RandomItems(7, "v", 2, dims)
	upsert(t, idx,
		vector.Item{ID: "dup", Vector: vs[0].Vector, Fields: map[string]string{"n": "first"}},
		vector.Item{ID: "dup", Vector: vs[1].Vector, Fields: map[string]string{"n": "last"}},
	)
	wantCount(t, idx, 1)
	hits := search(t, idx, vs[1].Vector, 5, vector.Filter{"n": {"last"}})
	if len(hits) != 1 || hits[0].ID != "dup" || math.Abs(float64(hits[0].Score)-1) > scoreTolerance {
		t.Errorf("got %v, want dup with the last vector (score 1) and fields", hits)
	}
}

func testDelete(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	items := RandomItems(8, "d", 100, dims)
	for i := range items {
		items[i].Fields = map[string]string{"shard": fmt.Sprint(i % 4)}
	}
	upsert(t, idx, items...)
	var gone []string
	for i := 0; i < len(items); i += 3 {
		gone = append(gone, items[i].ID)
	}
	if err := idx.Delete(context.Background(), append(gone, "never-stored")...); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantCount(t, idx, len(items)-len(gone))
	// Deleting again is a no-op.
	if err := idx.Delete(context.Background(), gone...); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
	wantCount(t, idx, len(items)-len(gone))
	for _, id := range gone {
		var it vector.Item
		for _, x := range items {
			if x.ID == id {
				it = x
			}
		}
		for _, h := range search(t, idx, it.Vector, len(items), nil) {
			if slices.Contains(gone, h.ID) {
				t.Fatalf("deleted item %s still found (query %s)", h.ID, id)
			}
		}
	}
	all := search(t, idx, items[1].Vector, len(items), nil)
	if len(all) != len(items)-len(gone) {
		t.Errorf("search with k ≥ count: got %d hits, want %d", len(all), len(items)-len(gone))
	}
	// The survivors keep their own fields.
	var left []vector.Item
	for _, it := range items {
		if !slices.Contains(gone, it.ID) {
			left = append(left, it)
		}
	}
	for _, f := range []vector.Filter{{"shard": {"1"}}, {"shard": {"0", "3"}}} {
		for _, k := range []int{3, len(items)} {
			want := Nearest(left, items[2].Vector, k, f)
			if got := search(t, idx, items[2].Vector, k, f); !sameIDs(got, want) {
				t.Errorf("after deletes, filter %v k=%d: got %v, want %v", f, k, ids(got), ids(want))
			}
		}
	}
	// A deleted ID can be stored again.
	upsert(t, idx, items[0])
	wantCount(t, idx, len(items)-len(gone)+1)
	if hits := search(t, idx, items[0].Vector, 1, nil); len(hits) != 1 || hits[0].ID != items[0].ID {
		t.Errorf("re-inserted %s: got %v", items[0].ID, hits)
	}
}

// filterItems is a set where every combination of the filter rules
// occurs: three categories (one with quotes and a backslash), two statuses,
// and every fifth item without a status.
func filterItems() []vector.Item {
	categories := []string{"Outdoor", "Kitchen & Tabletop", `O'Brien "Classic" \ Range`}
	items := RandomItems(9, "f", 90, dims)
	for i := range items {
		fields := map[string]string{"category": categories[i%3]}
		if i%5 != 0 {
			fields["status"] = []string{"active", "draft"}[i%2]
		}
		items[i].Fields = fields
	}
	return items
}

func testFilter(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	items := filterItems()
	upsert(t, idx, items...)
	q := RandomItems(10, "q", 1, dims)[0].Vector
	filters := []vector.Filter{
		nil,
		{},
		{"category": {"Outdoor"}},
		{"category": {"Outdoor", "Kitchen & Tabletop"}},
		{"category": {`O'Brien "Classic" \ Range`}},
		{"status": {"active"}},
		{"category": {"Kitchen & Tabletop"}, "status": {"draft"}},
		{"category": {"Outdoor", `O'Brien "Classic" \ Range`}, "status": {"active", "draft"}},
		{"category": {"Garden"}},
		{"category": {}},
		{"missing": {"x"}},
		{"category": {"Outdoor"}, "missing": {"x"}},
	}
	for _, f := range filters {
		want := Nearest(items, q, len(items), f)
		got := search(t, idx, q, len(items), f)
		if !sameIDs(got, want) {
			t.Errorf("filter %v: got %d hits %v, want %d hits %v", f, len(got), ids(got), len(want), ids(want))
		}
	}
}

// testFilterTopK: a filtered search with small k returns the k nearest
// passing items, not just any k that pass, also when the filter is
// selective.
func testFilterTopK(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	items := filterItems()
	upsert(t, idx, items...)
	rng := rand.New(rand.NewPCG(11, 0))
	for _, f := range []vector.Filter{
		{"status": {"active"}},
		{"category": {"Kitchen & Tabletop"}, "status": {"draft"}},
	} {
		for range 5 {
			q := RandomUnit(rng, dims)
			want := Nearest(items, q, 5, f)
			got := search(t, idx, q, 5, f)
			if !sameIDs(got, want) {
				t.Errorf("filter %v, k=5: got %v, want %v", f, ids(got), ids(want))
			}
		}
	}
}

func testKLargerThanCount(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	items := RandomItems(12, "k", 25, dims)
	upsert(t, idx, items...)
	q := RandomItems(13, "q", 1, dims)[0].Vector
	got := search(t, idx, q, 1000, nil)
	want := Nearest(items, q, 1000, nil)
	if len(got) != len(items) || !sameIDs(got, want) {
		t.Errorf("k=1000 over %d items: got %d hits, want all of them", len(items), len(got))
	}
	for i := range min(len(got), len(want)) {
		if math.Abs(float64(got[i].Score-want[i].Score)) > scoreTolerance {
			t.Errorf("hit %d: score %.5f, want %.5f (order by score)", i, got[i].Score, want[i].Score)
		}
	}
}

func testDimensionMismatch(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	good := RandomItems(14, "g", 2, dims)
	short := RandomItems(15, "s", 1, dims-1)[0]
	long := RandomItems(16, "l", 1, dims+1)[0]
	ctx := context.Background()

	wantCode(t, "upsert short vector", idx.Upsert(ctx, good[0], short), mdk.CodeInvalid)
	wantCode(t, "upsert long vector", idx.Upsert(ctx, long, good[1]), mdk.CodeInvalid)
	// All or nothing: the good items of a rejected call were not stored.
	wantCount(t, idx, 0)

	upsert(t, idx, good...)
	_, err := idx.Search(ctx, short.Vector, 3, nil)
	wantCode(t, "search with short query", err, mdk.CodeInvalid)
	_, err = idx.Search(ctx, long.Vector, 3, vector.Filter{"category": {"A"}})
	wantCode(t, "filtered search with long query", err, mdk.CodeInvalid)
	wantCount(t, idx, len(good))
}

func testInvalidInput(t *testing.T, open func(*testing.T, int) vector.Index) {
	idx := open(t, dims)
	ctx := context.Background()
	v := RandomItems(17, "x", 1, dims)[0].Vector
	wantCode(t, "upsert empty ID", idx.Upsert(ctx, vector.Item{ID: "", Vector: v}), mdk.CodeInvalid)
	wantCode(t, "upsert nil vector", idx.Upsert(ctx, vector.Item{ID: "a"}), mdk.CodeInvalid)
	wantCount(t, idx, 0)
	upsert(t, idx, vector.Item{ID: "a", Vector: v})
	for _, k := range []int{0, -1} {
		_, err := idx.Search(ctx, v, k, nil)
		wantCode(t, fmt.Sprintf("search k=%d", k), err, mdk.CodeInvalid)
	}
}

// testConcurrent: writers and readers at once; every write lands and every
// read is well formed (run it under -race).
func testConcurrent(t *testing.T, open func(*testing.T, int) vector.Index) {
	const writers, batches, batch, readers, reads = 4, 5, 10, 4, 20
	idx := open(t, dims)
	var all []vector.Item
	for w := range writers {
		all = append(all, RandomItems(100+uint64(w), fmt.Sprintf("w%d-", w), batches*batch, dims)...)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		mine := all[w*batches*batch : (w+1)*batches*batch]
		wg.Go(func() {
			for b := range batches {
				if err := idx.Upsert(ctx, mine[b*batch:(b+1)*batch]...); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(200+uint64(r), 0))
			for range reads {
				var f vector.Filter
				if rng.IntN(2) == 0 {
					f = vector.Filter{"none": {"x"}}
				}
				hits, err := idx.Search(ctx, RandomUnit(rng, dims), 10, f)
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				if len(hits) > 10 || (f != nil && len(hits) > 0) {
					errs <- fmt.Errorf("reader %d: %d hits for k=10, filter %v", r, len(hits), f)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantCount(t, idx, len(all))
	for i := 0; i < len(all); i += 7 {
		it := all[i]
		hits := search(t, idx, it.Vector, 1, nil)
		if len(hits) != 1 || hits[0].ID != it.ID {
			t.Errorf("after concurrent writes, query %s: got %v, want itself", it.ID, ids(hits))
		}
	}
}
