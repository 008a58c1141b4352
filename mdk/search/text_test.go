package search_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/search"
)

func TestTextMatching(t *testing.T) {
	x := newFixtureIndex(t, search.Config{})
	cases := []struct {
		name, text string
		top        []string // the first hits, in any order
		absent     []string
	}{
		{"Typo", "sofaa", []string{"p01", "p02", "p03"}, nil},
		{"TypoSwap", "sfoa", []string{"p01", "p02", "p03"}, nil},
		{"TwoTypos", "coffe tabel", []string{"p05", "p06"}, []string{"p37"}},
		{"TypoDistanceTwoLongWord", "bookcaise shelff", []string{"p22"}, nil},
		{"ShortWordsNoTypos", "oat", nil, []string{"p08", "p09"}},
		{"Synonym", "couch", []string{"p01", "p02", "p03"}, nil},
		{"SynonymPhrase", "tv stand", []string{"p21", "p20"}, nil},
		{"SynonymPhraseWithStopWord", "chest of drawers", []string{"p16", "p15"}, nil},
		{"SynonymToPhrase", "bedside table", []string{"p17"}, nil},
		{"Plural", "chairs", []string{"p09", "p10", "p12"}, nil},
		{"IrregularPlural", "shelves", []string{"p23", "p22"}, nil},
		{"Stemming", "drawers", []string{"p15", "p16"}, nil},
		{"AccentFolding", "cafe", []string{"p33"}, nil},
		{"PrefixLastWord", "walnut coff", []string{"p05"}, nil},
		{"PrefixOnlyWhileTyping", "coff ", nil, []string{"p05", "p06", "p37"}},
		{"CaseInsensitive", "OTTOMAN", []string{"p36"}, nil},
		{"AllWordsPreferred", "oak dining chair", []string{"p09"}, nil},
		{"TitleOutranksDescription", "linen", []string{"p02", "p26", "p38"}, nil},
		{"UnknownWordsRelaxOnlyAsFarAsNeeded", "walnut coffee table xyzzy qwerty", []string{"p05"}, []string{"p06", "p13"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ids(mustSearch(t, x, search.Query{Text: c.text, Limit: 100}))
			if len(got) < len(c.top) {
				t.Fatalf("%q: got %v, want %v first", c.text, got, c.top)
			}
			first := slices.Clone(got[:len(c.top)])
			slices.Sort(first)
			want := slices.Sorted(slices.Values(c.top))
			if !slices.Equal(first, want) {
				t.Fatalf("%q: got %v, want %v first", c.text, got, c.top)
			}
			for _, id := range c.absent {
				if slices.Contains(got, id) {
					t.Fatalf("%q: got %v, did not want %s", c.text, got, id)
				}
			}
		})
	}
	t.Run("TypoRanksBelowExact", func(t *testing.T) {
		// "loft" is in one document, so it is rare and also expanded to the
		// words one edit away; the exact match must still come first.
		y := search.New(search.Config{})
		for id, title := range map[string]string{"a": "Lift Chair", "b": "Loft Bed", "c": "Soft Throw", "d": "Oak Table"} {
			if err := y.Upsert(context.Background(), search.Document{ID: id, Text: map[string]string{"title": title}}); err != nil {
				t.Fatal(err)
			}
		}
		got := ids(mustSearch(t, y, search.Query{Text: "loft"}))
		if len(got) != 3 || got[0] != "b" || slices.Contains(got, "d") {
			t.Fatalf("loft: %v, want b first, then a and c", got)
		}
	})
	t.Run("CustomSynonyms", func(t *testing.T) {
		y := newFixtureIndex(t, search.Config{Synonyms: [][]string{{"hassock", "ottoman"}}})
		if got := ids(mustSearch(t, y, search.Query{Text: "hassock"})); !slices.Equal(got, []string{"p36"}) {
			t.Fatalf("hassock: %v", got)
		}
		if got := ids(mustSearch(t, y, search.Query{Text: "couch"})); len(got) != 0 {
			t.Fatalf("couch without default synonyms: %v", got)
		}
	})
	t.Run("NoStopWordOnlyMatches", func(t *testing.T) {
		res := mustSearch(t, x, search.Query{Text: "the and of"})
		if res.Total != len(fixture) || res.Hits[0].ID != "p38" {
			t.Fatalf("stop words only should browse newest first: total %d, first %v", res.Total, ids(res))
		}
	})
}

// judgments grade fixture documents per query: 3 exact, 2 close, 1 related.
var judgments = map[string]map[string]int{
	"sofa":             {"p01": 3, "p02": 3, "p03": 3, "p04": 2, "p36": 1},
	"couch":            {"p01": 3, "p02": 3, "p03": 3, "p04": 2},
	"sofaa":            {"p01": 3, "p02": 3, "p03": 3, "p04": 2},
	"leather sofa":     {"p03": 3, "p01": 1, "p02": 1, "p11": 1},
	"coffee table":     {"p05": 3, "p06": 3, "p07": 1, "p33": 1},
	"coffe tabel":      {"p05": 3, "p06": 3, "p07": 1},
	"dining chairs":    {"p09": 3, "p29": 1, "p08": 1},
	"office chair":     {"p12": 3, "p10": 1, "p11": 1, "p09": 1},
	"chest of drawers": {"p16": 3, "p15": 3, "p17": 1},
	"dresser":          {"p15": 3, "p16": 3},
	"tv stand":         {"p21": 3, "p20": 3},
	"nightstand":       {"p17": 3},
	"bedside table":    {"p17": 3},
	"bookshelves":      {"p22": 3, "p23": 2},
	"rugs":             {"p18": 3, "p19": 3},
	"carpet":           {"p18": 3, "p19": 3},
	"armchair":         {"p11": 3, "p10": 2},
	"walnut furniture": {"p05": 2, "p13": 2, "p20": 2, "p34": 2, "p23": 1},
	"lamps":            {"p24": 3, "p25": 3},
	"lighting":         {"p24": 3, "p25": 3},
	"cafe table":       {"p33": 3, "p07": 1},
	"patio furniture":  {"p29": 3, "p28": 2},
	"oak table":        {"p08": 3, "p38": 0, "p14": 1},
	"standing desk":    {"p13": 3, "p14": 1},
	"velvet chair":     {"p10": 3, "p01": 1, "p36": 1},
	"beds":             {"p31": 3, "p32": 3, "p04": 1},
	"brass lamp":       {"p24": 3, "p25": 1},
}

// ndcg is NDCG@k of got against grades.
func ndcg(got []string, grades map[string]int, k int) float64 {
	dcg := func(gs []int) float64 {
		var s float64
		for i, g := range gs[:min(k, len(gs))] {
			s += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i+2))
		}
		return s
	}
	var gotGrades, ideal []int
	for _, id := range got {
		gotGrades = append(gotGrades, grades[id])
	}
	for _, g := range grades {
		ideal = append(ideal, g)
	}
	slices.Sort(ideal)
	slices.Reverse(ideal)
	return dcg(gotGrades) / dcg(ideal)
}

// TestRelevance checks the fixture's judged queries: the first hit is a
// best document, and mean NDCG@5 stays high. It logs NDCG per stemming mode
// (run with -v to compare).
func TestRelevance(t *testing.T) {
	modes := []search.Stemming{search.StemEnglish, search.StemPlurals, search.StemNone}
	for _, mode := range modes {
		t.Run(fmt.Sprintf("stemming=%q", mode), func(t *testing.T) {
			x := newFixtureIndex(t, search.Config{Stemming: mode})
			var sum float64
			var misses []string
			for q, grades := range judgments {
				got := ids(mustSearch(t, x, search.Query{Text: q, Limit: 10}))
				sum += ndcg(got, grades, 5)
				if len(got) == 0 || grades[got[0]] < 3 && q != "walnut furniture" {
					misses = append(misses, fmt.Sprintf("%q→%v", q, got))
				}
			}
			mean := sum / float64(len(judgments))
			t.Logf("stemming %q: mean NDCG@5 %.3f over %d queries; first hit not a best match: %v", mode, mean, len(judgments), misses)
			if mode == search.StemEnglish && (mean < 0.9 || len(misses) > 0) {
				t.Fatalf("relevance regressed: NDCG@5 %.3f, misses %v", mean, misses)
			}
		})
	}
}
