package product_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

func inputsOf(v product.UCPVariant) string {
	var parts []string
	for _, in := range v.Inputs {
		parts = append(parts, in.ID+"="+in.Match)
	}
	return strings.Join(parts, ",")
}

func TestLookupCatalog(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		s := env.create(t, scarf("SCARF-1", 0))
		draftIn := scarf("DRAFT-1", 1)
		draftIn.Title, draftIn.Status = "Secret Scarf", product.StatusDraft
		draft := env.create(t, draftIn)
		large := variantBySKU(t, p, "OAK-L-D")
		lookup := func(ctx context.Context, in product.LookupInput) (product.LookupOutput, error) {
			return call[product.LookupInput, product.LookupOutput](ctx, env, "lookup_catalog", in)
		}
		t.Run("OK", func(t *testing.T) {
			out, err := lookup(env.anonym, product.LookupInput{IDs: []string{p.ID, large.ID, "SCARF-1", p.Handle, "nope", draft.ID, p.ID, " " + s.Handle + " "}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Products) != 2 || out.Products[0].ID != p.ID || out.Products[1].ID != s.ID {
				t.Fatalf("products %+v", out.Products)
			}
			tv := out.Products[0].Variants
			// The featured variant is the first that can be bought now.
			if len(tv) != 2 || tv[0].SKU != "OAK-S-N" || inputsOf(tv[0]) != p.ID+"=featured,oak-coffee-table=featured" ||
				tv[1].ID != large.ID || inputsOf(tv[1]) != large.ID+"=exact" {
				t.Fatalf("table variants %+v", tv)
			}
			sv := out.Products[1].Variants
			if len(sv) != 1 || inputsOf(sv[0]) != "SCARF-1=exact,red-wool-scarf=featured" || sv[0].Availability.Available || sv[0].Availability.Status != "out_of_stock" {
				t.Fatalf("scarf variants %+v", sv)
			}
			var missing []string
			for _, m := range out.Messages {
				if m.Type != "info" || m.Code != "not_found" {
					t.Fatalf("message %+v", m)
				}
				missing = append(missing, m.Content)
			}
			if len(missing) != 2 || !strings.Contains(missing[0], `"nope"`) || !strings.Contains(missing[1], draft.ID) {
				t.Fatalf("messages %v", missing)
			}
		})
		t.Run("OKMerchantSeesDrafts", func(t *testing.T) {
			out, err := lookup(env.merchant, product.LookupInput{IDs: []string{draft.ID}})
			if err != nil || len(out.Products) != 1 || len(out.Messages) != 0 || out.Products[0].Variants[0].Availability.Available {
				t.Fatalf("got %+v err=%v", out, err)
			}
		})
		t.Run("OKFilters", func(t *testing.T) {
			out, err := lookup(env.anonym, product.LookupInput{IDs: []string{p.ID, s.ID}, CatalogRequest: product.CatalogRequest{
				Filters: &product.CatalogFilters{Categories: []string{"furniture / living room"}, Price: &product.PriceFilter{Min: ptr[int64](25000)}},
			}})
			if err != nil || len(out.Products) != 1 || out.Products[0].Variants[0].SKU != "OAK-L-N" {
				t.Fatalf("filtered %+v err=%v", out, err)
			}
			out, err = lookup(env.anonym, product.LookupInput{IDs: []string{p.ID}, CatalogRequest: product.CatalogRequest{
				Filters: &product.CatalogFilters{Price: &product.PriceFilter{Max: ptr[int64](1)}},
				Context: &product.CatalogContext{Currency: "EUR"},
			}})
			if err != nil || len(out.Products) != 1 || len(out.Messages) != 1 || out.Messages[0].Code != "filter_ignored" {
				t.Fatalf("price filter in another currency %+v err=%v", out, err)
			}
		})
		t.Run("ErrTooMany", func(t *testing.T) {
			ids := make([]string, 51)
			for i := range ids {
				ids[i] = fmt.Sprint("id-", i)
			}
			_, err := lookup(env.anonym, product.LookupInput{IDs: ids})
			wantErr(t, err, mdk.CodeInvalid, "ids")
			_, err = callJSON[product.LookupOutput](t, env.anonym, env, "lookup_catalog", `{"ids":["a"],"filters":{"price":{"min":5,"max":1}}}`)
			wantErr(t, err, mdk.CodeInvalid, "filters.price")
		})
	})
}

func TestGetProduct(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		get := func(in product.GetProductInput) (product.GetProductOutput, error) {
			return call[product.GetProductInput, product.GetProductOutput](env.anonym, env, "get_product", in)
		}
		t.Run("OK", func(t *testing.T) {
			out, err := get(product.GetProductInput{ID: p.Handle})
			if err != nil {
				t.Fatal(err)
			}
			up := out.Product
			if up.ID != p.ID || len(up.Variants) != 4 || up.Variants[0].SKU != "OAK-S-N" || up.PriceRange.Min.Amount != 19900 || up.PriceRange.Max.Amount != 30900 ||
				up.ListPriceRange == nil || up.ListPriceRange.Max.Amount != 34900 || up.Categories[0].Value != "Furniture / Living Room / Coffee Tables" ||
				up.Metadata.Vendor != "Nordwood" || up.Media[0].Type != "image" || selText(up.Selected) != "Size:Small Finish:Natural" {
				t.Fatalf("product %+v", up)
			}
			// Relative to Small / Natural: Dark exists in Small but has no stock.
			if got := optionSignals(up); got != "Size:Small=exists,available Size:Large=exists,available Finish:Natural=exists,available Finish:Dark=exists" {
				t.Fatalf("signals %s", got)
			}
		})
		t.Run("OKByVariant", func(t *testing.T) {
			v := variantBySKU(t, p, "OAK-L-D")
			for _, id := range []string{v.ID, "OAK-L-D"} {
				out, err := get(product.GetProductInput{ID: id})
				if err != nil || out.Product.Variants[0].ID != v.ID || selText(out.Product.Selected) != "Size:Large Finish:Dark" {
					t.Fatalf("by %s: %+v err=%v", id, out.Product.Variants, err)
				}
			}
		})
		t.Run("OKSelected", func(t *testing.T) {
			out, err := get(product.GetProductInput{ID: p.ID, Selected: []product.UCPSelectedOption{{Name: "Finish", Label: "Dark"}}})
			if err != nil || len(out.Product.Variants) != 2 || out.Product.Variants[0].SKU != "OAK-L-D" || out.Product.Variants[1].SKU != "OAK-S-D" {
				t.Fatalf("dark variants %+v err=%v", out.Product.Variants, err)
			}
			if got := optionSignals(out.Product); got != "Size:Small=exists Size:Large=exists,available Finish:Natural=exists,available Finish:Dark=exists,available" {
				t.Fatalf("signals %s", got)
			}
		})
		t.Run("OKRelaxed", func(t *testing.T) {
			if _, err := call[product.IDInput, product.Product](env.merchant, env, "remove_variant", product.IDInput{ID: variantBySKU(t, p, "OAK-L-D").ID}); err != nil {
				t.Fatal(err)
			}
			sel := []product.UCPSelectedOption{{Name: "Size", Label: "Large"}, {Name: "Finish", Label: "Dark"}}
			out, err := get(product.GetProductInput{ID: p.ID, Selected: sel, Preferences: []string{"Finish", "Size"}})
			if err != nil || out.Product.Variants[0].SKU != "OAK-S-D" || len(out.Messages) != 1 || out.Messages[0].Code != "selection_relaxed" {
				t.Fatalf("keep Finish: %+v %+v err=%v", out.Product.Variants, out.Messages, err)
			}
			out, err = get(product.GetProductInput{ID: p.ID, Selected: sel, Preferences: []string{"Size"}})
			if err != nil || out.Product.Variants[0].SKU != "OAK-L-N" || !strings.Contains(out.Messages[0].Content, "Finish: Dark") {
				t.Fatalf("keep Size: %+v %+v err=%v", out.Product.Variants, out.Messages, err)
			}
		})
		t.Run("ErrSelection", func(t *testing.T) {
			_, err := get(product.GetProductInput{ID: p.ID, Selected: []product.UCPSelectedOption{{Name: "Color", Label: "Red"}}})
			wantErr(t, err, mdk.CodeInvalid, "selected[0].name")
			_, err = get(product.GetProductInput{ID: p.ID, Selected: []product.UCPSelectedOption{{Name: "Size", Label: "Huge"}}})
			wantErr(t, err, mdk.CodeInvalid, "selected[0].label")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := get(product.GetProductInput{ID: "no-such-thing"})
			wantErr(t, err, mdk.CodeNotFound, "id")
			_, err = get(product.GetProductInput{ID: p.ID, CatalogRequest: product.CatalogRequest{Filters: &product.CatalogFilters{Price: &product.PriceFilter{Max: ptr[int64](100)}}}})
			wantErr(t, err, mdk.CodeNotFound, "filters")
		})
	})
}

// optionSignals renders each option value's exists/available flags.
func optionSignals(p product.UCPProduct) string {
	var parts []string
	for _, o := range p.Options {
		for _, v := range o.Values {
			var flags []string
			if v.Exists != nil && *v.Exists {
				flags = append(flags, "exists")
			}
			if v.Available != nil && *v.Available {
				flags = append(flags, "available")
			}
			parts = append(parts, o.Name+":"+v.Label+"="+strings.Join(flags, ","))
		}
	}
	return strings.Join(parts, " ")
}

func selText(sel []product.UCPSelectedOption) string {
	parts := make([]string, len(sel))
	for i, s := range sel {
		parts[i] = s.Name + ":" + s.Label
	}
	return strings.Join(parts, " ")
}
