package milvus_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/milvus"
	"github.com/hyperrr/hyperrr/mdk/vector/milvus/milvusfake"
	"github.com/hyperrr/hyperrr/mdk/vector/vectortest"
)

func openFake(t *testing.T, cfg milvus.Config) (*milvus.Index, *milvusfake.Server) {
	t.Helper()
	srv := milvusfake.Start(t)
	cfg.Address = srv.Addr()
	cfg.Collection = uniqueCollection()
	if cfg.Dimensions == 0 {
		cfg.Dimensions = 8
	}
	return open(t, cfg), srv
}

func hitIDs(hits []vector.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	slices.Sort(out)
	return out
}

// hostile are values that break a filter expression built without
// escaping: quotes of both kinds, brackets, backslashes, an attempt to
// close the list and add a clause, control characters, non-ASCII.
var hostile = []string{
	`say "hi"`,
	`O'Brien`,
	`a\b`,
	`tail\`,
	`x"] || id in ["p0`,
	`[nested], "list"`,
	"line\nbreak\ttab",
	"Küche & Tisch ✓",
	"",
}

func TestFilterEscaping(t *testing.T) {
	x, srv := openFake(t, milvus.Config{FilterFields: []string{"category"}})
	items := vectortest.RandomItems(1, "p", len(hostile)+1, 8)
	for i := range hostile {
		items[i].Fields = map[string]string{"category": hostile[i]}
	}
	plain := items[len(hostile)] // has no category at all
	if err := x.Upsert(t.Context(), items...); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	for i, v := range hostile {
		hits, err := x.Search(t.Context(), items[i].Vector, 10, vector.Filter{"category": {v}})
		if err != nil {
			t.Fatalf("filter category=%q: %v", v, err)
		}
		if got := hitIDs(hits); !slices.Equal(got, []string{items[i].ID}) {
			t.Errorf("filter category=%q: got %v, want only %s", v, got, items[i].ID)
		}
	}
	// The item without the field is stored as NULL: not even the empty
	// value matches it.
	hits, err := x.Search(t.Context(), plain.Vector, 10, vector.Filter{"category": {""}})
	if err != nil || slices.Contains(hitIDs(hits), plain.ID) {
		t.Errorf("filter category=\"\": got %v, %v; the item without a category must not pass", hitIDs(hits), err)
	}
	exprs := srv.Exprs()
	if want := `category in ["x\"] || id in [\"p0"]`; !slices.Contains(exprs, want) {
		t.Errorf("the fake never received %s; got %q", want, exprs)
	}
}

func TestFilterExpression(t *testing.T) {
	x, srv := openFake(t, milvus.Config{FilterFields: []string{"status", "category"}})
	q := vectortest.RandomItems(1, "q", 1, 8)[0].Vector
	if _, err := x.Search(t.Context(), q, 5, vector.Filter{"status": {"active", "draft"}, "category": {"Outdoor"}}); err != nil {
		t.Fatalf("search: %v", err)
	}
	want := []string{`category in ["Outdoor"] && status in ["active", "draft"]`}
	if got := srv.Exprs(); !slices.Equal(got, want) {
		t.Errorf("expressions = %q, want %q", got, want)
	}
	// Filters no item can pass never reach Milvus.
	for _, f := range []vector.Filter{{"status": {}}, {"brand": {"x"}}, {"status": {"active"}, "brand": {"x"}}} {
		hits, err := x.Search(t.Context(), q, 5, f)
		if err != nil || len(hits) != 0 {
			t.Errorf("filter %v: got %v, %v; want no hits and no error", f, hits, err)
		}
	}
	if n := srv.Calls("Search"); n != 1 {
		t.Errorf("Search calls = %d, want 1", n)
	}
}

func TestDeleteEscaping(t *testing.T) {
	x, srv := openFake(t, milvus.Config{})
	ids := []string{`plain`, `with "quote"`, `b`, `a", "b`, `back\slash`}
	items := vectortest.RandomItems(2, "", len(ids), 8)
	for i := range items {
		items[i].ID = ids[i]
	}
	if err := x.Upsert(t.Context(), items...); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	if err := x.Delete(t.Context(), `with "quote"`, `a", "b`, `back\slash`); err != nil {
		t.Fatalf("delete: %v", err)
	}
	hits, err := x.Search(t.Context(), items[0].Vector, 10, nil)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if got := hitIDs(hits); !slices.Equal(got, []string{"b", "plain"}) {
		t.Errorf("left after delete: %q, want [b plain]", got)
	}
	if want := `id in ["with \"quote\"", "a\", \"b", "back\\slash"]`; !slices.Contains(srv.Exprs(), want) {
		t.Errorf("the fake never received %s; got %q", want, srv.Exprs())
	}
}

func TestBatches(t *testing.T) {
	x, srv := openFake(t, milvus.Config{BatchSize: 3})
	items := vectortest.RandomItems(3, "b", 10, 8)
	if err := x.Upsert(t.Context(), items...); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	if n := srv.Calls("Upsert"); n != 4 {
		t.Errorf("Upsert calls for 10 items in batches of 3 = %d, want 4", n)
	}
	if n, err := x.Count(t.Context()); err != nil || n != 10 {
		t.Errorf("count = %d, %v; want 10", n, err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	if err := x.Delete(t.Context(), ids...); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if n := srv.Calls("Delete"); n != 4 {
		t.Errorf("Delete calls for 10 IDs in batches of 3 = %d, want 4", n)
	}
	if n, err := x.Count(t.Context()); err != nil || n != 0 {
		t.Errorf("count after delete = %d, %v; want 0", n, err)
	}
}

func TestUpsertLimits(t *testing.T) {
	x, _ := openFake(t, milvus.Config{FilterFields: []string{"category"}})
	v := vectortest.RandomItems(4, "v", 1, 8)[0].Vector
	err := x.Upsert(t.Context(),
		vector.Item{ID: "ok", Vector: v, Fields: map[string]string{"category": "fine"}},
		vector.Item{ID: strings.Repeat("i", 513), Vector: v},
		vector.Item{ID: "long-field", Vector: v, Fields: map[string]string{"category": strings.Repeat("c", 1025)}},
		vector.Item{ID: "bad\xffutf8", Vector: v},
	)
	var fields []string
	for _, e := range mdk.AllErrors(err) {
		if e.Code != mdk.CodeInvalid {
			t.Errorf("%v: code %s, want invalid", e, e.Code)
		}
		fields = append(fields, e.Field)
	}
	if want := []string{"items[1].id", "items[2].fields.category", "items[3].id"}; !slices.Equal(fields, want) {
		t.Errorf("invalid fields = %q, want %q", fields, want)
	}
	if n, err := x.Count(t.Context()); err != nil || n != 0 {
		t.Errorf("count after a rejected upsert = %d, %v; want 0", n, err)
	}
}

func TestUnavailable(t *testing.T) {
	x, srv := openFake(t, milvus.Config{})
	srv.Stop()
	q := vectortest.RandomItems(5, "q", 1, 8)[0].Vector
	checks := map[string]func() error{
		"Search": func() error { _, err := x.Search(t.Context(), q, 3, nil); return err },
		"Upsert": func() error { return x.Upsert(t.Context(), vector.Item{ID: "a", Vector: q}) },
		"Delete": func() error { return x.Delete(t.Context(), "a") },
		"Count":  func() error { _, err := x.Count(t.Context()); return err },
	}
	for name, call := range checks {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			e := wantCode(t, call(), mdk.CodeUnavailable)
			if e != nil && (!e.Retryable || !strings.Contains(e.Message, srv.Addr())) {
				t.Errorf("got %+v; want a retryable error naming %s", e, srv.Addr())
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s to report Milvus down; want the retries capped near 1s", d)
			}
		})
	}
}

func TestClose(t *testing.T) {
	x, _ := openFake(t, milvus.Config{})
	if err := x.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := x.Count(t.Context()); !errors.Is(err, vector.ErrClosed) {
		t.Errorf("count after close: %v, want vector.ErrClosed", err)
	}
	if err := x.Close(); err != nil {
		t.Errorf("second close: %v, want nil", err)
	}
}
