package search

import (
	"container/list"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
)

// vecHit is a document the vector ranker found, with its cosine similarity.
type vecHit struct {
	ord   uint32
	score float32
}

// vecQuery is the vector half of a search prepared before the index lock
// is taken: embedding a query or asking a remote vector index may take
// milliseconds to seconds, and writers must not wait behind that.
type vecQuery struct {
	vec []float32
	// exact asks for exact ranking over the filtered documents, chosen when
	// they are few; otherwise ann holds the vector index's answer.
	exact bool
	ann   []vector.Hit
}

// prepareVector embeds the query text and, unless the filtered set is small
// enough to rank exactly, asks the vector index. It returns nil when the
// query does not use the vector ranker. A failing embedder or vector index
// fails a vector-only query and degrades a hybrid one to lexical.
func (x *Index) prepareVector(ctx context.Context, p *plan) (*vecQuery, error) {
	if p.text == "" || p.mode == ModeLexical || !x.vectorsEnabled() {
		return nil, nil
	}
	degrade := func(err error, what string) (*vecQuery, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if p.mode == ModeVector {
			return nil, mdk.Unavailable(err, "semantic search is unavailable (%s); retry, or use lexical mode", what)
		}
		if n, ok := x.degraded.note(time.Now()); ok {
			x.log.WarnContext(ctx, "search: vector ranker unavailable, answering lexically", "stage", what, "err", err, "degraded_queries", n)
		}
		return nil, nil
	}
	vec, err := x.embedQuery(ctx, p.text)
	if err != nil {
		return degrade(err, "embedding the query")
	}
	x.mu.RLock()
	keep := x.st.filterSet(p.filter, p.ranges)
	n := x.st.live
	if keep != nil {
		n = keep.count()
	}
	pushed, complete := x.st.pushdown(p.filter, x.cfg.VectorFields)
	complete = complete && len(p.ranges) == 0
	total := x.st.live
	x.mu.RUnlock()

	if n < x.cfg.ExactVectorLimit {
		return &vecQuery{vec: vec, exact: true}, nil
	}
	k := x.cfg.VectorCandidates
	if !complete && n > 0 {
		// Filters the vector index cannot apply are applied to its answer:
		// ask for more in proportion to how many documents they drop.
		k = min(k*((total+n-1)/n), 10*x.cfg.VectorCandidates)
	}
	hits, err := x.cfg.Vectors.Search(ctx, vec, k, pushed)
	if err != nil {
		return degrade(err, "searching the vector index")
	}
	return &vecQuery{vec: vec, ann: hits}, nil
}

// pushdown returns the part of a keyword filter the vector index can apply
// itself: fields mirrored into vector.Item.Fields that no live document has
// several values of. complete reports whether that is the whole filter.
func (s *store) pushdown(filter map[string][]string, mirrored []string) (vector.Filter, bool) {
	var f vector.Filter
	complete := true
	for field, values := range filter {
		fid, ok := s.kwByName[field]
		if !ok || s.kw[fid].multi > 0 || !slices.Contains(mirrored, field) {
			complete = false
			continue
		}
		if f == nil {
			f = vector.Filter{}
		}
		f[field] = values
	}
	return f, complete
}

// rankVector returns the vector ranker's candidates passing keep, nearest
// first (ties by ID), at most k.
func (s *store) rankVector(vq *vecQuery, keep bitset, k int) []vecHit {
	top := newTopK(k, func(a, b vecHit) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return s.ids[a.ord] < s.ids[b.ord]
	})
	if vq.exact {
		qv := make([]int8, len(vq.vec))
		qs := quantise(qv, vq.vec)
		visit := func(ord uint32) {
			if s.hasVec.has(ord) {
				top.push(vecHit{ord: ord, score: s.cosine(ord, qv, qs)})
			}
		}
		if keep != nil {
			keep.each(visit)
		} else {
			s.hasVec.each(visit)
		}
		return top.sorted()
	}
	for _, h := range vq.ann {
		ord, ok := s.byID[h.ID]
		if ok && s.hasVec.has(ord) && (keep == nil || keep.has(ord)) {
			top.push(vecHit{ord: ord, score: h.Score})
		}
	}
	return top.sorted()
}

// quantise scales v into dst (of v's length) as int8, returning the scale
// that maps them back: float32(dst[i]) * scale ≈ v[i].
func quantise(dst []int8, v []float32) float32 {
	var maxAbs float32
	for _, x := range v {
		if x < 0 {
			x = -x
		}
		if x > maxAbs {
			maxAbs = x
		}
	}
	if maxAbs == 0 {
		clear(dst)
		return 0
	}
	inv := 127 / maxAbs
	dst = dst[:len(v)]
	for i, x := range v {
		// Round to nearest without a branch: x*inv is in [-127, 127], so
		// the shifted value is positive and truncation is floor.
		dst[i] = int8(int32(x*inv+128.5) - 128)
	}
	return maxAbs / 127
}

// cosine is the dot product of a stored vector and a quantised query; both
// were L2-normalised before quantisation.
func (s *store) cosine(ord uint32, q []int8, qScale float32) float32 {
	d := s.vecs[int(ord)*s.dims : int(ord+1)*s.dims]
	d = d[:len(q)]
	var sum int32
	for i, x := range q {
		sum += int32(x) * int32(d[i])
	}
	return float32(sum) * qScale * s.vecScale[ord]
}

// embedQuery embeds text, remembering recent queries: shoppers and agents
// repeat queries and page through results, and a remote embedder costs a
// round trip.
func (x *Index) embedQuery(ctx context.Context, text string) ([]float32, error) {
	key := strings.Join(strings.Fields(text), " ")
	if v, ok := x.qcache.get(key); ok {
		return v, nil
	}
	vs, err := x.cfg.Embedder.Embed(ctx, []string{key})
	if err != nil {
		return nil, fmt.Errorf("embed query: %w", err)
	}
	if len(vs) != 1 || len(vs[0]) != x.dims {
		return nil, fmt.Errorf("embed query: got %d vectors, want 1 of %d dimensions", len(vs), x.dims)
	}
	x.qcache.put(key, vs[0])
	return vs[0], nil
}

// warnEvery limits how often a failing vector ranker is logged: while an
// embedding service is down, every query would otherwise log.
const warnEvery = 30 * time.Second

// degradations counts queries answered without the vector ranker and says
// when to log again.
type degradations struct {
	mu       sync.Mutex
	lastWarn time.Time
	count    int
}

// note records one degraded query; ok reports that it should be logged,
// with n the queries degraded since the last log.
func (d *degradations) note(now time.Time) (n int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count++
	if now.Sub(d.lastWarn) < warnEvery {
		return 0, false
	}
	n, d.count, d.lastWarn = d.count, 0, now
	return n, true
}

// lru is a small least-recently-used cache of query embeddings.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *lruEntry, most recent first
	byKey map[string]*list.Element
}

type lruEntry struct {
	key string
	vec []float32
}

func newLRU(size int) *lru {
	return &lru{max: size, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *lru) get(key string) ([]float32, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).vec, true
}

func (c *lru) put(key string, vec []float32) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value.(*lruEntry).vec = vec
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&lruEntry{key: key, vec: vec})
	if c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*lruEntry).key)
	}
}
