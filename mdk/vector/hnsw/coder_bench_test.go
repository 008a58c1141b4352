package hnsw_test

import (
	mrand "math/rand"
	"testing"

	coder "github.com/coder/hnsw"

	"github.com/hyperrr/hyperrr/mdk/vector"
)

// BenchmarkCoderHNSW measures github.com/coder/hnsw v0.6.1 on the same
// data, the evaluation behind writing this package (see doc.go). It has no
// filtered search, and reports no scores; only its recall and speed are
// compared.
func BenchmarkCoderHNSW(b *testing.B) {
	for _, ds := range datasets(b) {
		b.Run(ds.name, func(b *testing.B) {
			var search searcher
			b.Run("Build", func(b *testing.B) {
				search = build(b, ds, func() (searcher, func([]vector.Item)) {
					g := coder.NewGraph[int]()
					g.M = 16
					g.EfSearch = 64
					g.Rng = mrand.New(mrand.NewSource(1))
					search := func(q []float32, k int, _ vector.Filter) []string {
						var ids []string
						for _, n := range g.Search(q, k) {
							ids = append(ids, ds.items[n.Key].ID)
						}
						return ids
					}
					load := func(items []vector.Item) {
						for i, it := range items {
							g.Add(coder.MakeNode(i, it.Vector))
						}
					}
					return search, load
				})
			})
			measureAll(b, ds, "CoderHNSW", search, nil)
		})
	}
}
