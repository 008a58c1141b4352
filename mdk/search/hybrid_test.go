package search_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/search"
)

func newHybridFixture(t *testing.T, cfg search.Config) (*search.Index, *conceptEmbedder, *bruteIndex) {
	t.Helper()
	emb, vecs := &conceptEmbedder{dims: 256}, newBruteIndex()
	cfg.Embedder, cfg.Vectors = emb, vecs
	cfg.Logger = slog.New(slog.DiscardHandler) // degraded searches warn
	return newFixtureIndex(t, cfg), emb, vecs
}

func TestHybrid(t *testing.T) {
	t.Run("VectorFindsWhatWordsMiss", func(t *testing.T) {
		x, _, _ := newHybridFixture(t, search.Config{})
		q := search.Query{Text: "place to nap", Limit: 3}
		if res := mustSearch(t, x, search.Query{Text: q.Text, Mode: search.ModeLexical}); res.Total != 0 {
			t.Fatalf("lexical found %v for a query sharing no word with the catalog", ids(res))
		}
		for _, mode := range []search.Mode{search.ModeHybrid, search.ModeVector} {
			q.Mode = mode
			got := ids(mustSearch(t, x, q))
			if len(got) < 2 || !slices.Contains(got[:2], "p31") || !slices.Contains(got[:2], "p32") {
				t.Fatalf("mode %q: %v, want the beds first", mode, got)
			}
		}
	})
	t.Run("FusionKeepsLexicalMatchesAndAddsNeighbours", func(t *testing.T) {
		x, _, _ := newHybridFixture(t, search.Config{VectorCandidates: 5})
		lex := mustSearch(t, x, search.Query{Text: "oak", Mode: search.ModeLexical, Limit: 100})
		vec := mustSearch(t, x, search.Query{Text: "oak", Mode: search.ModeVector, Limit: 100})
		hyb := mustSearch(t, x, search.Query{Text: "oak", Limit: 100})
		union := map[string]bool{}
		for _, id := range append(ids(lex), ids(vec)...) {
			union[id] = true
		}
		if len(vec.Hits) != 5 || hyb.Total != len(union) || len(hyb.Hits) != len(union) {
			t.Fatalf("hybrid total %d (hits %d), want the union of %d lexical and %d vector = %d", hyb.Total, len(hyb.Hits), lex.Total, vec.Total, len(union))
		}
		if hyb.Hits[0].Score <= hyb.Hits[len(hyb.Hits)-1].Score {
			t.Fatalf("scores not descending: %v", hyb.Hits)
		}
	})
	t.Run("SmallFilteredSetRankedExactly", func(t *testing.T) {
		x, _, vecs := newHybridFixture(t, search.Config{})
		before := vecs.searchCount()
		got := ids(mustSearch(t, x, search.Query{Text: "lamp glow", Mode: search.ModeVector, Filter: map[string][]string{"category": {"Lighting"}}}))
		if vecs.searchCount() != before {
			t.Fatal("the vector index was searched for a filter leaving two documents")
		}
		if !slices.Equal(got, []string{"p24", "p25"}) && !slices.Equal(got, []string{"p25", "p24"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("LargeSetUsesIndexWithPushdown", func(t *testing.T) {
		x, _, vecs := newHybridFixture(t, search.Config{ExactVectorLimit: 1})
		got := ids(mustSearch(t, x, search.Query{Text: "sofa", Mode: search.ModeVector, Filter: map[string][]string{"vendor": {"Oslo"}, "color": {"Gray"}}}))
		vecs.mu.Lock()
		last := vecs.searches[len(vecs.searches)-1]
		vecs.mu.Unlock()
		// vendor is mirrored into the vector index; color is not, so it is
		// applied to the index's answer.
		if len(last) != 1 || !slices.Equal(last["vendor"], []string{"Oslo"}) {
			t.Fatalf("filter passed to the vector index: %v", last)
		}
		if slices.ContainsFunc(got, func(id string) bool { return id != "p02" && id != "p04" }) || len(got) == 0 {
			t.Fatalf("got %v, want only gray Oslo products", got)
		}
	})
	t.Run("MultiValuedFieldNotPushedDown", func(t *testing.T) {
		x, _, vecs := newHybridFixture(t, search.Config{ExactVectorLimit: 1, VectorFields: []string{"category"}})
		got := ids(mustSearch(t, x, search.Query{Text: "table", Mode: search.ModeVector, Filter: map[string][]string{"category": {"Furniture / Living Room"}}}))
		vecs.mu.Lock()
		last := vecs.searches[len(vecs.searches)-1]
		vecs.mu.Unlock()
		if last != nil {
			t.Fatalf("a multi-valued field was filtered inside the vector index: %v", last)
		}
		if !slices.Contains(got, "p05") {
			t.Fatalf("got %v, want the coffee tables in the living room's subcategory", got)
		}
	})
	t.Run("QueryEmbeddingsCached", func(t *testing.T) {
		x, emb, _ := newHybridFixture(t, search.Config{})
		emb.mu.Lock()
		before := emb.calls
		emb.mu.Unlock()
		for range 3 {
			mustSearch(t, x, search.Query{Text: "velvet  sofa"})
			mustSearch(t, x, search.Query{Text: "velvet sofa", Limit: 2})
		}
		emb.mu.Lock()
		defer emb.mu.Unlock()
		if emb.calls != before+1 {
			t.Fatalf("embedder called %d times for one query text", emb.calls-before)
		}
	})
	t.Run("PaginationStable", func(t *testing.T) {
		x, _, _ := newHybridFixture(t, search.Config{VectorCandidates: 10})
		q := search.Query{Text: "oak chair", Limit: 100}
		full := walk(t, x, q)
		q.Limit = 3
		if paged := walk(t, x, q); !slices.Equal(paged, full) {
			t.Fatalf("paged %v, want %v", paged, full)
		}
	})
	t.Run("ErrEmbedderDownVectorMode", func(t *testing.T) {
		x, emb, _ := newHybridFixture(t, search.Config{})
		emb.mu.Lock()
		emb.fail = errBoom
		emb.mu.Unlock()
		_, err := x.Search(context.Background(), search.Query{Text: "new words", Mode: search.ModeVector})
		if mdk.ErrorCode(err) != mdk.CodeUnavailable {
			t.Fatalf("got %v, want unavailable", err)
		}
		res := mustSearch(t, x, search.Query{Text: "sofa"})
		if lex := mustSearch(t, x, search.Query{Text: "sofa", Mode: search.ModeLexical}); !slices.Equal(ids(res), ids(lex)) {
			t.Fatalf("hybrid with the embedder down answered %v, want the lexical answer %v", ids(res), ids(lex))
		}
	})
	t.Run("ErrVectorIndexDownHybridDegrades", func(t *testing.T) {
		x, _, vecs := newHybridFixture(t, search.Config{ExactVectorLimit: 1})
		vecs.mu.Lock()
		vecs.fail = errBoom
		vecs.mu.Unlock()
		res := mustSearch(t, x, search.Query{Text: "desk"})
		if lex := mustSearch(t, x, search.Query{Text: "desk", Mode: search.ModeLexical}); !slices.Equal(ids(res), ids(lex)) {
			t.Fatalf("hybrid with the vector index down answered %v, want the lexical answer %v", ids(res), ids(lex))
		}
	})
	t.Run("DeleteRemovesVectors", func(t *testing.T) {
		x, _, vecs := newHybridFixture(t, search.Config{})
		if err := x.Delete(context.Background(), "p31"); err != nil {
			t.Fatal(err)
		}
		d := fixture[31].document(1) // p32 again, now without a vector
		if err := x.Upsert(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if n, _ := vecs.Count(context.Background()); n != len(fixture)-2 {
			t.Fatalf("vector index holds %d, want %d", n, len(fixture)-2)
		}
		got := ids(mustSearch(t, x, search.Query{Text: "somewhere to sleep", Mode: search.ModeVector}))
		if slices.Contains(got, "p31") || slices.Contains(got, "p32") {
			t.Fatalf("deleted or vector-less documents found by vector: %v", got)
		}
	})
}

// TestExactVectorRanking checks the int8-quantised exact ranking against
// the float32 brute-force index on random vectors.
func TestExactVectorRanking(t *testing.T) {
	emb, vecs := &conceptEmbedder{dims: 64}, newBruteIndex()
	x := search.New(search.Config{Embedder: emb, Vectors: vecs, ExactVectorLimit: 1 << 30, VectorCandidates: 10})
	words := []string{"oak", "pine", "sofa", "bed", "lamp", "rug", "blue", "red", "round", "tall", "low", "wide"}
	var docs []search.Document
	for i := range 500 {
		text := fmt.Sprintf("%s %s %s", words[i%12], words[(i/12)%12], words[(i*7)%12])
		v, err := emb.Embed(context.Background(), []string{text})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, search.Document{ID: fmt.Sprintf("v%03d", i), Vector: v[0]})
	}
	if err := x.Upsert(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	overlap, total := 0, 0
	for _, q := range []string{"oak bed", "blue sofa", "tall lamp", "red round rug", "wide pine"} {
		got := ids(mustSearch(t, x, search.Query{Text: q, Mode: search.ModeVector, Limit: 10}))
		qv, err := emb.Embed(context.Background(), []string{q})
		if err != nil {
			t.Fatal(err)
		}
		exact, err := vecs.Search(context.Background(), qv[0], 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range exact {
			total++
			if slices.Contains(got, h.ID) {
				overlap++
			}
		}
	}
	if recall := float64(overlap) / float64(total); recall < 0.9 {
		t.Fatalf("quantised exact ranking recall@10 %.2f against float32", recall)
	}
}
