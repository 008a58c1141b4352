package product_test

import (
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hyperrr/hyperrr/internal/ucptest"
	"github.com/hyperrr/hyperrr/modules/product"
)

// ucpSchemas compiles the result schemas of get_product (as the MCP
// binding declares it) and lookup_catalog.
func ucpSchemas(t *testing.T) (getProduct, lookup *jsonschema.Schema) {
	t.Helper()
	s := ucptest.Compile(t, "openrpc:#/components/schemas/catalog_get_product_result",
		"https://ucp.dev/schemas/shopping/catalog_lookup.json#/$defs/lookup_response")
	return s[0], s[1]
}

func enveloped(t *testing.T, out any) any { return ucptest.Enveloped(t, out) }

func TestUCPSchemas(t *testing.T) {
	getSchema, lookupSchema := ucpSchemas(t)
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		s := env.create(t, scarf("SCARF-1", 0))

		t.Run("OKGetProduct", func(t *testing.T) {
			for _, in := range []product.GetProductInput{
				{ID: p.ID},
				{ID: s.Handle},
				{ID: p.Variants[1].ID},
				{ID: p.ID, Selected: []product.UCPSelectedOption{{Name: "Size", Label: "Large"}}, Preferences: []string{"Size"},
					CatalogRequest: product.CatalogRequest{Filters: &product.CatalogFilters{Price: &product.PriceFilter{Min: ptr[int64](1)}}, Context: &product.CatalogContext{Currency: "EUR"}}},
			} {
				out, err := call[product.GetProductInput, product.GetProductOutput](env.anonym, env, "get_product", in)
				if err != nil {
					t.Fatal(err)
				}
				if err := getSchema.Validate(enveloped(t, out)); err != nil {
					t.Errorf("get_product %+v does not validate: %v", in, err)
				}
			}
		})
		t.Run("OKLookupCatalog", func(t *testing.T) {
			out, err := call[product.LookupInput, product.LookupOutput](env.anonym, env, "lookup_catalog",
				product.LookupInput{IDs: []string{p.ID, p.Variants[3].ID, "SCARF-1", s.Handle, "nope"}})
			if err != nil || len(out.Products) != 2 || len(out.Messages) != 1 {
				t.Fatalf("got %+v err=%v", out, err)
			}
			if err := lookupSchema.Validate(enveloped(t, out)); err != nil {
				t.Errorf("lookup_catalog does not validate: %v", err)
			}
			// The schema is not vacuous: a variant without inputs fails.
			out.Products[0].Variants[0].Inputs = nil
			if err := lookupSchema.Validate(enveloped(t, out)); err == nil {
				t.Error("a lookup variant without inputs validated")
			}
		})
		t.Run("ErrBrokenProductFails", func(t *testing.T) {
			out, err := call[product.GetProductInput, product.GetProductOutput](env.anonym, env, "get_product", product.GetProductInput{ID: p.ID})
			if err != nil {
				t.Fatal(err)
			}
			out.Product.Variants = []product.UCPVariant{}
			if err := getSchema.Validate(enveloped(t, out)); err == nil {
				t.Error("a product without variants validated")
			}
		})
	})
}
