package hnsw

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hyperrr/hyperrr/mdk/vector/internal/kernel"
)

// maxLevel caps a node's level. With M=16 a level above 6 is drawn once in
// 16⁶ ≈ 17 million nodes, so the cap only guards the uint8 storage.
const maxLevel = 30

// graph is a Hierarchical Navigable Small World graph (Malkov & Yashunin,
// 2016) over unit vectors, scored by dot product (higher is closer). Nodes
// are slots 0..n-1, never removed: the index marks deleted slots and
// rebuilds the graph when too many accumulate. A graph is not safe for
// concurrent use; the index serialises writes and lets searches share it.
type graph struct {
	dims           int
	m, m0          int // neighbours kept per node above layer 0 and at layer 0
	efConstruction int
	ml             float64 // level multiplier, 1/ln(M)
	rng            *rand.Rand

	vecs   []float32 // slot s is vecs[s*dims:(s+1)*dims], unit length
	levels []uint8
	// links0 holds each slot's layer-0 neighbours in a fixed stride of
	// m0+1: a header whose slot field is the count, then the links. One
	// array, no per-node allocation.
	links0 []link
	// upper holds the neighbours of the few slots above layer 0, layer l
	// at (l-1)*(m+1) in the same header-then-links layout; nil for the
	// rest.
	upper [][]link
	entry int32 // the top-level slot searches start from; -1 when empty
	top   int   // the entry's level
}

func newGraph(dims int, o Options) *graph {
	return &graph{
		dims:           dims,
		m:              o.M,
		m0:             2 * o.M,
		efConstruction: o.EfConstruction,
		ml:             1 / math.Log(float64(o.M)),
		rng:            rand.New(rand.NewPCG(o.Seed, 0x4e5357)),
		entry:          -1,
	}
}

func (g *graph) len() int { return len(g.levels) }

func (g *graph) vec(s int32) []float32 {
	i := int(s) * g.dims
	return g.vecs[i : i+g.dims : i+g.dims]
}

// link is an edge to a neighbour with its similarity, kept so that
// deciding whether a new neighbour displaces an old one needs no vector
// arithmetic.
type link = kernel.Candidate

// list returns the header and capacity of s's neighbour list at level.
func (g *graph) list(s int32, level int) []link {
	if level == 0 {
		base := int(s) * (g.m0 + 1)
		return g.links0[base : base+g.m0+1 : base+g.m0+1]
	}
	base := (level - 1) * (g.m + 1)
	return g.upper[s][base : base+g.m+1 : base+g.m+1]
}

func (g *graph) neighbours(s int32, level int) []link {
	l := g.list(s, level)
	return l[1 : 1+l[0].Slot]
}

func (g *graph) setNeighbours(s int32, level int, ns []kernel.Candidate) {
	l := g.list(s, level)
	l[0].Slot = int32(len(ns))
	copy(l[1:], ns)
}

// add stores a unit vector in a new slot, links it into the graph and
// returns the slot.
func (g *graph) add(unit []float32, sc *scratch) int32 {
	s := int32(g.len())
	level := min(int(-math.Log(1-g.rng.Float64())*g.ml), maxLevel)
	g.vecs = append(g.vecs, unit...)
	g.levels = append(g.levels, uint8(level))
	g.links0 = append(g.links0, make([]link, g.m0+1)...)
	g.upper = append(g.upper, nil)
	if level > 0 {
		g.upper[s] = make([]link, level*(g.m+1))
	}
	g.link(s, level, sc)
	return s
}

// link connects slot s, already stored, at every level up to level.
func (g *graph) link(s int32, level int, sc *scratch) {
	if g.entry < 0 {
		g.entry, g.top = s, level
		return
	}
	q := g.vec(s)
	ep := kernel.Candidate{Slot: g.entry, Score: kernel.Dot(q, g.vec(g.entry))}
	for l := g.top; l > level; l-- {
		ep = g.greedy(q, ep, l, sc)
	}
	sc.eps = append(sc.eps[:0], ep)
	for l := min(level, g.top); l >= 0; l-- {
		g.searchLayer(q, sc.eps, g.efConstruction, l, nil, 0, sc)
		found := sc.res.Sorted()
		chosen := g.selectNeighbours(found, g.m, &sc.chosen, sc)
		g.setNeighbours(s, l, chosen)
		for _, c := range chosen {
			g.connect(c.Slot, s, c.Score, l, sc)
		}
		sc.eps = append(sc.eps[:0], found...)
	}
	if level > g.top {
		g.entry, g.top = s, level
	}
}

// connect adds s to n's neighbours at level; when n's list is full, the
// heuristic picks which of the old neighbours and s to keep. The stored
// scores spare recomputing n's similarity to each old neighbour.
func (g *graph) connect(n, s int32, score float32, level int, sc *scratch) {
	l := g.list(n, level)
	count := int(l[0].Slot)
	if count < len(l)-1 {
		l[count+1] = link{Slot: s, Score: score}
		l[0].Slot++
		return
	}
	cands := append(append(sc.shrink[:0], l[1:]...), link{Slot: s, Score: score})
	slices.SortFunc(cands, compareCandidates)
	sc.shrink = cands
	g.setNeighbours(n, level, g.selectNeighbours(cands, len(l)-1, &sc.kept, sc))
}

// selectNeighbours is the paper's heuristic (algorithm 4): walking the
// candidates best first, keep one only if it is closer to the base than to
// every neighbour already kept. Neighbours spread in different directions,
// which keeps clustered data navigable where "the m closest" would link a
// cluster only to itself.
func (g *graph) selectNeighbours(cands []kernel.Candidate, m int, buf *[]kernel.Candidate, sc *scratch) []kernel.Candidate {
	out := (*buf)[:0]
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		cv := g.vec(c.Slot)
		keep := true
		for _, r := range out {
			sc.dots++
			if kernel.Dot(cv, g.vec(r.Slot)) > c.Score {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	*buf = out
	return out
}

// greedy walks level from ep to the closest slot it can reach.
func (g *graph) greedy(q []float32, ep kernel.Candidate, level int, sc *scratch) kernel.Candidate {
	for moved := true; moved; {
		moved = false
		for _, n := range g.neighbours(ep.Slot, level) {
			sc.dots++
			if s := kernel.Dot(q, g.vec(n.Slot)); s > ep.Score {
				ep, moved = kernel.Candidate{Slot: n.Slot, Score: s}, true
			}
		}
	}
	return ep
}

// searchLayer is the paper's beam search (algorithm 2) over one level,
// leaving the ef best slots allow admits in sc.res. Slots allow refuses
// (deleted, filtered out) are still walked through, so a filter never cuts
// the graph apart; they just never become results. A nil allow admits all.
// The walk gives up, returning false, once it has compared more than
// budget vectors (0 for no limit).
func (g *graph) searchLayer(q []float32, eps []kernel.Candidate, ef, level int, allow *bitset, budget int, sc *scratch) bool {
	sc.visited.reset(g.len())
	sc.res.Reset(ef)
	sc.cand.Reset()
	limit := sc.dots + budget
	for _, e := range eps {
		sc.visited.visit(e.Slot)
		sc.cand.Push(e)
		if allow.has(e.Slot) {
			sc.res.Push(e)
		}
	}
	for sc.cand.Len() > 0 {
		c := sc.cand.Pop()
		if sc.res.Full() && c.Score < sc.res.Worst().Score {
			break
		}
		if budget > 0 && sc.dots > limit {
			return false
		}
		for _, n := range g.neighbours(c.Slot, level) {
			if sc.visited.visit(n.Slot) {
				continue
			}
			sc.dots++
			s := kernel.Dot(q, g.vec(n.Slot))
			if sc.res.Full() && s <= sc.res.Worst().Score {
				continue
			}
			next := kernel.Candidate{Slot: n.Slot, Score: s}
			sc.cand.Push(next)
			if allow.has(n.Slot) {
				sc.res.Push(next)
			}
		}
	}
	return true
}

// search returns the k slots allow admits nearest to the unit vector q,
// best first, searching layer 0 with a beam of ef; or false when the walk
// exceeded budget comparisons (0 for no limit).
func (g *graph) search(q []float32, k, ef int, allow *bitset, budget int, sc *scratch) ([]kernel.Candidate, bool) {
	if g.entry < 0 {
		return nil, true
	}
	ep := kernel.Candidate{Slot: g.entry, Score: kernel.Dot(q, g.vec(g.entry))}
	for l := g.top; l > 0; l-- {
		ep = g.greedy(q, ep, l, sc)
	}
	sc.eps = append(sc.eps[:0], ep)
	if !g.searchLayer(q, sc.eps, max(ef, k), 0, allow, budget, sc) {
		return nil, false
	}
	for sc.res.Len() > k {
		sc.res.Pop()
	}
	return sc.res.Sorted(), true
}

func compareCandidates(a, b kernel.Candidate) int {
	switch {
	case kernel.Better(a, b):
		return -1
	case kernel.Better(b, a):
		return 1
	}
	return 0
}

// scratch is the per-search working memory, pooled so a search allocates
// almost nothing.
type scratch struct {
	visited visited
	res     kernel.TopK
	cand    kernel.Queue
	eps     []kernel.Candidate
	chosen  []kernel.Candidate
	kept    []kernel.Candidate
	shrink  []kernel.Candidate
	dots    int // vectors compared, for the index's cost model
}

// visited marks slots seen by one search. Marks are generation stamps, so
// starting a search is O(1) rather than clearing n flags.
type visited struct {
	marks []uint32
	gen   uint32
}

func (v *visited) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint32, n+n/4)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 { // wrapped: stale stamps could match again
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks s and reports whether it was already marked.
func (v *visited) visit(s int32) bool {
	if v.marks[s] == v.gen {
		return true
	}
	v.marks[s] = v.gen
	return false
}
