package hnsw

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/internal/kernel"
)

// Options tune an Index; a zero field takes its default.
type Options struct {
	// M is how many neighbours a node keeps (2M at layer 0). More raises
	// recall and memory. Default 16.
	M int
	// EfConstruction is the beam width while inserting. More builds a
	// better graph, slower. Default 100: 50,000 catalog embeddings of 256
	// dimensions build in about 5 s on one core.
	EfConstruction int
	// EfSearch is the beam width of a search (at least k is used). More
	// raises recall and latency. Default 64: recall@10 0.9995 at 0.09 ms
	// (p50) on those 50,000 embeddings (see the package benchmarks).
	EfSearch int
	// ExactBelow: a search whose candidates (items passing the filter, or
	// all items) number at most this is answered by an exact scan, which is
	// as fast at that size and never misses. Default 1000. Above it the
	// cheaper plan by the cost model wins. Negative turns the exact plan off
	// unless k covers every candidate (for tests and benchmarks of the
	// graph itself).
	ExactBelow int
	// CompactMin: the graph is rebuilt without deleted and replaced
	// vectors once they number at least this and at least a quarter of the
	// live ones. Default 1024.
	CompactMin int
	// Seed makes node levels, and so the graph, reproducible.
	Seed uint64
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.M, 16)
	def(&o.EfConstruction, 100)
	def(&o.EfSearch, 64)
	if o.ExactBelow == 0 {
		o.ExactBelow = 1000
	}
	def(&o.CompactMin, 1024)
	return o
}

// writeChunk is how many items one Upsert links while holding the write
// lock; searches get in between chunks, so a bulk load does not stall them.
const writeChunk = 64

// Index is the in-process approximate nearest-neighbour index: an HNSW
// graph plus an inverted index over the items' fields. It is safe for
// concurrent use: searches share a read lock, writes take the write lock a
// chunk at a time.
//
// Filtered search counts the items passing the filter exactly (from the
// inverted index) and then takes the cheaper of two exact-enough plans:
// scan just those items, or walk the graph admitting only them as results
// (the walk still passes through the others, so a filter never strands
// it). Deleted and replaced vectors stay in the graph as waypoints, marked
// dead, until a background rebuild drops them.
type Index struct {
	dims int
	opts Options

	mu         sync.RWMutex
	st         *state
	closed     bool
	compacting bool
	journal    []change // writes made during a rebuild, replayed onto its result
	done       chan struct{}
	wg         sync.WaitGroup
	scratch    sync.Pool
	// visits is the running mean (float64 bits) of vectors an unfiltered
	// search compares, the cost model for choosing a filtered plan.
	visits      atomic.Uint64
	compactions atomic.Int64
}

// change is a write made while a rebuild runs.
type change struct {
	id     string
	unit   []float32 // nil for a delete
	fields map[string]string
}

// Stats describe an index's storage.
type Stats struct {
	Live        int  // items a search can return
	Dead        int  // deleted or replaced vectors still in the graph
	Compacting  bool // a rebuild is running
	Compactions int  // rebuilds finished
}

// New returns an empty index for vectors of dims dimensions.
func New(dims int, o Options) (*Index, error) {
	if dims < 1 {
		return nil, fmt.Errorf("new hnsw index: dimensions must be at least 1, got %d", dims)
	}
	o = o.withDefaults()
	x := &Index{dims: dims, opts: o, st: newState(dims, o), done: make(chan struct{})}
	x.scratch.New = func() any { return new(scratch) }
	x.visits.Store(math.Float64bits(float64(10 * o.EfSearch)))
	return x, nil
}

// Upsert inserts or replaces items, validating all of them first (an
// invalid *mdk.Error leaves the index unchanged). A repeated ID keeps its
// last item. Replacing an item with the same vector only updates its
// fields. A large batch is applied in chunks with searches served in
// between; if ctx ends between chunks, the chunks before stay applied.
func (x *Index) Upsert(ctx context.Context, items ...vector.Item) error {
	if err := vector.CheckItems(x.dims, items); err != nil {
		return err
	}
	last := make(map[string]int, len(items))
	for i, it := range items {
		last[it.ID] = i
	}
	changes := make([]change, 0, len(last))
	for i, it := range items {
		if last[it.ID] != i {
			continue
		}
		unit, _ := kernel.Normalize(it.Vector) // CheckItems ruled out failure
		changes = append(changes, change{id: it.ID, unit: unit, fields: maps.Clone(it.Fields)})
	}
	sc := x.getScratch()
	defer x.scratch.Put(sc)
	for start := 0; start < len(changes); start += writeChunk {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("upsert vectors: %w", err)
		}
		if err := x.write(changes[start:min(start+writeChunk, len(changes))], sc); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes items; unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	changes := make([]change, len(ids))
	for i, id := range ids {
		changes[i] = change{id: id}
	}
	return x.write(changes, nil)
}

func (x *Index) write(changes []change, sc *scratch) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return vector.ErrClosed
	}
	for _, c := range changes {
		x.st.apply(c, sc)
	}
	if x.compacting {
		x.journal = append(x.journal, changes...)
	}
	x.maybeCompact()
	return nil
}

// Search returns up to k items passing f, nearest first, equal scores by
// ID. A bad query or k < 1 is an invalid *mdk.Error.
func (x *Index) Search(ctx context.Context, query []float32, k int, f vector.Filter) ([]vector.Hit, error) {
	if err := vector.CheckQuery(x.dims, query, k); err != nil {
		return nil, err
	}
	q, _ := kernel.Normalize(query) // CheckQuery ruled out failure
	sc := x.getScratch()
	defer x.scratch.Put(sc)

	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, vector.ErrClosed
	}
	st := x.st
	live := len(st.slots)
	allow := st.allowed()
	if len(f) > 0 {
		allow = st.post.match(f, st.g.len())
		live = allow.count()
	}
	if live == 0 {
		return []vector.Hit{}, nil
	}
	var cands []kernel.Candidate
	walked := false
	if !x.exact(live, len(st.slots), k) {
		// The walk may cost at most what the scan would: when the passing
		// items lie away from the query (a filter correlated with it), it
		// wanders, and the scan is the better plan after all. Giving up
		// then costs one scan's worth of work, in the worst case.
		budget := 0
		if allow != nil {
			budget = max(1, live/walkCost)
		}
		sc.dots = 0
		cands, walked = st.g.search(q, k, x.opts.EfSearch, allow, budget, sc)
		if walked && allow == nil {
			x.noteVisits(sc.dots)
		}
	}
	if !walked {
		cands = st.scan(q, k, allow, sc)
	}
	hits := make([]vector.Hit, len(cands))
	for i, c := range cands {
		hits[i] = vector.Hit{ID: st.ids[c.Slot], Score: c.Score}
	}
	vector.SortHits(hits)
	return hits, nil
}

// exact decides between a scan of the n candidate items and a graph walk
// over all live ones. A walk that admits a fraction n/live of the nodes
// compares about visits·live/n vectors before it fills its beam, and each
// comparison costs a few times a scanned one (random access, heap upkeep);
// a scan compares n, in order. Small sets, and k covering all candidates,
// always scan.
func (x *Index) exact(n, live, k int) bool {
	switch {
	case k >= n || n <= x.opts.ExactBelow:
		return true
	case x.opts.ExactBelow < 0:
		return false
	}
	visits := math.Float64frombits(x.visits.Load())
	return float64(n) <= walkCost*visits*float64(live)/float64(n)
}

// walkCost is what comparing one vector in a graph walk costs, in
// comparisons of a sequential scan.
const walkCost = 4

// noteVisits folds one search's comparisons into the running mean.
func (x *Index) noteVisits(dots int) {
	for {
		old := x.visits.Load()
		mean := math.Float64frombits(old)
		next := math.Float64bits(mean + (float64(dots)-mean)/64)
		if x.visits.CompareAndSwap(old, next) {
			return
		}
	}
}

// Count returns how many items the index holds.
func (x *Index) Count(ctx context.Context) (int, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, vector.ErrClosed
	}
	return len(x.st.slots), nil
}

// Stats reports the index's storage, for metrics and tests.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return Stats{
		Live:        len(x.st.slots),
		Dead:        x.st.dead,
		Compacting:  x.compacting,
		Compactions: int(x.compactions.Load()),
	}
}

// Close stops a running rebuild and releases the index; later calls
// return vector.ErrClosed. Closing twice is harmless.
func (x *Index) Close() error {
	x.mu.Lock()
	if !x.closed {
		x.closed = true
		close(x.done)
	}
	x.mu.Unlock()
	x.wg.Wait()
	x.mu.Lock()
	x.st, x.journal = newState(x.dims, x.opts), nil
	x.mu.Unlock()
	return nil
}

func (x *Index) getScratch() *scratch { return x.scratch.Get().(*scratch) }

// maybeCompact starts a background rebuild when dead vectors make up too
// much of the graph: they cost memory and every walk through them. The
// caller holds the write lock.
func (x *Index) maybeCompact() {
	dead := x.st.dead
	if x.compacting || x.closed || dead < x.opts.CompactMin || dead*4 < len(x.st.slots) {
		return
	}
	snap := x.st.snapshot()
	x.compacting = true
	x.journal = nil
	x.wg.Add(1)
	go x.compact(snap)
}

// compact builds a fresh graph from a snapshot of the live items without
// holding the lock, then replays the writes made meanwhile and swaps it in.
// The snapshot shares vectors and field maps with the old state: both are
// immutable once stored.
func (x *Index) compact(snap []change) {
	defer x.wg.Done()
	fresh := newState(x.dims, x.opts)
	sc := new(scratch)
	for i, c := range snap {
		if i%writeChunk == 0 {
			select {
			case <-x.done:
				return
			default:
			}
		}
		fresh.apply(c, sc)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	for _, c := range x.journal {
		fresh.apply(c, sc)
	}
	x.st, x.journal, x.compacting = fresh, nil, false
	x.compactions.Add(1)
}

// state is one generation of the index: a graph and what it knows about
// each slot. A rebuild makes a new state and swaps it in whole.
type state struct {
	g      *graph
	ids    []string            // by slot
	fields []map[string]string // by slot; never mutated once stored
	slots  map[string]int32    // live ID to slot
	alive  *bitset             // live slots
	dead   int                 // slots no longer live
	post   postings
}

func newState(dims int, o Options) *state {
	return &state{
		g:     newGraph(dims, o),
		slots: make(map[string]int32),
		alive: newBitset(0),
		post:  make(postings),
	}
}

// apply performs one change (an upsert, or a delete when unit is nil).
func (st *state) apply(c change, sc *scratch) {
	s, exists := st.slots[c.id]
	if exists && c.unit != nil && slices.Equal(st.g.vec(s), c.unit) {
		st.post.remove(s, st.fields[s])
		st.post.add(s, c.fields)
		st.fields[s] = c.fields
		return
	}
	if exists {
		st.post.remove(s, st.fields[s])
		st.alive.clear(s)
		delete(st.slots, c.id)
		st.fields[s] = nil
		st.dead++
	}
	if c.unit == nil {
		return
	}
	s = st.g.add(c.unit, sc)
	st.ids = append(st.ids, c.id)
	st.fields = append(st.fields, c.fields)
	st.slots[c.id] = s
	st.alive.set(s)
	st.post.add(s, c.fields)
}

// allowed is the set a search may return when there is no filter: nil
// (everything) until something is deleted.
func (st *state) allowed() *bitset {
	if st.dead == 0 {
		return nil
	}
	return st.alive
}

// scan compares q with every slot allow admits (every live slot for nil).
func (st *state) scan(q []float32, k int, allow *bitset, sc *scratch) []kernel.Candidate {
	sc.res.Reset(k)
	push := func(s int32) {
		sc.res.Push(kernel.Candidate{Slot: s, Score: kernel.Dot(q, st.g.vec(s))})
	}
	if allow == nil {
		for s := range int32(st.g.len()) {
			push(s)
		}
	} else {
		allow.each(push)
	}
	return sc.res.Sorted()
}

// snapshot lists the live items in slot order, for a rebuild.
func (st *state) snapshot() []change {
	snap := make([]change, 0, len(st.slots))
	st.alive.each(func(s int32) {
		snap = append(snap, change{id: st.ids[s], unit: st.g.vec(s), fields: st.fields[s]})
	})
	return snap
}
