package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// plan is a validated query.
type plan struct {
	text   string // trimmed; empty when the query has no words
	words  []queryWord
	filter map[string][]string
	ranges map[string]Range
	facets []string
	bands  map[string][]Band
	sort   Sort
	limit  int
	mode   Mode
	fp     string
	after  *sortKey
}

// defaultBrowseSort orders a query without text: newest first.
var defaultBrowseSort = Sort{Field: "created_at", Desc: true}

// Search returns one page of the documents matching q. With text, a
// document matches if the lexical ranker matches it or it is among the
// vector ranker's nearest candidates; without text, every document passing
// the filters matches. Errors: invalid (with the field) for a bad limit,
// mode, filter, range, facet or cursor; unavailable when a vector-only
// query cannot reach the embedder or vector index (a hybrid query then
// answers lexically instead).
func (x *Index) Search(ctx context.Context, q Query) (Result, error) {
	p, err := x.plan(q)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	vq, err := x.prepareVector(ctx, p)
	if err != nil {
		return Result{}, err
	}
	sc, _ := x.scratch.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	defer func() {
		sc.reset()
		x.scratch.Put(sc)
	}()
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.run(p, vq, sc), nil
}

func (x *Index) plan(q Query) (*plan, error) {
	var errs []error
	p := &plan{filter: q.Filter, ranges: q.Ranges, bands: q.RangeFacets, sort: q.Sort, limit: q.Limit, mode: q.Mode}
	switch q.Mode {
	case ModeHybrid, ModeLexical:
	case ModeVector:
		if !x.vectorsEnabled() {
			errs = append(errs, mdk.Invalid("mode", "semantic search is not configured on this server; use lexical or hybrid mode"))
		}
	default:
		errs = append(errs, mdk.Invalid("mode", "unknown mode %q; use lexical, vector, or leave it empty for hybrid", q.Mode))
	}
	if len(q.Text) > MaxTextBytes {
		errs = append(errs, mdk.Invalid("text", "the query text is %d bytes; keep it under %d", len(q.Text), MaxTextBytes))
	}
	switch {
	case q.Limit == 0:
		p.limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		errs = append(errs, mdk.Invalid("limit", "limit must be between 1 and %d (default %d)", MaxLimit, DefaultLimit))
	}
	for field, values := range q.Filter {
		if field == "" || len(values) == 0 {
			errs = append(errs, mdk.Invalid("filter."+field, "name a field and give at least one value to keep"))
		}
	}
	for field, r := range q.Ranges {
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			errs = append(errs, mdk.Invalid("ranges."+field, "min (%d) is above max (%d)", *r.Min, *r.Max))
		}
	}
	seen := map[string]bool{}
	for i, f := range q.Facets {
		if f == "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("facets[%d]", i), "name the keyword field to count"))
		}
		if !seen[f] {
			seen[f] = true
			p.facets = append(p.facets, f)
		}
	}
	for field, bands := range q.RangeFacets {
		if seen[field] || len(bands) == 0 {
			errs = append(errs, mdk.Invalid("range_facets."+field, "give at least one band, and do not also ask for %q as a keyword facet", field))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p.fp = fingerprint(q)
	if q.Cursor != "" {
		after, err := decodeCursor(q.Cursor, p.fp)
		if err != nil {
			return nil, err
		}
		p.after = &after
	}
	p.words = analyseQuery(x.cfg.Stemming, q.Text)
	if len(p.words) > 0 {
		p.text = strings.TrimSpace(q.Text)
	} else if p.sort.Field == "" {
		// No text, or only stop words and punctuation: nothing to rank by,
		// so the query browses, newest first.
		p.sort = defaultBrowseSort
	}
	return p, nil
}

// run answers a planned query; the caller holds the read lock.
func (x *Index) run(p *plan, vq *vecQuery, sc *scratch) Result {
	s := x.st
	keep := s.filterSet(p.filter, p.ranges)
	each := x.matches(p, vq, keep, sc)

	better := keyOrder(p.sort)
	page := newTopK(p.limit, func(a, b hitKey) bool { return better(a.key, b.key) })
	facets := s.newFacetCounter(p.facets, p.bands)
	var sortCol *numField
	if fid, ok := s.numsByName[p.sort.Field]; ok {
		sortCol = &s.nums[fid]
	}
	total, after := 0, 0
	each(func(ord uint32, tier uint8, rel float64) {
		total++
		facets.add(ord)
		k := sortKey{tier: tier, score: rel, id: s.ids[ord]}
		if p.sort.Field != "" {
			// Documents without the sort field come last either way.
			k = sortKey{tier: 1, id: k.id}
			if sortCol != nil && sortCol.has.has(ord) {
				k.tier, k.value = 0, sortCol.vals[ord]
			}
		}
		if p.after != nil && !better(*p.after, k) {
			return
		}
		after++
		score := rel
		if tier > 0 {
			score = 0 // beyond the fusion depth: ranked, but not scored
		}
		page.push(hitKey{key: k, score: score})
	})

	res := Result{Total: total, Hits: []Hit{}}
	hits := page.sorted()
	for _, h := range hits {
		res.Hits = append(res.Hits, Hit{ID: h.key.id, Score: h.score})
	}
	if after > p.limit {
		res.NextCursor = encodeCursor(p.fp, hits[len(hits)-1].key)
	}
	if len(p.facets) > 0 || len(p.bands) > 0 {
		res.Facets = facets.result(x.cfg.FacetSize)
	}
	return res
}

type hitKey struct {
	key   sortKey
	score float64
}

// keyOrder returns the strict order of results under a sort.
func keyOrder(srt Sort) func(a, b sortKey) bool {
	return func(a, b sortKey) bool {
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if srt.Field == "" && a.score != b.score {
			return a.score > b.score
		}
		if srt.Field != "" && a.value != b.value {
			return (a.value > b.value) == srt.Desc
		}
		return a.id < b.id
	}
}

// matchFunc visits every match once with its relevance tier and score.
type matchFunc func(visit func(ord uint32, tier uint8, rel float64))

// matches returns the query's matches. Lexical and vector rankings are fused
// by reciprocal rank fusion: score = Σ weight / (k + rank). Fusion covers
// the top FusionDepth lexical ranks (ranking every lexical match would cost
// a full sort per query); lexical matches beyond it and outside the vector
// candidates come after the fused ones (tier 1) in BM25F order, which is
// the order full RRF would give them too.
func (x *Index) matches(p *plan, vq *vecQuery, keep bitset, sc *scratch) matchFunc {
	s := x.st
	if p.text == "" {
		set := keep
		if set == nil {
			set = s.alive
		}
		each := set.each
		if p.sort.Desc {
			// Ordinals follow insertion, so newer documents have higher
			// ones: visiting them first, a newest-first page fills at once
			// and later documents fail the page's cut-off in one compare.
			each = set.eachDesc
		}
		return func(visit func(uint32, uint8, float64)) {
			each(func(ord uint32) { visit(ord, 0, 0) })
		}
	}
	var lex []scored
	if p.mode != ModeVector {
		lex = s.lexical(sc, s.buildClauses(p.words, x.syn), keep)
	}
	var vec []vecHit
	if vq != nil {
		vec = s.rankVector(vq, keep, x.cfg.VectorCandidates)
	}
	if vq == nil || p.mode == ModeLexical {
		return func(visit func(uint32, uint8, float64)) {
			for _, m := range lex {
				visit(m.ord, 0, float64(m.score))
			}
		}
	}
	if p.mode == ModeVector {
		return func(visit func(uint32, uint8, float64)) {
			for _, h := range vec {
				visit(h.ord, 0, float64(h.score))
			}
		}
	}
	fused := x.fuse(lex, vec)
	floor := float32(x.cfg.VectorMatchMin)
	if len(vec) > 0 {
		floor = max(floor, float32(x.cfg.VectorMatchRatio)*vec[0].score)
	}
	return func(visit func(uint32, uint8, float64)) {
		for _, m := range lex {
			if f, ok := fused[m.ord]; ok {
				visit(m.ord, 0, f)
			} else {
				visit(m.ord, 1, float64(m.score))
			}
		}
		for _, h := range vec {
			if h.score < floor {
				break // vec is nearest first
			}
			if _, found := slices.BinarySearchFunc(lex, h.ord, func(m scored, ord uint32) int { return int(m.ord) - int(ord) }); !found {
				visit(h.ord, 0, fused[h.ord])
			}
		}
	}
}

// fuse returns the RRF score of the top lexical ranks and the vector
// candidates.
func (x *Index) fuse(lex []scored, vec []vecHit) map[uint32]float64 {
	s := x.st
	top := newTopK(x.cfg.FusionDepth, func(a, b scored) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return s.ids[a.ord] < s.ids[b.ord]
	})
	for _, m := range lex {
		top.push(m)
	}
	k := float64(x.cfg.RRFK)
	fused := make(map[uint32]float64, len(top.items)+len(vec))
	for i, m := range top.sorted() {
		fused[m.ord] += x.cfg.LexicalWeight / (k + float64(i+1))
	}
	for i, h := range vec {
		fused[h.ord] += x.cfg.VectorWeight / (k + float64(i+1))
	}
	return fused
}
