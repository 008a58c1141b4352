package graph_test

import (
	"fmt"
	"slices"
	"testing"
)

const adminProductsPage = `query($first: Int, $after: String) {
  adminProducts(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
    nodes { id }
  }
}`

const lowStockPage = `query($first: Int, $after: String) {
  lowStock(threshold: 100, first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id: variantId } }
    nodes { id: variantId }
  }
}`

// TestProductConnections resumes adminProducts and lowStock from a middle
// edge's cursor: the next page starts right after that edge, ties in
// stock broken the same way as on the first page.
func TestProductConnections(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for i, stock := range []int64{0, 1, 1, 2, 3, 3, 4} {
			e.createProduct(t, fmt.Sprintf("Vase %d", i), variantSpec{sku: fmt.Sprintf("VASE-%d", i), price: 1000, stock: stock})
		}
		for name, tc := range map[string]struct {
			query, field string
		}{
			"OKAdminProducts": {adminProductsPage, "adminProducts"},
			"OKLowStock":      {lowStockPage, "lowStock"},
		} {
			t.Run(name, func(t *testing.T) {
				// orderConn reads any connection whose nodes have an id.
				page := func(vars map[string]any) orderConn {
					var out map[string]orderConn
					e.do(t, e.merchant, tc.query, vars, &out)
					return out[tc.field]
				}
				all := page(map[string]any{"first": 10})
				ids := all.ids(t)
				if len(ids) != 7 || all.PageInfo.HasNextPage {
					t.Fatalf("first page: %v, hasNextPage %v; want 7 items on one page", ids, all.PageInfo.HasNextPage)
				}
				for _, at := range []int{0, 2} {
					next := page(map[string]any{"first": 3, "after": *all.Edges[at].Cursor})
					if got, want := next.ids(t), ids[at+1:at+4]; !slices.Equal(got, want) || !next.PageInfo.HasNextPage {
						t.Fatalf("after edge %d: %v (hasNextPage %v), want %v and more", at, got, next.PageInfo.HasNextPage, want)
					}
				}
				for _, at := range []int{3, 5} {
					last := page(map[string]any{"first": 3, "after": *all.Edges[at].Cursor})
					if got := last.ids(t); !slices.Equal(got, ids[at+1:]) || last.PageInfo.HasNextPage {
						t.Fatalf("after edge %d: %v (hasNextPage %v), want %v and no more", at, got, last.PageInfo.HasNextPage, ids[at+1:])
					}
				}
			})
		}
	})
}
