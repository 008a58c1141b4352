package product_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hyperrr/hyperrr/modules/product"
)

// ucpSpecs is the UCP specification checked out beside the repository
// (/work/shared next to /work/main; CI clones it the same way).
const ucpSpecs = "../../../shared/specs/ucp"

// ucpLoader serves https://ucp.dev/schemas/... from the local copy, so the
// schemas' own $ids and relative $refs resolve without a network.
type ucpLoader struct{ dir string }

func (l ucpLoader) Load(url string) (any, error) {
	const prefix = "https://ucp.dev/schemas/"
	if !strings.HasPrefix(url, prefix) {
		return nil, os.ErrNotExist
	}
	f, err := os.Open(filepath.Join(l.dir, "schemas", filepath.FromSlash(strings.TrimPrefix(url, prefix))))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// ucpSchemas compiles the result schemas of get_product (as the MCP
// binding declares it) and lookup_catalog.
func ucpSchemas(t *testing.T) (getProduct, lookup *jsonschema.Schema) {
	t.Helper()
	dir, err := filepath.Abs(ucpSpecs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "schemas", "ucp.json")); err != nil {
		t.Fatalf("the UCP specification must sit beside the repository at %s: %v", dir, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{"file": jsonschema.FileLoader{}, "https": ucpLoader{dir: dir}})
	openrpc := "file://" + filepath.ToSlash(filepath.Join(dir, "services", "shopping", "mcp.openrpc.json"))
	getProduct, err = c.Compile(openrpc + "#/components/schemas/catalog_get_product_result")
	if err != nil {
		t.Fatal(err)
	}
	lookup, err = c.Compile("https://ucp.dev/schemas/shopping/catalog_lookup.json#/$defs/lookup_response")
	if err != nil {
		t.Fatal(err)
	}
	return getProduct, lookup
}

// enveloped returns out as a UCP response: its JSON with the ucp envelope
// the MCP edge adds.
func enveloped(t *testing.T, out any) any {
	t.Helper()
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	raw = append([]byte(`{"ucp":{"version":"2026-04-08"},`), raw[1:]...)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

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
