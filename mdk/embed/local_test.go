package embed_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/embed"
)

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func embedAll(t *testing.T, e embed.Embedder, texts ...string) [][]float32 {
	t.Helper()
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("embed: %v", err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) != e.Dimensions() {
			t.Fatalf("vector %d has %d dimensions, want %d", i, len(v), e.Dimensions())
		}
		if n := dot(v, v); math.Abs(float64(n)-1) > 1e-5 {
			t.Fatalf("vector %d (%q) has squared norm %f, want 1", i, texts[i], n)
		}
	}
	return vecs
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestLocal(t *testing.T) {
	t.Run("OKModelAndDimensions", func(t *testing.T) {
		if l := embed.NewLocal(0); l.Model() != "local-hash-v1-256" || l.Dimensions() != 256 {
			t.Errorf("default: Model %q, Dimensions %d", l.Model(), l.Dimensions())
		}
		l := embed.NewLocal(64)
		if l.Model() != "local-hash-v1-64" {
			t.Errorf("Model() = %q", l.Model())
		}
		embedAll(t, l, "Oak Dining Table")
	})
	t.Run("OKDeterministicInParallel", func(t *testing.T) {
		l := embed.NewLocal(0)
		texts := make([]string, 600)
		for i := range texts {
			texts[i] = fmt.Sprintf("Walnut bookcase %d with %d shelves", i, i%7)
		}
		batch := embedAll(t, l, texts...)
		for i := 0; i < len(texts); i += 37 {
			one := embedAll(t, l, texts[i])
			if !equal(batch[i], one[0]) {
				t.Fatalf("text %d embeds differently alone and in a batch", i)
			}
		}
	})
	t.Run("OKFolding", func(t *testing.T) {
		l := embed.NewLocal(0)
		v := embedAll(t, l, "Café Crème Armchair", "cafe creme armchair", "CAFE, creme -- ARMCHAIR!")
		if !equal(v[0], v[1]) || !equal(v[1], v[2]) {
			t.Error("case, accents and punctuation change the vector")
		}
		w := embedAll(t, l, "wooden chairs", "wooden chair", "kid's chair", "kids chair")
		if s := dot(w[0], w[1]); s < 0.8 {
			t.Errorf("plural and singular: similarity %.3f, want ≥ 0.8", s)
		}
		if !equal(w[2], w[3]) {
			t.Error("an apostrophe inside a word changes the vector")
		}
	})
	t.Run("OKEmptyText", func(t *testing.T) {
		l := embed.NewLocal(0)
		v := embedAll(t, l, "", "  !!! ", "the", "sofa")
		if !equal(v[0], v[1]) {
			t.Error("texts without words embed differently")
		}
		if equal(v[0], v[2]) {
			t.Error(`a stop-word-only text ("the") embeds as nothing`)
		}
	})
	t.Run("OKConcepts", func(t *testing.T) {
		l := embed.NewLocal(0)
		products := []string{"Velvet Sofa", "Oak Desk", "Pine Spice Rack", "Steel Bookcase", "Teak Adirondack Chair", "Glass Pendant Light"}
		pv := embedAll(t, l, products...)
		for _, tc := range []struct{ query, want string }{
			{"couch", "Velvet Sofa"},
			{"somewhere to keep my spices", "Pine Spice Rack"},
			{"something to hold my books", "Steel Bookcase"},
			{"somewhere to sit in the garden", "Teak Adirondack Chair"},
			{"hanging lamp", "Glass Pendant Light"},
			{"a place to work", "Oak Desk"},
		} {
			q := embedAll(t, l, tc.query)[0]
			best := 0
			for i := range pv {
				if dot(q, pv[i]) > dot(q, pv[best]) {
					best = i
				}
			}
			if products[best] != tc.want {
				t.Errorf("%q: nearest is %q, want %q", tc.query, products[best], tc.want)
			}
		}
	})
	t.Run("OKIDF", func(t *testing.T) {
		corpus := []string{"oak table", "oak chair", "oak desk", "oak bed", "rattan hammock"}
		idf := embed.FitIDF(corpus)
		plain := embed.NewLocal(0)
		weighted := plain.WithIDF(idf)
		if weighted.Model() == plain.Model() || weighted.Model() != "local-hash-v1-256-idf-"+idf.Fingerprint() {
			t.Errorf("Model with IDF = %q, without = %q: want the fingerprint to tell them apart", weighted.Model(), plain.Model())
		}
		// "oak" is in most texts, "hammock" in one: with IDF the rare word
		// decides which product "oak hammock" is nearer.
		q, p := embedAll(t, weighted, "oak hammock")[0], embedAll(t, weighted, "oak table", "rattan hammock")
		if dot(q, p[1]) <= dot(q, p[0]) {
			t.Errorf("with IDF, oak hammock: table %.3f ≥ hammock %.3f", dot(q, p[0]), dot(q, p[1]))
		}
		data, err := idf.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back embed.IDF
		if err := back.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if back.Fingerprint() != idf.Fingerprint() || back.Docs() != len(corpus) {
			t.Errorf("round trip: fingerprint %s docs %d, want %s %d", back.Fingerprint(), back.Docs(), idf.Fingerprint(), len(corpus))
		}
		if !equal(embedAll(t, plain.WithIDF(&back), "oak hammock")[0], q) {
			t.Error("a decoded table embeds differently")
		}
	})
	t.Run("ErrIDFCorrupt", func(t *testing.T) {
		data, err := embed.FitIDF([]string{"a b"}).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for name, bad := range map[string][]byte{
			"empty":     nil,
			"magic":     append([]byte("x"), data[1:]...),
			"truncated": data[:len(data)/2],
			"trailing":  append(append([]byte{}, data...), 1),
		} {
			var idf embed.IDF
			if err := idf.UnmarshalBinary(bad); err == nil {
				t.Errorf("%s table decoded without error", name)
			}
		}
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := embed.NewLocal(0).Embed(ctx, []string{"sofa"}); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}
