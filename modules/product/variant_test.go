package product_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestVariants(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		single := env.create(t, scarf("SCARF-1", 2))
		add := func(in product.AddVariantInput) (product.Variant, error) {
			return call[product.AddVariantInput, product.Variant](env.merchant, env, "add_variant", in)
		}
		updateV := func(in product.UpdateVariantInput) (product.Variant, error) {
			return call[product.UpdateVariantInput, product.Variant](env.merchant, env, "update_variant", in)
		}
		remove := func(id string) (product.Product, error) {
			return call[product.IDInput, product.Product](env.merchant, env, "remove_variant", product.IDInput{ID: id})
		}
		var added product.Variant
		t.Run("OKAdd", func(t *testing.T) {
			_, err := call[product.UpdateProductInput, product.Product](env.merchant, env, "update_product", product.UpdateProductInput{ID: p.ID,
				Options: &[]product.Option{{Name: "Size", Values: []string{"Small", "Large", "XL"}}, {Name: "Finish", Values: []string{"Natural", "Dark"}}}})
			if err != nil {
				t.Fatal(err)
			}
			n := len(env.events(t))
			added, err = add(product.AddVariantInput{ProductID: p.ID, VariantInput: product.VariantInput{
				SKU: "OAK-XL-N", Options: map[string]string{"Size": "XL", "Finish": "Natural"}, Price: 39900, Stock: ptr[int64](2)}})
			if err != nil || added.Title != "XL / Natural" || added.ProductID != p.ID || added.Inventory.Available != 2 {
				t.Fatalf("added %+v err=%v", added, err)
			}
			if evs := env.eventsSince(t, n); len(evs) != 1 || evs[0].Type != product.EventProductUpdated || evs[0].Subject != p.ID {
				t.Fatalf("events %+v", evs)
			}
			got, err := call[product.IDInput, product.Product](env.merchant, env, "get_product_admin", product.IDInput{ID: added.ID})
			if err != nil || len(got.Variants) != 5 || got.Variants[4].ID != added.ID {
				t.Fatalf("variants after add %+v err=%v", got.Variants, err)
			}
		})
		t.Run("ErrAddDuplicateCombination", func(t *testing.T) {
			_, err := add(product.AddVariantInput{ProductID: p.ID, VariantInput: product.VariantInput{
				SKU: "OAK-NEW", Options: map[string]string{"Size": "Small", "Finish": "Dark"}, Price: 1}})
			wantErr(t, err, mdk.CodeConflict, "options")
		})
		t.Run("ErrAddUnknownValue", func(t *testing.T) {
			_, err := add(product.AddVariantInput{ProductID: p.ID, VariantInput: product.VariantInput{
				SKU: "OAK-NEW", Options: map[string]string{"Size": "Tiny", "Finish": "Dark"}, Price: -5}})
			wantErr(t, err, mdk.CodeInvalid, "price")
			_, err = add(product.AddVariantInput{ProductID: p.ID, VariantInput: product.VariantInput{
				SKU: "OAK-NEW", Options: map[string]string{"Size": "Tiny", "Finish": "Dark"}, Price: 5}})
			wantErr(t, err, mdk.CodeInvalid, "options.Size")
		})
		t.Run("ErrAddSKUTaken", func(t *testing.T) {
			_, err := add(product.AddVariantInput{ProductID: p.ID, VariantInput: product.VariantInput{
				SKU: "SCARF-1", Options: map[string]string{"Size": "XL", "Finish": "Dark"}, Price: 1}})
			wantErr(t, err, mdk.CodeConflict, "sku")
		})
		t.Run("ErrAddToProductWithoutOptions", func(t *testing.T) {
			_, err := add(product.AddVariantInput{ProductID: single.ID, VariantInput: product.VariantInput{SKU: "SCARF-2", Price: 1}})
			wantErr(t, err, mdk.CodeInvalid, "options")
		})
		t.Run("OKUpdate", func(t *testing.T) {
			v, err := updateV(product.UpdateVariantInput{ID: added.ID, Price: ptr[int64](35900), CompareAtPrice: ptr[int64](39900), SKU: ptr(" OAK-XL-NAT ")})
			if err != nil || v.Price.Amount != 35900 || v.CompareAtPrice == nil || v.CompareAtPrice.Amount != 39900 || v.SKU != "OAK-XL-NAT" || v.Inventory.OnHand != 2 {
				t.Fatalf("updated %+v err=%v", v, err)
			}
			v, err = updateV(product.UpdateVariantInput{ID: added.ID, CompareAtPrice: ptr[int64](0), Options: &map[string]string{"Size": "XL", "Finish": "Dark"}})
			if err != nil || v.CompareAtPrice != nil || v.Title != "XL / Dark" {
				t.Fatalf("cleared compare-at / moved options: %+v err=%v", v, err)
			}
		})
		t.Run("ErrUpdate", func(t *testing.T) {
			_, err := updateV(product.UpdateVariantInput{ID: added.ID, SKU: ptr("OAK-S-N")})
			wantErr(t, err, mdk.CodeConflict, "sku")
			_, err = updateV(product.UpdateVariantInput{ID: added.ID, Options: &map[string]string{"Size": "Small", "Finish": "Natural"}})
			wantErr(t, err, mdk.CodeConflict, "options")
			_, err = updateV(product.UpdateVariantInput{ID: "var_nope", Price: ptr[int64](1)})
			wantErr(t, err, mdk.CodeNotFound, "id")
		})
		t.Run("OKRemove", func(t *testing.T) {
			got, err := remove(added.ID)
			if err != nil || len(got.Variants) != 4 {
				t.Fatalf("after remove %d variants err=%v", len(got.Variants), err)
			}
			_, err = remove(added.ID)
			wantErr(t, err, mdk.CodeNotFound, "id")
		})
		t.Run("ErrRemoveLastVariant", func(t *testing.T) {
			_, err := remove(single.Variants[0].ID)
			wantErr(t, err, mdk.CodeConflict, "id")
		})
		t.Run("ErrRemoveReserved", func(t *testing.T) {
			v := variantBySKU(t, p, "OAK-L-N")
			if _, err := env.m.Reserve(context.Background(), product.ReserveInput{Lines: []product.ReserveLine{{VariantID: v.ID, Quantity: 1}}}); err != nil {
				t.Fatal(err)
			}
			_, err := remove(v.ID)
			wantErr(t, err, mdk.CodeConflict, "id")
		})
	})
}

func TestSetStock(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, scarf("SCARF-1", 5))
		v := p.Variants[0]
		set := func(in product.SetStockInput) (product.Variant, error) {
			return call[product.SetStockInput, product.Variant](env.merchant, env, "set_stock", in)
		}
		t.Run("OK", func(t *testing.T) {
			n := len(env.events(t))
			got, err := set(product.SetStockInput{SKU: "SCARF-1", OnHand: 40})
			if err != nil || got.Inventory != (product.Inventory{OnHand: 40, Available: 40}) {
				t.Fatalf("got %+v err=%v", got.Inventory, err)
			}
			evs := env.eventsSince(t, n)
			var data product.InventoryEvent
			if len(evs) != 1 || evs[0].Type != product.EventInventoryChanged || evs[0].Subject != v.ID || json.Unmarshal(evs[0].Data, &data) != nil ||
				data != (product.InventoryEvent{ProductID: p.ID, VariantID: v.ID, SKU: "SCARF-1", OnHand: 40, Available: 40}) {
				t.Fatalf("events %+v", evs)
			}
			if _, err := set(product.SetStockInput{VariantID: v.ID, OnHand: 40}); err != nil {
				t.Fatal(err)
			}
			if evs := env.eventsSince(t, n); len(evs) != 1 {
				t.Fatalf("setting the same stock again emitted %d more events", len(evs)-1)
			}
		})
		t.Run("ErrBelowReserved", func(t *testing.T) {
			if _, err := env.m.Reserve(context.Background(), product.ReserveInput{Lines: []product.ReserveLine{{VariantID: v.ID, Quantity: 30}}}); err != nil {
				t.Fatal(err)
			}
			_, err := set(product.SetStockInput{VariantID: v.ID, OnHand: 29})
			e := wantErr(t, err, mdk.CodeConflict, "on_hand")
			if e.Message == "" {
				t.Fatal("no message")
			}
			got, err := set(product.SetStockInput{VariantID: v.ID, OnHand: 30})
			if err != nil || got.Inventory != (product.Inventory{OnHand: 30, Reserved: 30, Available: 0}) {
				t.Fatalf("got %+v err=%v", got.Inventory, err)
			}
		})
		t.Run("ErrInput", func(t *testing.T) {
			_, err := set(product.SetStockInput{OnHand: 1})
			wantErr(t, err, mdk.CodeInvalid, "variant_id")
			_, err = set(product.SetStockInput{SKU: "NOPE", OnHand: 1})
			wantErr(t, err, mdk.CodeNotFound, "sku")
			_, err = set(product.SetStockInput{VariantID: v.ID, OnHand: -1})
			wantErr(t, err, mdk.CodeInvalid, "on_hand")
		})
	})
}

func TestListLowStock(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		// 12 single-variant products with 0..11 units; one archived, one
		// draft: those two never show.
		for i := range 12 {
			in := scarf(fmt.Sprintf("LOW-%02d", i), int64(i))
			in.Title = fmt.Sprintf("Scarf %d", i)
			switch i {
			case 2:
				in.Status = product.StatusArchived
			case 3:
				in.Status = product.StatusDraft
			}
			env.create(t, in)
		}
		list := func(in product.LowStockInput) (product.LowStockOutput, error) {
			return call[product.LowStockInput, product.LowStockOutput](env.merchant, env, "list_low_stock", in)
		}
		t.Run("OKPaginated", func(t *testing.T) {
			var skus []string
			var avail []int64
			in := product.LowStockInput{Limit: 2}
			pages := 0
			for {
				out, err := list(in)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, v := range out.Variants {
					skus = append(skus, v.SKU)
					avail = append(avail, v.Available)
				}
				if out.NextCursor == "" {
					break
				}
				in.Cursor = out.NextCursor
			}
			// Default threshold 5: 0, 1, 4, 5 (2 archived, 3 draft).
			if fmt.Sprint(skus) != "[LOW-00 LOW-01 LOW-04 LOW-05]" || fmt.Sprint(avail) != "[0 1 4 5]" || pages != 2 {
				t.Fatalf("skus %v avail %v pages %d", skus, avail, pages)
			}
		})
		t.Run("OKAfterItemCursor", func(t *testing.T) {
			// Threshold 8: available 0 1 4 5 6 7 8; resume after the 3rd.
			all, err := list(product.LowStockInput{Threshold: ptr[int64](8)})
			if err != nil || len(all.Variants) != 7 {
				t.Fatalf("got %d err=%v", len(all.Variants), err)
			}
			out, err := list(product.LowStockInput{Threshold: ptr[int64](8), Limit: 2, Cursor: all.Variants[2].Cursor})
			if err != nil || len(out.Variants) != 2 || out.Variants[0].SKU != "LOW-05" || out.Variants[1].SKU != "LOW-06" ||
				out.NextCursor != out.Variants[1].Cursor {
				t.Fatalf("after %s: %+v err=%v", all.Variants[2].SKU, out, err)
			}
		})
		t.Run("OKThreshold", func(t *testing.T) {
			out, err := list(product.LowStockInput{Threshold: ptr[int64](8)})
			if err != nil || len(out.Variants) != 7 || out.NextCursor != "" {
				t.Fatalf("got %d err=%v", len(out.Variants), err)
			}
		})
		t.Run("ErrCursor", func(t *testing.T) {
			_, err := list(product.LowStockInput{Cursor: "garbage!"})
			wantErr(t, err, mdk.CodeInvalid, "cursor")
		})
		t.Run("OKListProducts", func(t *testing.T) {
			out, err := call[product.ListProductsInput, product.ListProductsOutput](env.merchant, env, "list_products", product.ListProductsInput{Status: product.StatusDraft})
			if err != nil || len(out.Products) != 1 || out.Products[0].Title != "Scarf 3" {
				t.Fatalf("drafts %+v err=%v", out.Products, err)
			}
			var titles []string
			in := product.ListProductsInput{Limit: 5}
			for {
				out, err := call[product.ListProductsInput, product.ListProductsOutput](env.merchant, env, "list_products", in)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range out.Products {
					titles = append(titles, p.Title)
				}
				if out.NextCursor == "" {
					break
				}
				in.Cursor = out.NextCursor
			}
			if len(titles) != 12 || titles[0] != "Scarf 11" || titles[11] != "Scarf 0" {
				t.Fatalf("titles %v", titles)
			}
			first, err := call[product.ListProductsInput, product.ListProductsOutput](env.merchant, env, "list_products", product.ListProductsInput{Limit: 5})
			if err != nil || len(first.Products) != 5 {
				t.Fatalf("first page %+v err=%v", first, err)
			}
			// Resume after the 2nd product (Scarf 10): Scarf 9, 8, 7.
			mid, err := call[product.ListProductsInput, product.ListProductsOutput](env.merchant, env, "list_products", product.ListProductsInput{Limit: 3, Cursor: first.Products[1].Cursor})
			if err != nil || len(mid.Products) != 3 || mid.Products[0].Title != "Scarf 9" || mid.Products[2].Title != "Scarf 7" ||
				mid.NextCursor != mid.Products[2].Cursor {
				t.Fatalf("after %s: %+v err=%v", first.Products[1].Title, mid, err)
			}
			low, err := list(product.LowStockInput{})
			if err != nil || len(low.Variants) == 0 {
				t.Fatalf("low stock %+v err=%v", low, err)
			}
			_, err = call[product.ListProductsInput, product.ListProductsOutput](env.merchant, env, "list_products", product.ListProductsInput{Cursor: low.Variants[0].Cursor})
			wantErr(t, err, mdk.CodeInvalid, "cursor")
		})
	})
}
