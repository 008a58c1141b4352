package vector_test

import (
	"context"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/hnsw"
	"github.com/hyperrr/hyperrr/mdk/vector/vectortest"
)

func newWarming(t *testing.T, dims int) *vector.Warming {
	t.Helper()
	exact, err := vector.NewExact(dims)
	if err != nil {
		t.Fatal(err)
	}
	return vector.NewWarming(exact)
}

func TestWarming(t *testing.T) {
	t.Run("BeforeBuild", func(t *testing.T) {
		vectortest.Run(t, func(t *testing.T, dims int) vector.Index { return newWarming(t, dims) })
	})
	t.Run("AfterBuild", func(t *testing.T) {
		vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
			w := newWarming(t, dims)
			if err := w.Build(context.Background(), func() (vector.Index, error) { return hnsw.New(dims, hnsw.Options{Seed: 1}) }); err != nil {
				t.Fatal(err)
			}
			return w
		})
	})
	t.Run("WritesDuringBuildCarryOver", func(t *testing.T) {
		ctx := context.Background()
		const dims = 16
		w := newWarming(t, dims)
		items := vectortest.RandomItems(7, "p", 300, dims)
		if err := w.Upsert(ctx, items[:200]...); err != nil {
			t.Fatal(err)
		}
		err := w.Build(ctx, func() (vector.Index, error) {
			// Writes land while the new index is being filled.
			if err := w.Upsert(ctx, items[200:]...); err != nil {
				return nil, err
			}
			if err := w.Delete(ctx, "p0", "p1"); err != nil {
				return nil, err
			}
			return hnsw.New(dims, hnsw.Options{Seed: 1})
		})
		if err != nil {
			t.Fatal(err)
		}
		if !w.Switched() {
			t.Fatal("did not switch to the built index")
		}
		if n, err := w.Count(ctx); err != nil || n != 298 {
			t.Fatalf("count %d err=%v, want 298", n, err)
		}
		hits, err := w.Search(ctx, items[250].Vector, 1, nil)
		if err != nil || len(hits) != 1 || hits[0].ID != items[250].ID {
			t.Fatalf("item written during the build not found: %v %v", hits, err)
		}
		hits, err = w.Search(ctx, items[0].Vector, 1, nil)
		if err != nil || len(hits) != 1 || hits[0].ID == "p0" {
			t.Fatalf("item deleted during the build still found: %v %v", hits, err)
		}
		if err := w.Build(ctx, func() (vector.Index, error) { return vector.NewExact(dims) }); err == nil {
			t.Fatal("second Build accepted")
		}
	})
}
