package graph_test

import (
	"fmt"
	"testing"
)

// TestNoNPlusOne counts the SQL statements of a product page with variants
// and of a cart whose lines resolve their variants: the count must not grow
// with the number of rows (dataloaders and batched reads).
func TestNoNPlusOne(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var variants []string
		for i := range 20 {
			_, vs := e.createProduct(t, fmt.Sprintf("Lamp %02d", i),
				variantSpec{fmt.Sprintf("LAMP-%02d-A", i), int64(1000 + i), 5},
				variantSpec{fmt.Sprintf("LAMP-%02d-B", i), int64(2000 + i), 5},
				variantSpec{fmt.Sprintf("LAMP-%02d-C", i), int64(3000 + i), 5})
			variants = append(variants, vs[0])
		}
		eventually(t, "20 lamps indexed", func() bool {
			var res searchResult
			e.do(t, e.alice, searchQuery, map[string]any{"q": "lamp", "first": 20}, &res)
			return res.Products.TotalCount == 20
		})
		// queries runs the request a few times and keeps the fewest SQL
		// statements seen: background loops (outbox relay, workflows)
		// also use the database, but not during every request.
		queries := func(query string, vars map[string]any) uint64 {
			best := ^uint64(0)
			for range 5 {
				before := e.g.DB().Queries()
				e.do(t, e.alice, query, vars, nil) // a shopper: never the anonymous response cache
				best = min(best, e.g.DB().Queries()-before)
			}
			return best
		}
		t.Run("ProductPage", func(t *testing.T) {
			small := queries(searchQuery, map[string]any{"q": "lamp", "first": 5})
			large := queries(searchQuery, map[string]any{"q": "lamp", "first": 20})
			if large != small || large > 5 {
				t.Fatalf("SQL statements: %d for 5 products, %d for 20 (3 variants each); want the same small number", small, large)
			}
			t.Logf("%d SQL statements for a page of 20 products with 60 variants", large)
		})
		t.Run("CartLineVariants", func(t *testing.T) {
			cart := func(n int) string {
				lines := make([]map[string]any, n)
				for i := range lines {
					lines[i] = map[string]any{"itemId": variants[i], "quantity": 1}
				}
				var out struct {
					CartCreate struct{ Cart struct{ ID string } } `json:"cartCreate"`
				}
				e.do(t, e.alice, `mutation($lines: [CartLineInput!]) { cartCreate(input: {lines: $lines}) { cart { id } } }`,
					map[string]any{"lines": lines}, &out)
				return out.CartCreate.Cart.ID
			}
			const q = `query($id: ID!) { cart(id: $id) { lines { quantity variant { id title price { amount } available } } } }`
			small := queries(q, map[string]any{"id": cart(5)})
			large := queries(q, map[string]any{"id": cart(20)})
			if large != small || large > 12 {
				t.Fatalf("SQL statements: %d for a cart of 5 lines, %d for 20; want the same small number", small, large)
			}
			t.Logf("%d SQL statements for a cart of 20 lines with their variants", large)
		})
	})
}
