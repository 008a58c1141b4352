package relevance

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Summary describes the fixture in a few lines: sizes, how judgments are
// spread, and the queries at the extremes, for the README and for a
// reviewer checking that a change to the rules did what was meant.
func (f Fixture) Summary() string {
	var b strings.Builder
	categories := map[string]int{}
	for _, p := range f.Catalog {
		categories[p.Category]++
	}
	fmt.Fprintf(&b, "products: %d (%d added so every query has %d grade-3 products), types: %d\n",
		len(f.Catalog), f.Planted, minExact, len(allKinds()))
	for _, c := range slices.Sorted(maps.Keys(categories)) {
		fmt.Fprintf(&b, "  %-24s %d\n", c, categories[c])
	}
	kinds := map[string]int{}
	var grades [4]int
	type row struct {
		id                     string
		judged, relevant, best int
	}
	var rows []row
	for _, s := range f.Specs {
		kinds[s.Kind]++
		r := row{id: s.ID}
		for _, g := range f.Judgments[s.ID] {
			grades[g]++
			r.judged++
			if g >= 1 {
				r.relevant++
			}
			if g == 3 {
				r.best++
			}
		}
		rows = append(rows, r)
	}
	fmt.Fprintf(&b, "queries: %d;", len(f.Specs))
	for _, k := range Kinds {
		fmt.Fprintf(&b, " %s %d", k, kinds[k])
	}
	fmt.Fprintf(&b, "\njudgments: %d; grade 0: %d, 1: %d, 2: %d, 3: %d\n", grades[0]+grades[1]+grades[2]+grades[3], grades[0], grades[1], grades[2], grades[3])
	for _, m := range []struct {
		name string
		of   func(row) int
	}{{"judged", func(r row) int { return r.judged }}, {"relevant (>= 1)", func(r row) int { return r.relevant }}, {"grade 3", func(r row) int { return r.best }}} {
		slices.SortStableFunc(rows, func(a, c row) int { return m.of(a) - m.of(c) })
		first, last := rows[0], rows[len(rows)-1]
		fmt.Fprintf(&b, "per query, %s: min %d (%s), median %d, max %d (%s)\n", m.name, m.of(first), first.id, m.of(rows[len(rows)/2]), m.of(last), last.id)
	}
	return b.String()
}
