package product_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/product"
)

// start starts m as the gateway's Serve would and stops it when t ends.
func start(t *testing.T, m *product.Module) {
	t.Helper()
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

func count(t *testing.T, g *gateway.Gateway, query string) int {
	t.Helper()
	var n int
	if err := g.DB().QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// catalogDigest lists every variant's product, SKU, price and stock, so two
// seeded stores can be compared.
func catalogDigest(t *testing.T, g *gateway.Gateway) string {
	t.Helper()
	rows, err := g.DB().QueryContext(context.Background(), `SELECT p.handle, v.sku, v.title, v.price, COALESCE(v.compare_at_price, -1), v.on_hand
		FROM product.variants v JOIN product.products p ON p.id = v.product_id ORDER BY v.sku`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var handle, sku, title string
		var price, compareAt, onHand int64
		if err := rows.Scan(&handle, &sku, &title, &price, &compareAt, &onHand); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s %d %d %d\n", handle, sku, title, price, compareAt, onHand)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSeedDemo(t *testing.T) {
	var digests []string
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Run("OK", func(t *testing.T) {
				g, m := openProduct(t, e, true)
				start(t, m)
				checks := map[string]int{
					`SELECT COUNT(*) FROM product.products`: 312,
					`SELECT COUNT(*) FROM product.products WHERE status = 'active' AND vendor <> '' AND description <> ''`: 312,
					`SELECT COUNT(DISTINCT category) FROM product.products`:                                                26,
					`SELECT COUNT(*) FROM product.outbox WHERE type = 'product.created'`:                                   312,
				}
				for q, want := range checks {
					if got := count(t, g, q); got != want {
						t.Errorf("%s = %d, want %d", q, got, want)
					}
				}
				// Some of everything a real catalog has.
				for _, q := range []string{
					`SELECT COUNT(*) FROM product.variants WHERE on_hand = 0`,
					`SELECT COUNT(*) FROM product.variants WHERE on_hand BETWEEN 1 AND 4`,
					`SELECT COUNT(*) FROM product.variants WHERE compare_at_price > price`,
					`SELECT COUNT(*) FROM product.products WHERE options LIKE '%"Color"%' AND options LIKE '%"Size"%'`,
					`SELECT COUNT(*) FROM product.products WHERE options = '[]'`,
					`SELECT COUNT(*) FROM product.products WHERE category LIKE '% / % / %'`,
				} {
					if got := count(t, g, q); got < 10 {
						t.Errorf("%s = %d, want at least 10", q, got)
					}
				}
				if got := count(t, g, `SELECT COUNT(*) FROM product.variants WHERE compare_at_price <= price`); got != 0 {
					t.Errorf("%d compare-at prices at or below the price", got)
				}
				digests = append(digests, catalogDigest(t, g))
				sofa, err := mdk.Call[product.IDInput, product.Product](mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant}),
					g.Ops(), "get_product_admin", product.IDInput{ID: strings.Fields(digests[len(digests)-1])[0]})
				if err != nil || sofa.Variants[0].Price.Currency != "USD" {
					t.Fatalf("first product: %+v %v", sofa, err)
				}
			})
			t.Run("OKNotIntoAStoreWithProducts", func(t *testing.T) {
				g, m := openProduct(t, e, true)
				if _, err := mdk.Call[product.ProductInput, product.Product](mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant}),
					g.Ops(), "create_product", scarf("MINE", 1)); err != nil {
					t.Fatal(err)
				}
				start(t, m)
				if got := count(t, g, `SELECT COUNT(*) FROM product.products`); got != 1 {
					t.Fatalf("%d products, want the merchant's one", got)
				}
			})
			t.Run("OKNotWithoutSeedDemo", func(t *testing.T) {
				g, m := openProduct(t, e, false)
				start(t, m)
				if got := count(t, g, `SELECT COUNT(*) FROM product.products`); got != 0 {
					t.Fatalf("%d products without SeedDemo", got)
				}
			})
		})
	}
	if len(digests) == 2 && digests[0] != digests[1] {
		t.Fatal("the demo catalog differs between the two engines' runs: it is not deterministic")
	}
}
