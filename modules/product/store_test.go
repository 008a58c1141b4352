package product_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestCreateProduct(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		t.Run("OK", func(t *testing.T) {
			p := env.create(t, table())
			if !strings.HasPrefix(p.ID, "prod_") || p.Handle != "oak-coffee-table" || p.Status != product.StatusActive || len(p.Variants) != 4 {
				t.Fatalf("got %+v", p)
			}
			v := variantBySKU(t, p, "OAK-L-N")
			if !strings.HasPrefix(v.ID, "var_") || v.Title != "Large / Natural" || v.Price != (product.Money{Amount: 29900, Currency: "USD"}) ||
				v.CompareAtPrice == nil || v.CompareAtPrice.Amount != 34900 || v.Inventory != (product.Inventory{OnHand: 8, Available: 8}) {
				t.Fatalf("variant %+v", v)
			}
			got, err := call[product.IDInput, product.Product](env.merchant, env, "get_product_admin", product.IDInput{ID: p.Handle})
			if err != nil || got.ID != p.ID || len(got.Variants) != 4 || got.Variants[2].SKU != "OAK-L-N" || got.Attributes["material"] != "oak" || got.Category != p.Category {
				t.Fatalf("read back %+v err=%v", got, err)
			}
			evs := env.events(t)
			var data product.ProductEvent
			if len(evs) != 1 || evs[0].Type != product.EventProductCreated || evs[0].Subject != p.ID || json.Unmarshal(evs[0].Data, &data) != nil || data.Handle != p.Handle {
				t.Fatalf("events %+v", evs)
			}
		})
		t.Run("OKDefaultVariantAndDerivedHandles", func(t *testing.T) {
			for i, want := range []string{"red-wool-scarf", "red-wool-scarf-2", "red-wool-scarf-3"} {
				p := env.create(t, scarf("SCARF-"+want, 1))
				if p.Handle != want || len(p.Variants) != 1 || p.Variants[0].Title != "Default" {
					t.Fatalf("create %d: handle %q variants %+v", i, p.Handle, p.Variants)
				}
			}
			in := scarf("CAFE-1", 1)
			in.Title = "  Café Crème — Édition Spéciale!  "
			if p := env.create(t, in); p.Handle != "cafe-creme-edition-speciale" || p.Title != "Café Crème — Édition Spéciale!" {
				t.Fatalf("handle %q title %q", p.Handle, p.Title)
			}
		})
		t.Run("OKConcurrentSameTitle", func(t *testing.T) {
			const n = 4
			handles := make(chan string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := scarf(fmt.Sprint("SAME-", i), 1)
					in.Title = "Same Title"
					p, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
					if err != nil {
						t.Errorf("create %d: %v", i, err)
					}
					handles <- p.Handle
				}()
			}
			wg.Wait()
			close(handles)
			seen := map[string]bool{}
			for h := range handles {
				seen[h] = true
			}
			if len(seen) != n || !seen["same-title"] || !seen[fmt.Sprint("same-title-", n)] {
				t.Fatalf("handles %v", seen)
			}
		})
		t.Run("ErrHandleTaken", func(t *testing.T) {
			in := scarf("SCARF-X", 1)
			in.Handle = "red-wool-scarf"
			_, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
			wantErr(t, err, mdk.CodeConflict, "handle")
		})
		t.Run("ErrSKUTaken", func(t *testing.T) {
			in := table()
			in.Title = "Walnut Table"
			for i := range in.Variants {
				in.Variants[i].SKU = "WAL-" + in.Variants[i].SKU
			}
			in.Variants[3].SKU = "OAK-L-D"
			_, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
			e := wantErr(t, err, mdk.CodeConflict, "variants[3].sku")
			if !strings.Contains(e.Message, "OAK-L-D") {
				t.Fatalf("message %q", e.Message)
			}
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			in := table()
			in.Variants[2].Price = -1
			in.Variants[1].SKU = in.Variants[0].SKU
			in.Variants[0].Options = map[string]string{"Size": "Huge", "Finish": "Natural"}
			in.Media = []string{"not a url"}
			in.Handle = "Bad Handle"
			before := len(env.events(t))
			_, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
			wantErr(t, err, mdk.CodeInvalid, "variants[2].price")
			wantErr(t, err, mdk.CodeConflict, "variants[1].sku")
			wantErr(t, err, mdk.CodeInvalid, "variants[0].options.Size")
			wantErr(t, err, mdk.CodeInvalid, "media[0]")
			wantErr(t, err, mdk.CodeInvalid, "handle")
			if n := len(env.events(t)); n != before {
				t.Fatalf("a rejected create emitted %d events", n-before)
			}
		})
		t.Run("ErrOptionCombinations", func(t *testing.T) {
			in := table()
			in.Variants[1].Options = map[string]string{"Size": "Small", "Finish": "Natural"}
			delete(in.Variants[2].Options, "Finish")
			in.Variants[3].Options["Color"] = "Red"
			_, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
			wantErr(t, err, mdk.CodeConflict, "variants[1].options")
			wantErr(t, err, mdk.CodeInvalid, "variants[2].options.Finish")
			wantErr(t, err, mdk.CodeInvalid, "variants[3].options.Color")
		})
		t.Run("ErrNoOptionsManyVariants", func(t *testing.T) {
			in := scarf("S-1", 1)
			in.Variants = append(in.Variants, product.VariantInput{SKU: "S-2", Price: 1})
			_, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
			wantErr(t, err, mdk.CodeInvalid, "variants")
		})
		t.Run("ErrSchema", func(t *testing.T) {
			_, err := callJSON[product.Product](t, env.merchant, env, "create_product", `{"title":"X","variants":[{"sku":"A","price":"12"}]}`)
			wantErr(t, err, mdk.CodeInvalid, "variants[0].price")
		})
	})
}

func TestUpdateProduct(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		other := env.create(t, scarf("SCARF-1", 1))
		update := func(in product.UpdateProductInput) (product.Product, error) {
			return call[product.UpdateProductInput, product.Product](env.merchant, env, "update_product", in)
		}
		t.Run("OK", func(t *testing.T) {
			n := len(env.events(t))
			got, err := update(product.UpdateProductInput{ID: p.ID, Title: ptr("Oak Table"), Tags: &[]string{"sale", " oak "}, Category: ptr("Furniture/Tables")})
			if err != nil || got.Title != "Oak Table" || got.Handle != p.Handle || got.Description != p.Description ||
				strings.Join(got.Tags, ",") != "sale,oak" || got.Category != "Furniture / Tables" || !got.UpdatedAt.After(p.UpdatedAt.Add(-1)) {
				t.Fatalf("got %+v err=%v", got, err)
			}
			if evs := env.eventsSince(t, n); len(evs) != 1 || evs[0].Type != product.EventProductUpdated {
				t.Fatalf("events %+v", evs)
			}
		})
		t.Run("OKNoChangeNoEvent", func(t *testing.T) {
			n := len(env.events(t))
			if _, err := update(product.UpdateProductInput{ID: p.ID, Title: ptr("Oak Table")}); err != nil {
				t.Fatal(err)
			}
			if evs := env.eventsSince(t, n); len(evs) != 0 {
				t.Fatalf("a no-op update emitted %+v", evs)
			}
		})
		t.Run("OKOptionValuesReordered", func(t *testing.T) {
			got, err := update(product.UpdateProductInput{ID: p.ID, Options: &[]product.Option{
				{Name: "Finish", Values: []string{"Dark", "Natural", "White"}},
				{Name: "Size", Values: []string{"Small", "Large"}},
			}})
			if err != nil || variantBySKU(t, got, "OAK-L-N").Title != "Natural / Large" {
				t.Fatalf("got %+v err=%v", got, err)
			}
			again, err := call[product.IDInput, product.Product](env.merchant, env, "get_product_admin", product.IDInput{ID: p.ID})
			if err != nil || variantBySKU(t, again, "OAK-L-N").Title != "Natural / Large" {
				t.Fatalf("stored titles %+v err=%v", again.Variants, err)
			}
		})
		t.Run("ErrOptionValueInUse", func(t *testing.T) {
			_, err := update(product.UpdateProductInput{ID: p.ID, Options: &[]product.Option{
				{Name: "Finish", Values: []string{"Natural"}}, {Name: "Size", Values: []string{"Small", "Large"}},
			}})
			wantErr(t, err, mdk.CodeInvalid, "options[0].values")
		})
		t.Run("ErrOptionRenamed", func(t *testing.T) {
			_, err := update(product.UpdateProductInput{ID: p.ID, Options: &[]product.Option{
				{Name: "Color", Values: []string{"Dark", "Natural"}}, {Name: "Size", Values: []string{"Small", "Large"}},
			}})
			wantErr(t, err, mdk.CodeInvalid, "options")
		})
		t.Run("ErrHandleTaken", func(t *testing.T) {
			_, err := update(product.UpdateProductInput{ID: other.ID, Handle: ptr(p.Handle)})
			wantErr(t, err, mdk.CodeConflict, "handle")
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			_, err := update(product.UpdateProductInput{ID: p.ID, Title: ptr("  "), Status: ptr(product.Status("gone"))})
			wantErr(t, err, mdk.CodeInvalid, "title")
			wantErr(t, err, mdk.CodeInvalid, "status")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := update(product.UpdateProductInput{ID: "prod_nope", Title: ptr("X")})
			wantErr(t, err, mdk.CodeNotFound, "id")
		})
	})
}

func TestArchiveProduct(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		n := len(env.events(t))
		archived, err := call[product.IDInput, product.Product](env.merchant, env, "archive_product", product.IDInput{ID: p.ID})
		if err != nil || archived.Status != product.StatusArchived {
			t.Fatalf("archive: %+v err=%v", archived.Status, err)
		}
		if evs := env.eventsSince(t, n); len(evs) != 1 || evs[0].Type != product.EventProductArchived {
			t.Fatalf("events %+v", evs)
		}
		t.Run("OKIdempotent", func(t *testing.T) {
			n := len(env.events(t))
			if _, err := call[product.IDInput, product.Product](env.merchant, env, "archive_product", product.IDInput{ID: p.ID}); err != nil {
				t.Fatal(err)
			}
			if evs := env.eventsSince(t, n); len(evs) != 0 {
				t.Fatalf("archiving twice emitted %+v", evs)
			}
		})
		t.Run("ErrHiddenFromShoppers", func(t *testing.T) {
			for name, c := range map[string]context.Context{"anonymous": env.anonym, "shopper": env.shopper} {
				_, err := call[product.GetProductInput, product.GetProductOutput](c, env, "get_product", product.GetProductInput{ID: p.ID})
				wantErr(t, err, mdk.CodeNotFound, "id")
				out, err := call[product.LookupInput, product.LookupOutput](c, env, "lookup_catalog", product.LookupInput{IDs: []string{p.ID, p.Variants[0].SKU}})
				if err != nil || len(out.Products) != 0 || len(out.Messages) != 2 {
					t.Fatalf("%s lookup of archived: %+v err=%v", name, out, err)
				}
			}
			// The merchant still sees it, marked discontinued.
			out, err := call[product.GetProductInput, product.GetProductOutput](env.merchant, env, "get_product", product.GetProductInput{ID: p.ID})
			if err != nil || out.Product.Variants[0].Availability.Status != "discontinued" || out.Product.Variants[0].Availability.Available {
				t.Fatalf("merchant view %+v err=%v", out.Product.Variants, err)
			}
		})
		t.Run("OKRestore", func(t *testing.T) {
			got, err := call[product.UpdateProductInput, product.Product](env.merchant, env, "update_product", product.UpdateProductInput{ID: p.ID, Status: ptr(product.StatusActive)})
			if err != nil || got.Status != product.StatusActive {
				t.Fatalf("restore %v err=%v", got.Status, err)
			}
			if _, err := call[product.GetProductInput, product.GetProductOutput](env.anonym, env, "get_product", product.GetProductInput{ID: p.ID}); err != nil {
				t.Fatalf("restored product hidden: %v", err)
			}
		})
	})
}
