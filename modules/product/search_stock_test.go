package product_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/product"
)

// TestSearchStockInMemory checks that stock changes reach the in-stock
// filter without re-reading the product, and content changes still do.
func TestSearchStockInMemory(t *testing.T) {
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := serveOn(t, e)
			p := s.create(t, product.ProductInput{Title: "Brass Desk Lamp", Variants: []product.VariantInput{variant("BDL-1", 8900, 1)}})
			v := p.Variants[0].ID
			const inStock, soldOut = `{"query":"brass lamp","filters":{"in_stock":true}}`, `{"query":"brass lamp","filters":{"in_stock":false}}`
			has := func(title string) func(product.SearchOutput) bool {
				return func(o product.SearchOutput) bool { return slices.Contains(titles(o), title) }
			}
			hasNot := func(title string) func(product.SearchOutput) bool {
				return func(o product.SearchOutput) bool { return !slices.Contains(titles(o), title) }
			}
			s.eventually(t, inStock, has("Brass Desk Lamp"))
			reloads := s.m.SearchReloads()
			if reloads == 0 {
				t.Fatal("product.created did not reload the product into the index")
			}
			ctx := context.Background()

			t.Run("OKStockWithoutReload", func(t *testing.T) {
				res, err := reserveOne(ctx, s.catalogEnv, v, 1)
				if err != nil {
					t.Fatal(err)
				}
				s.eventually(t, inStock, hasNot("Brass Desk Lamp"))
				s.eventually(t, soldOut, has("Brass Desk Lamp"))
				if _, err := s.m.Release(ctx, product.SettleInput{ReservationIDs: res.IDs()}); err != nil {
					t.Fatal(err)
				}
				s.eventually(t, inStock, has("Brass Desk Lamp"))
				res, err = reserveOne(ctx, s.catalogEnv, v, 1)
				if err != nil {
					t.Fatal(err)
				}
				s.eventually(t, inStock, hasNot("Brass Desk Lamp"))
				if _, err := s.m.Commit(ctx, product.SettleInput{ReservationIDs: res.IDs()}); err != nil {
					t.Fatal(err)
				}
				// Commit moves on-hand and reserved together: still sold out.
				// Events of one variant arrive in order, so once the restock
				// shows, the commit's event was applied before it.
				if inv := s.stock(t, v); inv != (product.Inventory{}) {
					t.Fatalf("after commit %+v, want nothing on hand", inv)
				}
				if out := s.search(t, inStock); slices.Contains(titles(out), "Brass Desk Lamp") {
					t.Fatalf("sold-out product in stock after commit: %v", titles(out))
				}
				if _, err := callJSON[product.Variant](t, s.merchant, s.catalogEnv, "set_stock", `{"variant_id":"`+v+`","on_hand":2}`); err != nil {
					t.Fatal(err)
				}
				s.eventually(t, inStock, has("Brass Desk Lamp"))
				if got := s.m.SearchReloads(); got != reloads {
					t.Fatalf("stock changes reloaded the product %d times, want 0", got-reloads)
				}
			})
			t.Run("OKOldEventReloads", func(t *testing.T) {
				// An inventory.changed without available (an older emitter)
				// can't be applied in memory: the product is re-read.
				old, err := mdk.NewEvent(product.EventInventoryChanged, v, map[string]string{"product_id": p.ID, "variant_id": v})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.g.Bus().Publish(ctx, old); err != nil {
					t.Fatal(err)
				}
				waitReloads(t, s, reloads+1)
				reloads = s.m.SearchReloads()
			})
			t.Run("OKContentChangeReloads", func(t *testing.T) {
				if _, err := callJSON[product.Product](t, s.merchant, s.catalogEnv, "update_product", `{"id":"`+p.ID+`","title":"Brass Floor Lamp"}`); err != nil {
					t.Fatal(err)
				}
				s.eventually(t, inStock, has("Brass Floor Lamp"))
				waitReloads(t, s, reloads+1)
			})
			t.Run("OKBurstReloadsOnce", func(t *testing.T) {
				// Twenty product.updated in a burst: re-read once or twice
				// (once more if the first read began mid-burst), not twenty
				// times.
				before := s.m.SearchReloads()
				burst := make([]mdk.Event, 20)
				for i := range burst {
					var err error
					if burst[i], err = mdk.NewEvent(product.EventProductUpdated, p.ID, product.ProductEvent{ProductID: p.ID, Status: product.StatusActive}); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.g.Bus().Publish(ctx, burst...); err != nil {
					t.Fatal(err)
				}
				waitReloads(t, s, before+1)
				time.Sleep(300 * time.Millisecond) // time for any further reloads
				if n := s.m.SearchReloads() - before; n > 5 {
					t.Fatalf("a burst of 20 events about one product caused %d reloads", n)
				}
			})
		})
	}
}

func waitReloads(t *testing.T, s *servedCatalog, atLeast int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.m.SearchReloads() < atLeast {
		if time.Now().After(deadline) {
			t.Fatalf("reloads %d, want at least %d", s.m.SearchReloads(), atLeast)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
