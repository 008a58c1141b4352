// Package vectortest is the contract every vector.Index implementation must
// meet, written once and run against each of them (the exact scan, the
// in-process HNSW index and Milvus), so they stay interchangeable:
//
//	func TestIndex(t *testing.T) {
//		vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
//			return newTestIndex(t, dims)
//		})
//	}
//
// newIndex must return a fresh, empty index for vectors of dims dimensions.
// The suite closes every index it gets. Subtests run in parallel, each on
// its own index.
//
// Beyond the method docs of vector.Index, the suite pins down behaviour
// that callers rely on and implementations could otherwise disagree on:
//
//   - Read your writes: a Search sees every Upsert and Delete that returned
//     before it began (Milvus needs Strong consistency for this).
//   - Upsert is all or nothing: it validates every item (non-empty ID,
//     vector of the index's dimensions) before storing any, and reports bad
//     input as an *mdk.Error with code invalid. Within one call a repeated ID
//     keeps its last item. Replacing an item replaces its fields too.
//   - Search rejects a query of the wrong dimensions and k < 1 with code
//     invalid; it returns at most k hits (fewer when fewer items pass the
//     filter, an empty result, not an error, when none do), best first, each
//     ID once, with Score the cosine similarity to the query.
//   - Filter: OR within a field, AND across fields; an item without a field
//     the filter lists does not pass; a field listed with no values passes
//     nothing. Values are compared as exact strings (quotes and backslashes
//     included, so an implementation that builds query expressions must
//     escape them).
//
// All vectors are seeded random unit vectors, so a failure reproduces.
package vectortest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
)

// scoreTolerance is how far a reported score may be from the exact cosine
// similarity: float32 arithmetic in another order (SIMD, a server) differs
// in the last bits, never by this much.
const scoreTolerance = 1e-3

// dims is the dimension of most subtests: small keeps them fast, large
// enough that random vectors are well spread.
const dims = 16

// Run runs the contract suite.
func Run(t *testing.T, newIndex func(t *testing.T, dims int) vector.Index) {
	open := func(t *testing.T, dims int) vector.Index {
		t.Helper()
		idx := newIndex(t, dims)
		t.Cleanup(func() {
			if err := idx.Close(); err != nil {
				t.Errorf("close index: %v", err)
			}
		})
		return idx
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T, dims int) vector.Index)
	}{
		{"Empty", testEmpty},
		{"SearchNearest", testSearchNearest},
		{"Recall", testRecall},
		{"UpsertReplaces", testUpsertReplaces},
		{"UpsertRepeatedIDLastWins", testRepeatedID},
		{"Delete", testDelete},
		{"Filter", testFilter},
		{"FilterTopK", testFilterTopK},
		{"KLargerThanCount", testKLargerThanCount},
		{"ErrDimensionMismatch", testDimensionMismatch},
		{"ErrInvalidInput", testInvalidInput},
		{"ConcurrentUpsertSearch", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// RandomUnit returns a random unit vector of dims dimensions drawn from rng.
func RandomUnit(rng *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x := rng.NormFloat64()
		v[i] = float32(x)
		norm += x * x
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// RandomItems returns n items with IDs "<prefix><i>" and random unit
// vectors; the same seed gives the same items.
func RandomItems(seed uint64, prefix string, n, dims int) []vector.Item {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	items := make([]vector.Item, n)
	for i := range items {
		items[i] = vector.Item{ID: fmt.Sprintf("%s%d", prefix, i), Vector: RandomUnit(rng, dims)}
	}
	return items
}

// Nearest returns the k items passing f nearest to query, by exhaustive
// scan and in vector.SortHits order: the reference every index is checked
// against.
func Nearest(items []vector.Item, query []float32, k int, f vector.Filter) []vector.Hit {
	var hits []vector.Hit
	for _, it := range items {
		if f.Match(it.Fields) {
			hits = append(hits, vector.Hit{ID: it.ID, Score: Dot(query, it.Vector)})
		}
	}
	vector.SortHits(hits)
	return hits[:min(k, len(hits))]
}

// Dot is the dot product of two vectors of the same length.
func Dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func upsert(t *testing.T, idx vector.Index, items ...vector.Item) {
	t.Helper()
	if err := idx.Upsert(context.Background(), items...); err != nil {
		t.Fatalf("upsert %d items: %v", len(items), err)
	}
}

func search(t *testing.T, idx vector.Index, q []float32, k int, f vector.Filter) []vector.Hit {
	t.Helper()
	hits, err := idx.Search(context.Background(), q, k, f)
	if err != nil {
		t.Fatalf("search k=%d filter=%v: %v", k, f, err)
	}
	checkHits(t, hits, k)
	return hits
}

// checkHits asserts what holds for every result: at most k, best first,
// each ID once.
func checkHits(t *testing.T, hits []vector.Hit, k int) {
	t.Helper()
	if len(hits) > k {
		t.Errorf("got %d hits, want at most k=%d", len(hits), k)
	}
	seen := make(map[string]bool, len(hits))
	for i, h := range hits {
		if seen[h.ID] {
			t.Errorf("hit %d: ID %q returned twice", i, h.ID)
		}
		seen[h.ID] = true
		if i > 0 && h.Score > hits[i-1].Score+scoreTolerance {
			t.Errorf("hit %d (%s, %.4f) scores above hit %d (%s, %.4f): not best first",
				i, h.ID, h.Score, i-1, hits[i-1].ID, hits[i-1].Score)
		}
	}
}

func count(t *testing.T, idx vector.Index) int {
	t.Helper()
	n, err := idx.Count(context.Background())
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func wantCount(t *testing.T, idx vector.Index, want int) {
	t.Helper()
	if got := count(t, idx); got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
}

func ids(hits []vector.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

// sameIDs compares the IDs of two results as sets, so that near-ties
// ordered differently by float rounding do not fail a test.
func sameIDs(got, want []vector.Hit) bool {
	a, b := ids(got), ids(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func wantCode(t *testing.T, what string, err error, code mdk.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want code %s", what, code)
		return
	}
	var e *mdk.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: got %v (%T), want an *mdk.Error with code %s", what, err, err, code)
		return
	}
	if e.Code != code {
		t.Errorf("%s: got code %s (%v), want %s", what, e.Code, err, code)
	}
}
