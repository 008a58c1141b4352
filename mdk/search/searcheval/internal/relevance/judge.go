package relevance

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// Spec is one query with what it asks for.
type Spec struct {
	ID   string
	Kind string // synonym, typo, plural, attribute, price, category, natural
	Text string
	Want Want
}

// Want is what a query asks for, in the terms the grading rules read. The
// rules (README.md in testdata/relevance says the same):
//
//   - The product's type sets its tier: 3 for an Exact type (what was
//     asked), 2 for a Near type (a close substitute: a sectional for
//     "couch"), 1 for a Related type (a shopper might accept it: an end
//     table for "coffee table"). Any other type is not relevant (0).
//   - Essential traits define the thing asked for ("sofa bed" is a sofa
//     that is a sleeper): a product lacking one drops to tier 1 when its
//     type is Exact or Near, and to 0 when it is Related.
//   - A miss is a stated attribute term the product's color, material and
//     style do not have, a stated trait it lacks, or a price outside the
//     range (two misses when more than 50% over the maximum or under two
//     thirds of the minimum).
//   - grade = tier − misses, but never below 1 for tier 2 or 3 (the right
//     type stays at least related) and never below 0.
type Want struct {
	Exact, Near, Related []string // product classes
	// Attrs are stated attribute terms ("green", "pine", "mid-century");
	// each must be a term of the product's color, material or style.
	Attrs []string
	// Traits are stated features ("round", "seats:6"); Essential ones
	// define the thing asked for.
	Traits, Essential []string
	// MinCents and MaxCents bound the price; 0 leaves a side open.
	MinCents, MaxCents int64
}

// Grade returns p's grade for the query, and false when p's type is not
// among the query's tiers (the product is not judged by type; it may still
// be judged 0 as a hard negative).
func (w Want) Grade(p Product) (grade int, judged bool) {
	tier := w.tier(p.Class)
	if tier == 0 {
		return 0, false
	}
	for _, t := range w.Essential {
		if !p.Has(t) {
			if tier == 1 {
				return 0, true
			}
			tier = 1
		}
	}
	floor := 0
	if tier > 1 {
		floor = 1
	}
	return max(tier-w.misses(p), floor), true
}

func (w Want) tier(class string) int {
	switch {
	case slices.Contains(w.Exact, class):
		return 3
	case slices.Contains(w.Near, class):
		return 2
	case slices.Contains(w.Related, class):
		return 1
	}
	return 0
}

// misses counts what p fails of the stated attributes, traits and price.
func (w Want) misses(p Product) int {
	n := 0
	for _, a := range w.Attrs {
		if !HasAttr(p, a) {
			n++
		}
	}
	for _, t := range w.Traits {
		if !p.Has(t) {
			n++
		}
	}
	switch {
	case w.MaxCents > 0 && p.Cents > w.MaxCents*3/2, w.MinCents > 0 && p.Cents*3/2 < w.MinCents:
		n += 2
	case w.MaxCents > 0 && p.Cents > w.MaxCents, w.MinCents > 0 && p.Cents < w.MinCents:
		n++
	}
	return n
}

// HasAttr reports whether term is one of the terms of p's color, material
// or style.
func HasAttr(p Product, term string) bool {
	return slices.Contains(colors[p.Color].terms, term) ||
		slices.Contains(materials[p.Material].terms, term) ||
		slices.Contains(styles[p.Style].terms, term)
}

// hardNegatives is how many products of unrelated types each query judges
// 0 on purpose: the look-alikes a ranker is tempted by.
const hardNegatives = 8

// Judge grades every product for the query: each product of a tiered
// type, and up to hardNegatives products of other types that share a
// stated attribute term or (when the query states none) the category of
// its first Exact type, picked in a fixed pseudo-random order. Sharing a
// trait does not make a hard negative: a trait is what a product does, and
// a storage coffee table may well answer "hide the toys"; such products
// stay unjudged. It returns external product ID → grade.
func Judge(s Spec, catalog []Product) map[string]int {
	judged := map[string]int{}
	category := ""
	if len(s.Want.Exact) > 0 {
		category = categoryOf(s.Want.Exact[0], catalog)
	}
	var candidates []Product
	for _, p := range catalog {
		if g, ok := s.Want.Grade(p); ok {
			judged[p.ID] = g
			continue
		}
		if s.Want.lookalike(p, category) {
			candidates = append(candidates, p)
		}
	}
	slices.SortFunc(candidates, func(a, b Product) int {
		return cmp.Compare(mix(s.ID, a.ID), mix(s.ID, b.ID))
	})
	for _, p := range candidates[:min(len(candidates), hardNegatives)] {
		judged[p.ID] = 0
	}
	return judged
}

// lookalike reports whether p, of an unrelated type, shares a stated
// attribute term, or the category of the query's first Exact type when it
// states none.
func (w Want) lookalike(p Product, category string) bool {
	if len(w.Attrs) == 0 {
		return category != "" && p.Category == category
	}
	return slices.ContainsFunc(w.Attrs, func(a string) bool { return HasAttr(p, a) })
}

func categoryOf(class string, catalog []Product) string {
	for _, p := range catalog {
		if p.Class == class {
			return p.Category
		}
	}
	return ""
}

// mix orders hard-negative candidates: a hash of query and product ID, so
// the choice is stable and differs between queries. FNV alone would keep
// IDs that differ in their last characters in ID order; the SplitMix64
// finalizer spreads every input bit over the whole result.
func mix(query, product string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(query + "\x00" + product)) // a hash.Hash never returns a write error
	return (&rng{state: h.Sum64()}).next()
}
