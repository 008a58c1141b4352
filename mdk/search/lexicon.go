package search

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// fieldPostings lists the documents holding a term in one text field, by
// ascending ordinal, with the term's frequency there.
type fieldPostings struct {
	field uint8
	docs  []uint32
	tfs   []uint16
}

// termEntry is one index term (a stem) and where it occurs.
type termEntry struct {
	// df counts documents holding the term in any field. Like Lucene's
	// docFreq it still counts deleted documents until the next compaction:
	// keeping it exact would mean storing every document's terms.
	df     uint32
	fields []fieldPostings
}

// lexicon is the vocabulary: the terms with their postings, and the
// surfaces (normalised words as written) that map to them. Typo and prefix
// matching run over surfaces, since a typo is made in a word, not a stem.
type lexicon struct {
	stemming   Stemming
	terms      []termEntry
	termByText map[string]uint32

	surfaces      []string
	surfaceTerm   []uint32
	surfaceByText map[string]uint32
	// trigrams maps a padded trigram to the surfaces containing it.
	trigrams map[uint64][]uint32
	// sorted holds surface IDs in text order for prefix search; surfaces
	// added during a batch wait in pending until finishBatch merges them.
	sorted  []uint32
	pending []uint32

	counters sync.Pool // *[]uint8 sized to the surfaces, for fuzzy lookups
}

func newLexicon(mode Stemming) *lexicon {
	return &lexicon{
		stemming:      mode,
		termByText:    map[string]uint32{},
		surfaceByText: map[string]uint32{},
		trigrams:      map[uint64][]uint32{},
	}
}

// surfaceTermID returns the term of a surface word, adding both when new.
// w may be a reused buffer: it is copied only when stored.
func (l *lexicon) surfaceTermID(w []byte) uint32 {
	if id, ok := l.surfaceByText[string(w)]; ok {
		return l.surfaceTerm[id]
	}
	s := string(w)
	t := stem(l.stemming, s)
	tid, ok := l.termByText[t]
	if !ok {
		tid = uint32(len(l.terms))
		l.terms = append(l.terms, termEntry{})
		l.termByText[t] = tid
	}
	sid := uint32(len(l.surfaces))
	l.surfaces = append(l.surfaces, s)
	l.surfaceTerm = append(l.surfaceTerm, tid)
	l.surfaceByText[s] = sid
	eachTrigram(s, func(g uint64) { l.trigrams[g] = append(l.trigrams[g], sid) })
	l.pending = append(l.pending, sid)
	return tid
}

// finishBatch makes the surfaces added since the last call visible to
// prefix search.
func (l *lexicon) finishBatch() {
	if len(l.pending) == 0 {
		return
	}
	byText := func(a, b uint32) int { return strings.Compare(l.surfaces[a], l.surfaces[b]) }
	slices.SortFunc(l.pending, byText)
	merged := make([]uint32, 0, len(l.sorted)+len(l.pending))
	i, j := 0, 0
	for i < len(l.sorted) && j < len(l.pending) {
		if byText(l.sorted[i], l.pending[j]) <= 0 {
			merged = append(merged, l.sorted[i])
			i++
		} else {
			merged = append(merged, l.pending[j])
			j++
		}
	}
	merged = append(merged, l.sorted[i:]...)
	l.sorted = append(merged, l.pending[j:]...)
	l.pending = l.pending[:0]
}

// lookup returns the term of an analysed query word.
func (l *lexicon) lookup(term string) (uint32, bool) {
	id, ok := l.termByText[term]
	return id, ok && l.terms[id].df > 0
}

// expansion is a term a query word matches approximately, with the weight
// its score is scaled by.
type expansion struct {
	term   uint32
	weight float32
}

// prefixMatches returns up to limit terms of surfaces starting with p, most
// frequent first; it scans at most prefixScan surfaces.
func (l *lexicon) prefixMatches(p string, limit int, weight float32) []expansion {
	const prefixScan = 2000
	start := sort.Search(len(l.sorted), func(i int) bool { return l.surfaces[l.sorted[i]] >= p })
	var out []expansion
	for i := start; i < len(l.sorted) && i-start < prefixScan; i++ {
		sid := l.sorted[i]
		s := l.surfaces[sid]
		if !strings.HasPrefix(s, p) {
			break
		}
		t := l.surfaceTerm[sid]
		if s != p && l.terms[t].df > 0 && !slices.ContainsFunc(out, func(e expansion) bool { return e.term == t }) {
			out = append(out, expansion{term: t, weight: weight})
		}
	}
	return l.mostFrequent(out, limit)
}

// mostFrequent keeps the limit expansions with the highest document
// frequency, ties by term ID so results are deterministic.
func (l *lexicon) mostFrequent(out []expansion, limit int) []expansion {
	slices.SortFunc(out, func(a, b expansion) int {
		if da, db := l.terms[a.term].df, l.terms[b.term].df; da != db {
			if da > db {
				return -1
			}
			return 1
		}
		return int(a.term) - int(b.term)
	})
	return out[:min(len(out), limit)]
}

// typoDistance is how many edits a word of n runes may have: none below 4
// runes (too many short words are one edit apart), 1 up to 7, then 2.
func typoDistance(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	}
	return 2
}

// fuzzyMatches returns the terms of surfaces within typoDistance of w (by
// optimal-string-alignment distance, so a swap of two letters is one edit),
// only those at the smallest distance found, at most limit of them, the
// most frequent first. Candidates come from the trigram index: a surface
// within d edits shares at least len+2-4d of the word's padded trigrams.
func (l *lexicon) fuzzyMatches(w string, limit int, weights [3]float32) []expansion {
	wr := []rune(w)
	d := typoDistance(len(wr))
	if d == 0 || len(l.surfaces) == 0 || strings.ContainsAny(w, "0123456789") {
		return nil
	}
	cp, _ := l.counters.Get().(*[]uint8)
	if cp == nil || len(*cp) < len(l.surfaces) {
		c := make([]uint8, len(l.surfaces)+len(l.surfaces)/4)
		cp = &c
	}
	counts := *cp
	var touched []uint32
	seen := map[uint64]bool{}
	eachTrigram(w, func(g uint64) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, sid := range l.trigrams[g] {
			if counts[sid] == 0 {
				touched = append(touched, sid)
			}
			if counts[sid] < 255 {
				counts[sid]++
			}
		}
	})
	best := d + 1
	var out []expansion
	for _, sid := range touched {
		shared := int(counts[sid])
		counts[sid] = 0
		s := l.surfaces[sid]
		n := utf8.RuneCountInString(s)
		if n < len(wr)-d || n > len(wr)+d || shared < max(n, len(wr))+1-4*d || s == w {
			continue
		}
		t := l.surfaceTerm[sid]
		if l.terms[t].df == 0 {
			continue
		}
		dist := osaDistance(wr, []rune(s), min(d, best))
		if dist > min(d, best) {
			continue
		}
		if dist < best {
			best, out = dist, out[:0]
		}
		if !slices.ContainsFunc(out, func(e expansion) bool { return e.term == t }) {
			out = append(out, expansion{term: t, weight: weights[dist]})
		}
	}
	l.counters.Put(cp)
	return l.mostFrequent(out, limit)
}

// eachTrigram calls fn with every trigram of s padded with two markers on
// each side, packed as three 21-bit runes.
func eachTrigram(s string, fn func(uint64)) {
	const pad = 0x1FFFFF
	var a, b uint64 = pad, pad
	for _, r := range s {
		c := uint64(r)
		fn(a<<42 | b<<21 | c)
		a, b = b, c
	}
	fn(a<<42 | b<<21 | pad)
	fn(b<<42 | pad<<21 | pad)
}

// osaDistance is the optimal string alignment distance of a and b, or
// limit+1 once it is known to exceed limit.
func osaDistance(a, b []rune, limit int) int {
	if abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
