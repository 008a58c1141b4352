package vector

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/hyperrr/hyperrr/mdk/vector/internal/kernel"
)

// parallelScan is the number of stored floats above which Exact splits a
// scan across CPUs: below it the goroutines cost more than they save.
const parallelScan = 1 << 20

// Exact is an Index that compares the query with every stored vector. Its
// results are exact, so it is the reference other indexes are measured
// against, and the right index for small sets (a few thousand vectors scan
// in well under a millisecond). Vectors are kept normalised in one
// contiguous array, and a delete moves the last vector into the gap, so a
// scan is one linear pass over memory.
type Exact struct {
	dims int

	mu     sync.RWMutex
	vecs   []float32           // slot i is vecs[i*dims:(i+1)*dims]
	ids    []string            // by slot
	fields []map[string]string // by slot
	slots  map[string]int32    // ID to slot
	closed bool
}

// NewExact returns an empty exact index for vectors of dims dimensions.
func NewExact(dims int) (*Exact, error) {
	if dims < 1 {
		return nil, fmt.Errorf("new exact index: dimensions must be at least 1, got %d", dims)
	}
	return &Exact{dims: dims, slots: make(map[string]int32)}, nil
}

// Upsert inserts or replaces items, all or none: invalid input is an
// invalid *mdk.Error (see CheckItems).
func (x *Exact) Upsert(ctx context.Context, items ...Item) error {
	if err := CheckItems(x.dims, items); err != nil {
		return err
	}
	unit := make([][]float32, len(items))
	for i, it := range items {
		unit[i], _ = kernel.Normalize(it.Vector) // CheckItems ruled out failure
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	for i, it := range items {
		fields := maps.Clone(it.Fields)
		if s, ok := x.slots[it.ID]; ok {
			copy(x.vec(s), unit[i])
			x.fields[s] = fields
			continue
		}
		x.slots[it.ID] = int32(len(x.ids))
		x.ids = append(x.ids, it.ID)
		x.fields = append(x.fields, fields)
		x.vecs = append(x.vecs, unit[i]...)
	}
	return nil
}

// Delete removes items; unknown IDs are ignored.
func (x *Exact) Delete(ctx context.Context, ids ...string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	for _, id := range ids {
		s, ok := x.slots[id]
		if !ok {
			continue
		}
		last := int32(len(x.ids) - 1)
		if s != last {
			copy(x.vec(s), x.vec(last))
			x.ids[s] = x.ids[last]
			x.fields[s] = x.fields[last]
			x.slots[x.ids[s]] = s
		}
		delete(x.slots, id)
		x.ids = x.ids[:last]
		x.fields[last] = nil
		x.fields = x.fields[:last]
		x.vecs = x.vecs[:int(last)*x.dims]
	}
	return nil
}

// Search returns up to k items passing f, nearest first; equal scores are
// ordered by ID. A bad query or k < 1 is an invalid *mdk.Error.
func (x *Exact) Search(ctx context.Context, query []float32, k int, f Filter) ([]Hit, error) {
	if err := CheckQuery(x.dims, query, k); err != nil {
		return nil, err
	}
	q, _ := kernel.Normalize(query) // CheckQuery ruled out failure
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, ErrClosed
	}
	n := len(x.ids)
	parts := 1
	if n*x.dims >= parallelScan {
		parts = min(runtime.GOMAXPROCS(0), n/1024)
	}
	tops := make([]kernel.TopK, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := n*p/parts, n*(p+1)/parts
		scan := func() { x.scan(&tops[p], q, k, f, int32(lo), int32(hi)) }
		if p == parts-1 {
			scan()
			continue
		}
		wg.Go(scan)
	}
	wg.Wait()
	for p := 1; p < parts; p++ {
		for tops[p].Len() > 0 {
			tops[0].Push(tops[p].Pop())
		}
	}
	return x.hits(tops[0].Sorted()), nil
}

// scan pushes the slots in [lo, hi) that pass f into top.
func (x *Exact) scan(top *kernel.TopK, q []float32, k int, f Filter, lo, hi int32) {
	top.Reset(k)
	for s := lo; s < hi; s++ {
		if len(f) > 0 && !f.Match(x.fields[s]) {
			continue
		}
		top.Push(kernel.Candidate{Slot: s, Score: kernel.Dot(q, x.vec(s))})
	}
}

// hits turns candidates into hits, ordering equal scores by ID (slot order
// is an accident of deletes).
func (x *Exact) hits(cands []kernel.Candidate) []Hit {
	hits := make([]Hit, len(cands))
	for i, c := range cands {
		hits[i] = Hit{ID: x.ids[c.Slot], Score: c.Score}
	}
	SortHits(hits)
	return hits
}

// Count returns how many items the index holds.
func (x *Exact) Count(ctx context.Context) (int, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, ErrClosed
	}
	return len(x.ids), nil
}

// Close releases the vectors; later calls return ErrClosed.
func (x *Exact) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
	x.vecs, x.ids, x.fields, x.slots = nil, nil, nil, nil
	return nil
}

func (x *Exact) vec(s int32) []float32 {
	i := int(s) * x.dims
	return x.vecs[i : i+x.dims : i+x.dims]
}

// SortHits orders hits best first, equal scores by ID, so results are
// stable across runs and implementations.
func SortHits(hits []Hit) {
	slices.SortFunc(hits, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}
