package search_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/search"
)

func TestFilters(t *testing.T) {
	x := newFixtureIndex(t, search.Config{})
	cases := []struct {
		name string
		q    search.Query
		want []string // sorted
	}{
		{"Keyword", search.Query{Filter: map[string][]string{"material": {"Walnut"}}}, []string{"p05", "p13", "p20", "p23", "p34"}},
		{"KeywordOrWithinField", search.Query{Filter: map[string][]string{"material": {"Teak", "Jute"}}}, []string{"p19", "p28"}},
		{"CategoryParentMatchesChildren", search.Query{Filter: map[string][]string{"category": {"Furniture / Living Room / Tables"}}}, []string{"p05", "p06", "p07"}},
		{"KeywordAndAcrossFields", search.Query{Filter: map[string][]string{"material": {"Oak"}, "category": {"Furniture / Bedroom"}}}, []string{"p16", "p17", "p32"}},
		{"Range", search.Query{Ranges: map[string]search.Range{"price": {Min: ptr(1500), Max: ptr(2900)}}}, []string{"p26", "p27", "p37", "p38"}},
		{"RangeOpenMin", search.Query{Ranges: map[string]search.Range{"price": {Max: ptr(2500)}}}, []string{"p27", "p37", "p38"}},
		{"RangeExcludesMissing", search.Query{Ranges: map[string]search.Range{"price": {Min: ptr(0)}}}, nil},
		{"Combined", search.Query{Text: "table", Filter: map[string][]string{"vendor": {"Harbor"}}, Ranges: map[string]search.Range{"price": {Min: ptr(20000)}}}, []string{"p06", "p29"}},
		{"UnknownValue", search.Query{Filter: map[string][]string{"material": {"Unobtainium"}}}, []string{}},
		{"UnknownField", search.Query{Filter: map[string][]string{"flavour": {"x"}}}, []string{}},
		{"UnknownRangeField", search.Query{Ranges: map[string]search.Range{"weight": {Min: ptr(1)}}}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Limit = 100
			res := mustSearch(t, x, c.q)
			got := ids(res)
			slices.Sort(got)
			if c.want == nil { // every priced document
				if len(got) != 36 || slices.Contains(got, "p35") || slices.Contains(got, "p36") {
					t.Fatalf("got %d hits %v, want the 36 priced documents", len(got), got)
				}
				return
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if res.Total != len(c.want) {
				t.Fatalf("total %d, want %d", res.Total, len(c.want))
			}
		})
	}
}

func TestFacets(t *testing.T) {
	x := newFixtureIndex(t, search.Config{FacetSize: 3})
	bands := []search.Band{
		{Label: "Under $100", Range: search.Range{Max: ptr(9999)}},
		{Label: "$100 to $500", Range: search.Range{Min: ptr(10000), Max: ptr(49999)}},
		{Label: "$500 and up", Range: search.Range{Min: ptr(50000)}},
	}
	t.Run("OK", func(t *testing.T) {
		res := mustSearch(t, x, search.Query{
			Filter:      map[string][]string{"category": {"Furniture / Bedroom"}},
			Facets:      []string{"material", "vendor", "nope"},
			RangeFacets: map[string][]search.Band{"price": bands},
		})
		// Bedroom: p15 Pine, p16 Oak, p17 Oak, p31 Pine, p32 Oak, p35 Pine (no price).
		if res.Total != 6 {
			t.Fatalf("total %d, want 6", res.Total)
		}
		wantMaterial := []search.FacetCount{{Value: "Oak", Count: 3}, {Value: "Pine", Count: 3}}
		if !slices.Equal(res.Facets["material"], wantMaterial) {
			t.Fatalf("material facet %v, want %v", res.Facets["material"], wantMaterial)
		}
		wantVendor := []search.FacetCount{{Value: "Elm & Co", Count: 3}, {Value: "Oslo", Count: 3}}
		if !slices.Equal(res.Facets["vendor"], wantVendor) {
			t.Fatalf("vendor facet %v, want %v", res.Facets["vendor"], wantVendor)
		}
		if got := res.Facets["nope"]; got == nil || len(got) != 0 {
			t.Fatalf("unknown facet %v, want empty", got)
		}
		wantPrice := []search.FacetCount{{Value: "Under $100", Count: 0}, {Value: "$100 to $500", Count: 3}, {Value: "$500 and up", Count: 2}}
		if !slices.Equal(res.Facets["price"], wantPrice) {
			t.Fatalf("price facet %v, want %v", res.Facets["price"], wantPrice)
		}
	})
	t.Run("TopValues", func(t *testing.T) {
		res := mustSearch(t, x, search.Query{Facets: []string{"vendor"}})
		// Elm & Co 10, Harbor 9, Loomhouse 7, Oslo 7, Workwell 5, Lumen 2 → top 3 by count then value.
		want := []search.FacetCount{{Value: "Elm & Co", Count: 10}, {Value: "Harbor", Count: 9}, {Value: "Loomhouse", Count: 7}}
		if !slices.Equal(res.Facets["vendor"], want) {
			t.Fatalf("vendor facet %v, want %v", res.Facets["vendor"], want)
		}
	})
	t.Run("CountsOverAllPagesOfTextMatches", func(t *testing.T) {
		res := mustSearch(t, x, search.Query{Text: "sofa", Limit: 1, Facets: []string{"vendor"}})
		if len(res.Hits) != 1 || res.Total < 4 {
			t.Fatalf("hits %v total %d", ids(res), res.Total)
		}
		var sum int
		for _, fc := range res.Facets["vendor"] {
			sum += fc.Count
		}
		if sum != res.Total {
			t.Fatalf("vendor counts sum to %d, total is %d", sum, res.Total)
		}
	})
	t.Run("ErrFacetBoth", func(t *testing.T) {
		_, err := x.Search(context.Background(), search.Query{Facets: []string{"price"}, RangeFacets: map[string][]search.Band{"price": bands}})
		assertInvalid(t, err, "range_facets.price")
	})
}

func TestSort(t *testing.T) {
	x := search.New(search.Config{})
	var docs []search.Document
	for i, price := range []int64{500, 300, 500, 100, 300, 500} {
		docs = append(docs, search.Document{ID: fmt.Sprintf("d%d", i), Text: map[string]string{"title": "oak table"},
			Numbers: map[string]int64{"price": price, "created_at": int64(i)}})
	}
	docs = append(docs, search.Document{ID: "d9", Text: map[string]string{"title": "oak table"}, Numbers: map[string]int64{"created_at": 9}})
	if err := x.Upsert(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    search.Query
		want []string
	}{
		{"PriceAsc", search.Query{Sort: search.Sort{Field: "price"}}, []string{"d3", "d1", "d4", "d0", "d2", "d5", "d9"}},
		{"PriceDesc", search.Query{Sort: search.Sort{Field: "price", Desc: true}}, []string{"d0", "d2", "d5", "d1", "d4", "d3", "d9"}},
		{"PriceAscWithText", search.Query{Text: "oak", Sort: search.Sort{Field: "price"}}, []string{"d3", "d1", "d4", "d0", "d2", "d5", "d9"}},
		{"DefaultNewestFirst", search.Query{}, []string{"d9", "d5", "d4", "d3", "d2", "d1", "d0"}},
		{"RelevanceTiesByID", search.Query{Text: "oak table"}, []string{"d0", "d1", "d2", "d3", "d4", "d5", "d9"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(mustSearch(t, x, c.q)); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			c.q.Limit = 2
			if got := walk(t, x, c.q); !slices.Equal(got, c.want) {
				t.Fatalf("paged: got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	x := search.New(search.Config{})
	var docs []search.Document
	// Many equal titles and prices: pages must split ties exactly.
	for i := range 150 {
		docs = append(docs, search.Document{
			ID:       fmt.Sprintf("doc-%03d", i),
			Text:     map[string]string{"title": []string{"Oak Dining Table", "Oak Side Table", "Walnut Table", "Oak Chair"}[i%4], "description": "solid wood"},
			Keywords: map[string][]string{"kind": {[]string{"a", "b", "c"}[i%3]}},
			Numbers:  map[string]int64{"price": int64(i%5) * 1000, "created_at": int64(i % 7)},
		})
	}
	if err := x.Upsert(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	for _, q := range []search.Query{
		{Text: "oak table"},
		{Text: "table", Sort: search.Sort{Field: "price", Desc: true}},
		{Text: "wood", Filter: map[string][]string{"kind": {"a", "c"}}},
		{},
		{Sort: search.Sort{Field: "price"}},
		{Text: "oak", Mode: search.ModeLexical},
	} {
		t.Run(fmt.Sprintf("%q/%s/%v", q.Text, q.Sort.Field, q.Filter), func(t *testing.T) {
			q.Limit = 100
			full := walk(t, x, q)
			one := mustSearch(t, x, q)
			if len(full) != one.Total {
				t.Fatalf("walked %d hits, total is %d", len(full), one.Total)
			}
			q.Limit = 7
			paged := walk(t, x, q)
			if !slices.Equal(paged, full) {
				t.Fatalf("limit 7 pages differ from limit 100 pages:\n%v\n%v", paged, full)
			}
			seen := map[string]bool{}
			for _, id := range paged {
				if seen[id] {
					t.Fatalf("duplicate %s", id)
				}
				seen[id] = true
			}
		})
	}
	t.Run("CursorSurvivesInsertBefore", func(t *testing.T) {
		q := search.Query{Sort: search.Sort{Field: "price"}, Limit: 10}
		first := mustSearch(t, x, q)
		// A new cheapest document sorts before the cursor: the next page
		// must neither repeat nor skip anything.
		if err := x.Upsert(context.Background(), search.Document{ID: "aaa-new", Numbers: map[string]int64{"price": -1}}); err != nil {
			t.Fatal(err)
		}
		q.Cursor = first.NextCursor
		second := mustSearch(t, x, q)
		q.Cursor, q.Limit = "", 21
		both := mustSearch(t, x, q)
		got := append(ids(first), ids(second)...)
		if want := ids(both)[1:]; !slices.Equal(got, want) {
			t.Fatalf("pages %v, want %v", got, want)
		}
	})
}

func TestErrors(t *testing.T) {
	x := newFixtureIndex(t, search.Config{})
	other := mustSearch(t, x, search.Query{Text: "sofa", Limit: 1})
	for _, c := range []struct {
		name  string
		q     search.Query
		field string
	}{
		{"ErrLimitNegative", search.Query{Limit: -1}, "limit"},
		{"ErrLimitTooLarge", search.Query{Limit: 101}, "limit"},
		{"ErrTextTooLong", search.Query{Text: strings.Repeat("sofa ", 500)}, "text"},
		{"ErrModeUnknown", search.Query{Mode: "fuzzy"}, "mode"},
		{"ErrModeVectorNotConfigured", search.Query{Text: "sofa", Mode: search.ModeVector}, "mode"},
		{"ErrFilterNoValues", search.Query{Filter: map[string][]string{"color": {}}}, "filter.color"},
		{"ErrRangeInverted", search.Query{Ranges: map[string]search.Range{"price": {Min: ptr(10), Max: ptr(5)}}}, "ranges.price"},
		{"ErrCursorMalformed", search.Query{Text: "sofa", Cursor: "not-a-cursor"}, "cursor"},
		{"ErrCursorOtherQuery", search.Query{Text: "chair", Cursor: other.NextCursor}, "cursor"},
		{"ErrCursorOtherFilter", search.Query{Text: "sofa", Cursor: other.NextCursor, Filter: map[string][]string{"color": {"Blue"}}}, "cursor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := x.Search(context.Background(), c.q)
			assertInvalid(t, err, c.field)
		})
	}
	t.Run("OKCursorWithOtherLimit", func(t *testing.T) {
		res := mustSearch(t, x, search.Query{Text: "sofa", Cursor: other.NextCursor, Limit: 50})
		if slices.Contains(ids(res), other.Hits[0].ID) || len(res.Hits) == 0 {
			t.Fatalf("second page %v repeats or is empty (first %v)", ids(res), ids(other))
		}
	})
	t.Run("ErrUpsertNoID", func(t *testing.T) {
		err := x.Upsert(context.Background(), search.Document{Text: map[string]string{"title": "x"}})
		assertInvalid(t, err, "documents[0].id")
	})
	t.Run("ErrUpsertVectorLength", func(t *testing.T) {
		v := search.New(search.Config{Embedder: &conceptEmbedder{dims: 8}, Vectors: newBruteIndex()})
		err := v.Upsert(context.Background(), search.Document{ID: "a", Vector: make([]float32, 3)})
		assertInvalid(t, err, "documents[0].vector")
		if v.Len() != 0 {
			t.Fatal("an invalid batch was applied")
		}
	})
}

func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	errs := mdk.AllErrors(err)
	if len(errs) == 0 {
		t.Fatalf("no error, want invalid %s", field)
	}
	for _, e := range errs {
		if e.Code == mdk.CodeInvalid && e.Field == field && e.Message != "" {
			return
		}
	}
	t.Fatalf("got %v, want invalid on %s", err, field)
}

func TestDelete(t *testing.T) {
	x := newFixtureIndex(t, search.Config{})
	ctx := context.Background()
	if err := x.Delete(ctx, "p01", "p03", "unknown"); err != nil {
		t.Fatal(err)
	}
	if x.Len() != len(fixture)-2 {
		t.Fatalf("len %d, want %d", x.Len(), len(fixture)-2)
	}
	res := mustSearch(t, x, search.Query{Text: "sofa", Facets: []string{"vendor"}})
	if got := ids(res); slices.Contains(got, "p01") || slices.Contains(got, "p03") || !slices.Contains(got, "p02") {
		t.Fatalf("sofa after delete: %v", got)
	}
	for _, fc := range res.Facets["vendor"] {
		if fc.Value == "Harbor" {
			t.Fatalf("Harbor sofas were deleted, facet still counts %d", fc.Count)
		}
	}
	t.Run("UpsertReplaces", func(t *testing.T) {
		d := fixture[1].document(1)
		d.Text["title"] = "Oslo Linen Loveseat"
		d.Text["description"] = "Two seats."
		d.Text["type"] = "Loveseat"
		if err := x.Upsert(ctx, d); err != nil {
			t.Fatal(err)
		}
		if got := ids(mustSearch(t, x, search.Query{Text: "loveseat"})); !slices.Equal(got, []string{"p02"}) {
			t.Fatalf("loveseat: %v", got)
		}
		if got := ids(mustSearch(t, x, search.Query{Text: "sofa", Mode: search.ModeLexical})); slices.Contains(got, "p02") {
			t.Fatalf("replaced text still matches: %v", got)
		}
		if x.Len() != len(fixture)-2 {
			t.Fatalf("len %d after replace", x.Len())
		}
	})
}

// TestCompaction deletes enough documents to compact the index and checks
// that searches, filters, facets and sorting still see exactly the live
// ones.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	var log bytes.Buffer
	x := search.New(search.Config{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	var docs []search.Document
	for i := range 3000 {
		docs = append(docs, search.Document{
			ID:       fmt.Sprintf("c%04d", i),
			Text:     map[string]string{"title": fmt.Sprintf("%s lamp", []string{"brass", "ceramic", "glass"}[i%3])},
			Keywords: map[string][]string{"material": {[]string{"Brass", "Ceramic", "Glass"}[i%3]}},
			Numbers:  map[string]int64{"price": int64(i), "created_at": int64(i)},
		})
	}
	if err := x.Upsert(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	var gone []string
	for i := 0; i < 3000; i += 2 {
		gone = append(gone, docs[i].ID)
	}
	if err := x.Delete(ctx, gone...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "compacted") {
		t.Fatalf("deleting half the documents did not compact the index; log: %s", log.String())
	}
	// Replacing documents also leaves dead ordinals behind.
	var again []search.Document
	for i := 1; i < 400; i += 2 {
		again = append(again, docs[i])
	}
	if err := x.Upsert(ctx, again...); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 1500 {
		t.Fatalf("len %d, want 1500", x.Len())
	}
	res := mustSearch(t, x, search.Query{Text: "brass lamp", Facets: []string{"material"}, Sort: search.Sort{Field: "price"}, Limit: 3})
	// Odd i with i%3 == 0: 3, 9, 15, ... → 500 documents.
	if res.Total != 500 || !slices.Equal(ids(res), []string{"c0003", "c0009", "c0015"}) {
		t.Fatalf("total %d hits %v", res.Total, ids(res))
	}
	if want := []search.FacetCount{{Value: "Brass", Count: 500}}; !slices.Equal(res.Facets["material"], want) {
		t.Fatalf("facets %v", res.Facets["material"])
	}
	res = mustSearch(t, x, search.Query{Filter: map[string][]string{"material": {"Glass"}}, Ranges: map[string]search.Range{"price": {Max: ptr(20)}}})
	if !slices.Equal(ids(res), []string{"c0017", "c0011", "c0005"}) {
		t.Fatalf("glass under 20: %v", ids(res))
	}
}
