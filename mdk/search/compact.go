package search

import "slices"

// gone marks a deleted ordinal in a compaction's remap table.
const gone = ^uint32(0)

// compacted returns a copy of s with the live documents renumbered densely
// and the deleted ones dropped from every structure; df becomes exact
// again. It only reads s, so searches go on while it runs; the caller (the
// one writer) swaps it in. Term and value IDs stay, so the vocabulary keeps
// terms no live document has (df 0, skipped by typo and prefix matching).
func (s *store) compacted() *store {
	remap := make([]uint32, len(s.ids))
	n := uint32(0)
	for ord := range remap {
		if s.alive.has(uint32(ord)) {
			remap[ord] = n
			n++
		} else {
			remap[ord] = gone
		}
	}
	c := *s
	c.ids = make([]string, 0, n)
	c.docKw = make([][]uint32, 0, n)
	c.byID = make(map[string]uint32, n)
	for ord, id := range s.ids {
		if remap[ord] != gone {
			c.byID[id] = uint32(len(c.ids))
			c.ids = append(c.ids, id)
			c.docKw = append(c.docKw, s.docKw[ord])
		}
	}
	c.text = slices.Clone(s.text)
	for i := range c.text {
		c.text[i].lens = compactColumn(s.text[i].lens, remap, n)
	}
	c.nums = slices.Clone(s.nums)
	for i := range c.nums {
		f := &c.nums[i]
		has := newBitset(int(n))
		f.has.each(func(ord uint32) {
			if remap[ord] != gone {
				has.set(remap[ord])
			}
		})
		f.vals, f.has = compactColumn(f.vals, remap, n), has
	}
	c.compactVectors(remap, n)
	c.kw = slices.Clone(s.kw)
	for i := range c.kw {
		postings := make([][]uint32, len(s.kw[i].postings))
		for v, p := range s.kw[i].postings {
			postings[v], _ = remapPostings(p, nil, remap) // no frequencies to keep
		}
		c.kw[i].postings = postings
	}
	c.lex = s.lex.compacted(remap, n)
	c.alive = newBitset(int(n))
	for ord := range n {
		c.alive.set(ord)
	}
	c.dead = 0
	c.scratchTIDs = nil
	return &c
}

// compactColumn moves a per-ordinal column's live entries to their new
// ordinals; a column shorter than the ordinals is padded with zeros.
func compactColumn[T any](col []T, remap []uint32, n uint32) []T {
	out := make([]T, n)
	for ord, v := range col {
		if to := remap[ord]; to != gone {
			out[to] = v
		}
	}
	return out
}

// compactVectors gives s new vector arrays holding the live vectors.
func (s *store) compactVectors(remap []uint32, n uint32) {
	if s.dims == 0 {
		return
	}
	vecs := make([]int8, int(n)*s.dims)
	scale := make([]float32, n)
	has := newBitset(int(n))
	s.hasVec.each(func(ord uint32) {
		to := remap[ord]
		if to == gone {
			return
		}
		copy(vecs[int(to)*s.dims:], s.vecs[int(ord)*s.dims:int(ord+1)*s.dims])
		scale[to] = s.vecScale[ord]
		has.set(to)
	})
	s.vecs, s.vecScale, s.hasVec = vecs, scale, has
}

// remapPostings returns the live entries of a posting list (and of its
// term frequencies, when given) under their new ordinals, in right-sized
// copies so the old arrays are freed.
func remapPostings(docs []uint32, tfs []uint16, remap []uint32) ([]uint32, []uint16) {
	n := 0
	for _, ord := range docs {
		if remap[ord] != gone {
			n++
		}
	}
	out := make([]uint32, 0, n)
	var outTFs []uint16
	if tfs != nil {
		outTFs = make([]uint16, 0, n)
	}
	for i, ord := range docs {
		if to := remap[ord]; to != gone {
			out = append(out, to)
			if tfs != nil {
				outTFs = append(outTFs, tfs[i])
			}
		}
	}
	return out, outTFs
}

// compacted returns a lexicon with new postings and exact df that shares
// the vocabulary (terms and surfaces) with l: l is dropped once the
// compacted store is swapped in, and only the writer adds to either.
func (l *lexicon) compacted(remap []uint32, n uint32) *lexicon {
	c := &lexicon{
		stemming: l.stemming, termByText: l.termByText,
		surfaces: l.surfaces, surfaceTerm: l.surfaceTerm, surfaceByText: l.surfaceByText,
		trigrams: l.trigrams, sorted: l.sorted, pending: l.pending,
		terms: make([]termEntry, len(l.terms)),
	}
	// stamp[doc] records the last term seen in doc, to count each document
	// once per term across its fields.
	stamp := make([]uint32, n)
	for tid, t := range l.terms {
		ct := &c.terms[tid]
		for _, p := range t.fields {
			docs, tfs := remapPostings(p.docs, p.tfs, remap)
			if len(docs) == 0 {
				continue
			}
			for _, d := range docs {
				if stamp[d] != uint32(tid)+1 {
					stamp[d] = uint32(tid) + 1
					ct.df++
				}
			}
			ct.fields = append(ct.fields, fieldPostings{field: p.field, docs: docs, tfs: tfs})
		}
	}
	return c
}
