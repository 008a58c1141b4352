package search

import (
	"cmp"
	"maps"
	"slices"
)

// filterSet returns the live documents passing the query's keyword filters
// (a value of each listed field) and ranges, or nil when there are none.
func (s *store) filterSet(filter map[string][]string, ranges map[string]Range) bitset {
	if len(filter) == 0 && len(ranges) == 0 {
		return nil
	}
	set := slices.Clone(s.alive)
	for field, values := range filter {
		in := newBitset(len(s.ids))
		if fid, ok := s.kwByName[field]; ok {
			f := &s.kw[fid]
			for _, v := range values {
				if vid, ok := f.byValue[v]; ok {
					for _, ord := range f.postings[vid] {
						in.set(ord)
					}
				}
			}
		}
		set.and(in)
	}
	for field, r := range ranges {
		fid, ok := s.numsByName[field]
		if !ok {
			return newBitset(len(s.ids))
		}
		f := &s.nums[fid]
		set.each(func(ord uint32) {
			if !f.has.has(ord) || !r.Contains(f.vals[ord]) {
				set.clear(ord)
			}
		})
	}
	return set
}

// facetCounter counts keyword values and range bands over matches. It is
// indexed by field ID, since add runs for every match of a query.
type facetCounter struct {
	s      *store
	counts [][]int32 // by keyword field ID: count per value; nil when not asked for
	names  []string  // keyword facets asked for
	ranges []rangeFacet
}

type rangeFacet struct {
	name   string
	bands  []Band
	col    *numField // nil when no document has the field
	counts []int
}

func (s *store) newFacetCounter(fields []string, bands map[string][]Band) *facetCounter {
	fc := &facetCounter{s: s, names: fields}
	for _, name := range fields {
		if fid, ok := s.kwByName[name]; ok {
			if fc.counts == nil {
				fc.counts = make([][]int32, len(s.kw))
			}
			fc.counts[fid] = make([]int32, len(s.kw[fid].values))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(bands)) {
		rf := rangeFacet{name: name, bands: bands[name], counts: make([]int, len(bands[name]))}
		if fid, ok := s.numsByName[name]; ok {
			rf.col = &s.nums[fid]
		}
		fc.ranges = append(fc.ranges, rf)
	}
	return fc
}

func (fc *facetCounter) add(ord uint32) {
	if fc.counts != nil {
		for _, kv := range fc.s.docKw[ord] {
			if c := fc.counts[kv>>kwValueBits]; c != nil {
				c[kv&kwValueMask]++
			}
		}
	}
	for i := range fc.ranges {
		rf := &fc.ranges[i]
		if rf.col == nil || !rf.col.has.has(ord) {
			continue
		}
		v := rf.col.vals[ord]
		for j, b := range rf.bands {
			if b.Range.Contains(v) {
				rf.counts[j]++
			}
		}
	}
}

// result returns each keyword facet's top values (most frequent first,
// ties by value) and each range facet's bands in the order given.
func (fc *facetCounter) result(top int) map[string][]FacetCount {
	out := map[string][]FacetCount{}
	for _, name := range fc.names {
		out[name] = []FacetCount{}
		fid, ok := fc.s.kwByName[name]
		if !ok {
			continue
		}
		values := fc.s.kw[fid].values
		var fcs []FacetCount
		for vid, n := range fc.counts[fid] {
			if n > 0 {
				fcs = append(fcs, FacetCount{Value: values[vid], Count: int(n)})
			}
		}
		slices.SortFunc(fcs, func(a, b FacetCount) int {
			if c := cmp.Compare(b.Count, a.Count); c != 0 {
				return c
			}
			return cmp.Compare(a.Value, b.Value)
		})
		if len(fcs) > top {
			fcs = fcs[:top]
		}
		if fcs != nil {
			out[name] = fcs
		}
	}
	for _, rf := range fc.ranges {
		fcs := make([]FacetCount, len(rf.bands))
		for i, b := range rf.bands {
			fcs[i] = FacetCount{Value: b.Label, Count: rf.counts[i]}
		}
		out[rf.name] = fcs
	}
	return out
}
