package product_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product"
)

// TestSearchCacheFollowsChanges checks that remembered search_catalog
// answers never outlive a change: a search answered before a price, stock
// or status change shows the change as soon as the index has applied the
// change's event. A fresh probe (a filter the index evaluates, in an input
// never asked before) tells when the event is applied; the remembered
// search must then show the change at once, with no polling.
func TestSearchCacheFollowsChanges(t *testing.T) {
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := serveOn(t, e)
			scarf := s.create(t, product.ProductInput{Title: "Wool Scarf", Category: "Accessories", Vendor: "Fellside",
				Variants: []product.VariantInput{variant("WS-1", 2500, 5)}})
			s.create(t, product.ProductInput{Title: "Linen Scarf", Category: "Accessories", Vendor: "Fellside",
				Variants: []product.VariantInput{variant("LS-1", 1900, 5)}})
			const remembered = `{"query":"scarf"}`
			s.eventually(t, remembered, func(o product.SearchOutput) bool { return o.Pagination.TotalCount == 2 })
			for range 3 { // answered from the cache from here on
				if p := find(t, s.search(t, remembered), scarf.ID); p.Variants[0].Price.Amount != 2500 {
					t.Fatalf("before any change: %s at %d", p.Title, p.Variants[0].Price.Amount)
				}
			}
			probes := 0
			// applied polls fresh inputs until the index shows filter's
			// matches for the wool scarf.
			applied := func(t *testing.T, filters string, want int) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					probes++ // a new limit each time: a new input, never cached
					out := s.search(t, fmt.Sprintf(`{"query":"wool scarf","filters":%s,"pagination":{"limit":%d}}`, filters, 1+probes%100))
					if out.Pagination.TotalCount == want {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("the index never applied the change (%s matched %d)", filters, out.Pagination.TotalCount)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			t.Run("OKPrice", func(t *testing.T) {
				if _, err := call[product.UpdateVariantInput, product.Variant](s.merchant, s.catalogEnv, "update_variant",
					product.UpdateVariantInput{ID: scarf.Variants[0].ID, Price: ptr(int64(3100))}); err != nil {
					t.Fatal(err)
				}
				applied(t, `{"price":{"min":3000}}`, 1)
				if p := find(t, s.search(t, remembered), scarf.ID); p.Variants[0].Price.Amount != 3100 {
					t.Errorf("remembered search still shows price %d after the change was applied, want 3100", p.Variants[0].Price.Amount)
				}
			})
			t.Run("OKStock", func(t *testing.T) {
				if _, err := call[product.SetStockInput, product.Variant](s.merchant, s.catalogEnv, "set_stock",
					product.SetStockInput{SKU: "WS-1", OnHand: 0}); err != nil {
					t.Fatal(err)
				}
				applied(t, `{"in_stock":false}`, 1)
				if p := find(t, s.search(t, remembered), scarf.ID); p.Variants[0].Availability.Available {
					t.Errorf("remembered search still shows the scarf available after its stock went to 0: %+v", p.Variants[0].Availability)
				}
			})
			t.Run("OKArchive", func(t *testing.T) {
				if _, err := call[product.IDInput, product.Product](s.merchant, s.catalogEnv, "archive_product", product.IDInput{ID: scarf.ID}); err != nil {
					t.Fatal(err)
				}
				applied(t, `{"vendors":["Fellside"],"categories":["Accessories"],"in_stock":false}`, 0)
				for _, p := range s.search(t, remembered).Products {
					if p.ID == scarf.ID {
						t.Errorf("remembered search still lists the archived scarf")
					}
				}
			})
		})
	}
}

// TestSearchCacheKeys checks that different inputs get their own answers
// and that inputs differing only in what search ignores share one.
func TestSearchCacheKeys(t *testing.T) {
	s := serveOn(t, sqldb.SQLite)
	for i, title := range []string{"Oak Stool", "Oak Bench", "Pine Shelf"} {
		s.create(t, product.ProductInput{Title: title, Vendor: "Elmwood", Variants: []product.VariantInput{variant(fmt.Sprintf("K-%d", i), int64(1000*(i+1)), 1)}})
	}
	s.eventually(t, `{}`, func(o product.SearchOutput) bool { return o.Pagination.TotalCount == 3 })
	// The vector ranker joins once the products are embedded: wait, so
	// both rounds see one ranking.
	if err := s.m.WaitSearchReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second round is answered from the cache
		cases := []struct {
			body string
			want string
		}{
			{`{"query":"oak stool"}`, "Oak Stool,Oak Bench"},
			{`{"query":"pine shelf"}`, "Pine Shelf"},
			{`{"query":"oak","sort":"price_desc"}`, "Oak Bench,Oak Stool"},
			{`{"query":"oak","sort":"price_asc"}`, "Oak Stool,Oak Bench"},
			{`{"query":"oak","sort":"price_asc","pagination":{"limit":1}}`, "Oak Stool"},
			{`{"query":"oak","sort":"price_asc","signals":{"session":"a"},"attribution":{"utm_source":"x"}}`, "Oak Stool,Oak Bench"},
			{`{"query":"oak","filters":{"price":{"min":1500}}}`, "Oak Bench"},
			{`{"sort":"price_asc","filters":{"price":{"max":2500}}}`, "Oak Stool,Oak Bench"},
		}
		for _, c := range cases {
			if got := strings.Join(titles(s.search(t, c.body)), ","); got != c.want {
				t.Errorf("%s: got %s, want %s", c.body, got, c.want)
			}
		}
		withIntent := s.search(t, `{"query":"oak under $15"}`)
		if got := strings.Join(titles(withIntent), ","); got != "Oak Stool" || len(withIntent.Messages) != 1 {
			t.Errorf("price intent: %s, messages %+v", got, withIntent.Messages)
		}
		if out := s.search(t, `{"query":"oak"}`); len(out.Messages) != 0 {
			t.Errorf("a query without a price phrase got another query's messages: %+v", out.Messages)
		}
	}
}

// TestSearchCacheSetting checks HYPERRR_PRODUCT_SEARCH_CACHE_SIZE: 0 turns
// the cache off (searches still answer), a malformed value stops start-up
// with the variable's name.
func TestSearchCacheSetting(t *testing.T) {
	t.Run("OKOff", func(t *testing.T) {
		env := openCatalog(t, sqldb.SQLite, nil, "HYPERRR_PRODUCT_SEARCH_CACHE_SIZE=0")
		if _, err := callJSON[product.SearchOutput](t, env.anonym, env, "search_catalog", `{"query":"anything"}`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		cfg := gateway.DefaultConfig()
		cfg.DataDir = t.TempDir()
		g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Modules: []mdk.Module{product.New()},
			Environ: []string{"HYPERRR_PRODUCT_SEARCH_CACHE_SIZE=lots"}, Logger: slog.New(slog.DiscardHandler)})
		if err == nil {
			g.Close()
			t.Fatal("a malformed cache size was accepted")
		}
		if !strings.Contains(err.Error(), "HYPERRR_PRODUCT_SEARCH_CACHE_SIZE") {
			t.Errorf("error does not name the setting: %v", err)
		}
	})
}

// find returns the product id in out's page, failing t without it.
func find(t *testing.T, out product.SearchOutput, id string) product.UCPProduct {
	t.Helper()
	for _, p := range out.Products {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("product %s not in %v", id, titles(out))
	return product.UCPProduct{}
}
