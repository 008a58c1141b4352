package search

import (
	"math"
	"slices"
)

// BM25F parameters: k1 saturates term frequency, b normalises by field
// length (Robertson and Zaragoza's defaults).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Approximate matches score below the word itself: typoWeights by edit
// distance, prefixWeight for completions of the last word typed.
var typoWeights = [3]float32{1, 0.6, 0.4}

const (
	prefixWeight        = 0.7
	maxTypoExpansions   = 3
	maxPrefixExpansions = 10
	// rareDF: a query word whose term is in fewer documents than this may
	// itself be a typo in the catalog, so it is also expanded.
	rareDF = 3
)

// appendPosting records that ord holds term tid tf times in field fid.
// Ordinals only grow, so postings stay sorted.
func (l *lexicon) appendPosting(tid uint32, fid uint8, ord uint32, tf uint16) {
	t := &l.terms[tid]
	i, found := slices.BinarySearchFunc(t.fields, fid, func(p fieldPostings, f uint8) int { return int(p.field) - int(f) })
	if !found {
		t.fields = slices.Insert(t.fields, i, fieldPostings{field: fid})
	}
	p := &t.fields[i]
	p.docs = append(p.docs, ord)
	p.tfs = append(p.tfs, tf)
}

// scored is a document ordinal with a score; lists of them are kept in
// ascending ordinal order so they merge in one pass.
type scored struct {
	ord   uint32
	score float32
}

// clause is one thing the query asks for: a word, or a phrase with its
// synonyms. A document satisfies it through any alternative.
type clause struct {
	alts []alternative
}

// alternative is one way to satisfy a clause: every word must match, each
// through any of its expansions.
type alternative struct {
	words  [][]expansion
	weight float32
}

// buildClauses turns query words into clauses: synonym phrases become one
// clause with every phrase of the group as an alternative; any other word
// is a clause of its own, expanded to typo and prefix matches when its term
// is missing or rare.
func (s *store) buildClauses(words []queryWord, syn *synonyms) []clause {
	var out []clause
	for i := 0; i < len(words); {
		if n, g, ok := syn.match(words, i); ok {
			c := clause{}
			for _, phrase := range syn.groups[g] {
				alt := alternative{weight: synonymWeight}
				if slices.Equal(phrase, termsOf(words[i:i+n])) {
					alt.weight = 1
				}
				for _, t := range phrase {
					var ex []expansion
					if tid, ok := s.lex.lookup(t); ok {
						ex = append(ex, expansion{term: tid, weight: 1})
					}
					alt.words = append(alt.words, ex)
				}
				c.alts = append(c.alts, alt)
			}
			out = append(out, c)
			i += n
			continue
		}
		out = append(out, clause{alts: []alternative{{words: [][]expansion{s.expand(words[i])}, weight: 1}}})
		i++
	}
	return out
}

func termsOf(words []queryWord) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.term
	}
	return out
}

// expand returns the terms a query word matches: its own term, and when
// that is missing or rare, the terms of surfaces one or two typos away and,
// for the last word typed, those it is a prefix of.
func (s *store) expand(w queryWord) []expansion {
	var ex []expansion
	tid, ok := s.lex.lookup(w.term)
	if ok {
		ex = append(ex, expansion{term: tid, weight: 1})
		if s.lex.terms[tid].df >= rareDF {
			return ex
		}
	}
	if s.noTypos {
		return ex
	}
	for _, e := range s.lex.fuzzyMatches(w.surface, maxTypoExpansions, typoWeights) {
		ex = addExpansion(ex, e)
	}
	if w.last && len(w.surface) >= 2 {
		for _, e := range s.lex.prefixMatches(w.surface, maxPrefixExpansions, prefixWeight) {
			ex = addExpansion(ex, e)
		}
	}
	return ex
}

// addExpansion adds e unless its term is there already with a weight at
// least as high.
func addExpansion(ex []expansion, e expansion) []expansion {
	for i := range ex {
		if ex[i].term == e.term {
			ex[i].weight = max(ex[i].weight, e.weight)
			return ex
		}
	}
	return append(ex, e)
}

// termScores returns the live documents holding term tid with their BM25F
// score times weight: each field's frequency is normalised by that field's
// length and weighted, the sum saturates once (so a word repeated across
// title and description does not count twice as much as BM25 per field
// would).
func (s *store) termScores(sc *scratch, tid uint32, weight float32) []scored {
	t := &s.lex.terms[tid]
	var acc []scored
	for _, p := range t.fields {
		f := &s.text[p.field]
		avg := f.avgLen()
		next := sc.scored.get(len(acc) + len(p.docs))
		i := 0
		for j, ord := range p.docs {
			if !s.alive.has(ord) {
				continue
			}
			for i < len(acc) && acc[i].ord < ord {
				next = append(next, acc[i])
				i++
			}
			l := float32(0)
			if int(ord) < len(f.lens) {
				l = float32(f.lens[ord])
			}
			v := f.weight * float32(p.tfs[j]) / (1 - bm25B + bm25B*l/avg)
			if i < len(acc) && acc[i].ord == ord {
				v += acc[i].score
				i++
			}
			next = append(next, scored{ord: ord, score: v})
		}
		acc = append(next, acc[i:]...)
	}
	n := float64(len(s.ids))
	idf := float32(math.Log(1 + (n-float64(t.df)+0.5)/(float64(t.df)+0.5)))
	for i := range acc {
		tf := acc[i].score
		acc[i].score = weight * idf * tf * (bm25K1 + 1) / (bm25K1 + tf)
	}
	return acc
}

// unionMax merges lists keeping each document's best score.
func (sc *scratch) unionMax(a, b []scored) []scored {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := sc.scored.get(len(a) + len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].ord < b[j].ord:
			out = append(out, a[i])
			i++
		case a[i].ord > b[j].ord:
			out = append(out, b[j])
			j++
		default:
			out = append(out, scored{ord: a[i].ord, score: max(a[i].score, b[j].score)})
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// intersectSum keeps documents in both lists, adding their scores.
func (sc *scratch) intersectSum(a, b []scored) []scored {
	out := sc.scored.get(min(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].ord < b[j].ord:
			i++
		case a[i].ord > b[j].ord:
			j++
		default:
			out = append(out, scored{ord: a[i].ord, score: a[i].score + b[j].score})
			i++
			j++
		}
	}
	return out
}

func (s *store) clauseScores(sc *scratch, c clause) []scored {
	var out []scored
	for _, alt := range c.alts {
		// An alternative scores the mean of its words, so a two-word synonym
		// ("accent chair") does not outscore the one word it stands for
		// ("armchair") just by having more words.
		w := alt.weight / float32(len(alt.words))
		var altList []scored
		for wi, ex := range alt.words {
			var wordList []scored
			for _, e := range ex {
				wordList = sc.unionMax(wordList, s.termScores(sc, e.term, e.weight*w))
			}
			if wi == 0 {
				altList = wordList
			} else {
				altList = sc.intersectSum(altList, wordList)
			}
			if len(altList) == 0 {
				break
			}
		}
		out = sc.unionMax(out, altList)
	}
	return out
}

// matched is a document's summed clause scores and how many clauses it
// satisfied.
type matched struct {
	ord     uint32
	clauses uint16
	score   float32
}

// minShouldMatch is how many of n clauses a document must satisfy: all of
// one or two words, all but one of three or four, three quarters of more,
// so a long natural-language query still finds documents missing a word.
func minShouldMatch(n int) int {
	switch {
	case n <= 2:
		return n
	case n <= 4:
		return n - 1
	}
	return (3*n + 3) / 4
}

// lexical ranks the documents passing keep (nil keeps all live ones) by
// BM25F over the clauses. A document must satisfy minShouldMatch clauses,
// or, when none does, as many as the best document does, so a query never
// comes back empty because of one odd word. The score is scaled by the
// share of clauses matched.
func (s *store) lexical(sc *scratch, clauses []clause, keep bitset) []scored {
	if len(clauses) == 0 {
		return nil
	}
	var acc []matched
	for _, c := range clauses {
		acc = sc.mergeClause(acc, s.clauseScores(sc, c), keep)
	}
	var best uint16
	for _, m := range acc {
		best = max(best, m.clauses)
	}
	need := min(uint16(minShouldMatch(len(clauses))), best)
	out := sc.scored.get(len(acc))
	for _, m := range acc {
		if m.clauses >= need {
			out = append(out, scored{ord: m.ord, score: m.score * float32(m.clauses) / float32(len(clauses))})
		}
	}
	return out
}

func (sc *scratch) mergeClause(acc []matched, list []scored, keep bitset) []matched {
	out := sc.matched.get(len(acc) + len(list))
	i := 0
	for _, sc := range list {
		if keep != nil && !keep.has(sc.ord) {
			continue
		}
		for i < len(acc) && acc[i].ord < sc.ord {
			out = append(out, acc[i])
			i++
		}
		m := matched{ord: sc.ord, clauses: 1, score: sc.score}
		if i < len(acc) && acc[i].ord == sc.ord {
			m.clauses += acc[i].clauses
			m.score += acc[i].score
			i++
		}
		out = append(out, m)
	}
	return append(out, acc[i:]...)
}
