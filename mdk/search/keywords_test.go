package search_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/search"
)

func TestSetKeyword(t *testing.T) {
	ctx := context.Background()
	x := search.New(search.Config{})
	doc := func(id, stock string) search.Document {
		return search.Document{ID: id, Text: map[string]string{"title": "oak chair " + id}, Keywords: map[string][]string{"in_stock": {stock}, "vendor": {"Acme"}}}
	}
	if err := x.Upsert(ctx, doc("a", "true"), doc("b", "true"), doc("c", "false")); err != nil {
		t.Fatal(err)
	}
	inStock := func(t *testing.T) ([]string, []search.FacetCount) {
		t.Helper()
		res, err := x.Search(ctx, search.Query{Text: "chair", Filter: map[string][]string{"in_stock": {"true"}}, Facets: []string{"vendor", "in_stock"}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		slices.Sort(ids)
		return ids, res.Facets["in_stock"]
	}
	t.Run("OK", func(t *testing.T) {
		for _, step := range []struct {
			id, value string
			want      []string
		}{{"a", "false", []string{"b"}}, {"c", "true", []string{"b", "c"}}, {"a", "true", []string{"a", "b", "c"}}} {
			ok, err := x.SetKeyword(step.id, "in_stock", step.value)
			if err != nil || !ok {
				t.Fatalf("SetKeyword(%s) = %v, %v", step.id, ok, err)
			}
			if got, facet := inStock(t); !slices.Equal(got, step.want) || len(facet) != 1 || facet[0].Count != len(step.want) {
				t.Fatalf("after %s=%s: in stock %v (facet %v), want %v", step.id, step.value, got, facet, step.want)
			}
		}
		// The other fields are untouched.
		res, err := x.Search(ctx, search.Query{Filter: map[string][]string{"vendor": {"Acme"}}})
		if err != nil || res.Total != 3 {
			t.Fatalf("vendor filter: %d, %v; want 3", res.Total, err)
		}
	})
	t.Run("UnknownDocument", func(t *testing.T) {
		if ok, err := x.SetKeyword("zzz", "in_stock", "true"); ok || err != nil {
			t.Fatalf("SetKeyword(unknown) = %v, %v; want false, nil", ok, err)
		}
	})
}
