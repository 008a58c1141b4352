package product_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

func importContent(t *testing.T, env *catalogEnv, format, content string) product.ImportResult {
	t.Helper()
	res, err := call[product.ImportProductsInput, product.ImportResult](env.merchant, env, "import_products",
		product.ImportProductsInput{Format: format, Content: content})
	if err != nil {
		t.Fatalf("import_products: %v", err)
	}
	return res
}

func wantCounts(t *testing.T, res product.ImportResult, created, updated, unchanged, failed int) {
	t.Helper()
	if res.Created != created || res.Updated != updated || res.Unchanged != unchanged || res.Failed != failed {
		t.Fatalf("created/updated/unchanged/failed = %d/%d/%d/%d, want %d/%d/%d/%d; errors %v",
			res.Created, res.Updated, res.Unchanged, res.Failed, created, updated, unchanged, failed, res.Errors)
	}
}

func errorLines(res product.ImportResult) []string {
	out := make([]string, len(res.Errors))
	for i, e := range res.Errors {
		out[i] = e.Error()
	}
	return out
}

func (env *catalogEnv) product(t *testing.T, idOrHandle string) product.Product {
	t.Helper()
	p, err := call[product.IDInput, product.Product](env.merchant, env, "get_product_admin", product.IDInput{ID: idOrHandle})
	if err != nil {
		t.Fatalf("get %s: %v", idOrHandle, err)
	}
	return p
}

// mixedJSONL has good rows and one of each kind of bad row.
var mixedJSONL = strings.Join([]string{
	`{"handle":"oak-table","external_id":"EXT-1","title":"Oak Table","vendor":"Nordwood","category":"Furniture / Tables","options":[{"name":"Size","values":["Small","Large"]}],"variants":[{"sku":"OAK-S","options":{"Size":"Small"},"price":19900,"stock":4},{"sku":"OAK-L","options":{"Size":"Large"},"price":"299.00 USD","compare_at_price":34900,"stock":2}]}`,
	`{"title":"Broken", "sku":`,
	`{"title":"","sku":"NO-TITLE","price":100}`,
	`{"title":"Negative","sku":"NEG","price":-5}`,
	`{"title":"Copycat","sku":"OAK-S","price":100}`,
	`{"title":"Red Wool Scarf","sku":"SCARF-1","price":2500,"stock":10,"tags":["wool"]}`,
	`{"title":"Linen Throw","sku":"THROW-1","price":"49.50 USD"}`,
}, "\n")

func TestImportProducts(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		t.Run("OK", func(t *testing.T) {
			res := importContent(t, env, "", mixedJSONL)
			wantCounts(t, res, 3, 0, 0, 4)
			want := []string{
				"line 2: invalid JSON: the line ends inside an object; keep each product on one line",
				"line 3: title: is required: give the product a title",
				"line 4: variants[0].price: must be zero or more, in minor units of the store currency (2500 is 25.00)",
				`line 5: variants[0].sku: "OAK-S" is also on line 1; list each product and SKU once`,
			}
			if got := errorLines(res); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if res.Format != importer.JSONL || res.Errors[3].Code != mdk.CodeConflict {
				t.Errorf("format %s, duplicate code %s", res.Format, res.Errors[3].Code)
			}
			table := env.product(t, "oak-table")
			large := variantBySKU(t, table, "OAK-L")
			if table.ExternalID != "EXT-1" || table.Vendor != "Nordwood" || table.Status != product.StatusActive || len(table.Variants) != 2 ||
				large.Price != (product.Money{Amount: 29900, Currency: "USD"}) || large.CompareAtPrice.Amount != 34900 ||
				large.Inventory.OnHand != 2 || large.Title != "Large" || table.Variants[0].SKU != "OAK-S" {
				t.Fatalf("oak table = %+v", table)
			}
			if scarf := env.product(t, "red-wool-scarf"); scarf.Variants[0].Inventory.Available != 10 || scarf.Variants[0].Title != "Default" {
				t.Errorf("scarf = %+v", scarf)
			}
			if throw := env.product(t, "linen-throw"); throw.Variants[0].Price.Amount != 4950 || throw.Variants[0].Inventory.OnHand != 0 {
				t.Errorf("throw = %+v", throw)
			}
			events := env.events(t)
			if len(events) != 3 || events[0].Type != product.EventProductCreated || events[0].Subject != table.ID {
				t.Fatalf("events = %+v", events)
			}
		})
		t.Run("OKReimportChangesNothing", func(t *testing.T) {
			before, events := env.product(t, "oak-table"), len(env.events(t))
			res := importContent(t, env, "jsonl", mixedJSONL)
			wantCounts(t, res, 0, 0, 3, 4)
			if n := len(env.events(t)); n != events {
				t.Fatalf("%d events after a no-op import, want %d", n, events)
			}
			if after := env.product(t, "oak-table"); !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("updated_at moved from %v to %v", before.UpdatedAt, after.UpdatedAt)
			}
		})
		t.Run("OKChangeOneRow", func(t *testing.T) {
			before, events := env.product(t, "oak-table"), len(env.events(t))
			// Rename, reprice Small, drop Large, add Medium; stock in the
			// file applies to the new variant only.
			changed := strings.Replace(mixedJSONL, strings.Split(mixedJSONL, "\n")[0],
				`{"handle":"oak-table","external_id":"EXT-1","title":"Oak Table II","options":[{"name":"Size","values":["Small","Medium"]}],"variants":[{"sku":"OAK-S","options":{"Size":"Small"},"price":18900,"stock":99},{"sku":"OAK-M","options":{"Size":"Medium"},"price":24900,"stock":7}]}`, 1)
			res := importContent(t, env, "", changed)
			wantCounts(t, res, 0, 1, 2, 4)
			after := env.product(t, "oak-table")
			small, medium := variantBySKU(t, after, "OAK-S"), variantBySKU(t, after, "OAK-M")
			if after.ID != before.ID || after.Title != "Oak Table II" || len(after.Variants) != 2 || after.Vendor != "" ||
				small.ID != variantBySKU(t, before, "OAK-S").ID || small.Price.Amount != 18900 || small.Inventory.OnHand != 4 ||
				medium.Inventory.OnHand != 7 || after.Variants[1].SKU != "OAK-M" {
				t.Fatalf("after = %+v", after)
			}
			got := env.eventsSince(t, events)
			if len(got) != 1 || got[0].Type != product.EventProductUpdated || got[0].Subject != after.ID {
				t.Fatalf("events = %+v", got)
			}
		})
		t.Run("OKArchiveByImport", func(t *testing.T) {
			events := len(env.events(t))
			res := importContent(t, env, "", `{"title":"Red Wool Scarf","status":"archived","sku":"SCARF-1","price":2500,"tags":["wool"]}`)
			wantCounts(t, res, 0, 1, 0, 0)
			if got := env.eventsSince(t, events); len(got) != 1 || got[0].Type != product.EventProductArchived {
				t.Fatalf("events = %+v", got)
			}
		})
		t.Run("ErrConflicts", func(t *testing.T) {
			other := env.create(t, scarf("TAKEN-SKU", 1))
			if _, err := env.g.DB().ExecContext(context.Background(), `UPDATE product.variants SET reserved = 1 WHERE sku = 'OAK-M'`); err != nil {
				t.Fatal(err)
			}
			res := importContent(t, env, "", strings.Join([]string{
				`{"title":"Thief","sku":"TAKEN-SKU","price":100}`,
				`{"handle":"oak-table","external_id":"EXT-2","title":"Impostor","sku":"IMP","price":100}`,
			}, "\n"))
			wantCounts(t, res, 0, 0, 0, 2)
			want := []string{
				fmt.Sprintf(`line 1: variants[0].sku: SKU "TAKEN-SKU" is already used by product %s; choose another SKU`, other.ID),
				`line 2: handle: "oak-table" is the handle of product ` + env.product(t, "oak-table").ID + `, whose external ID is "EXT-1"; give this product another handle`,
			}
			if got := errorLines(res); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			res = importContent(t, env, "", `{"title":"Twin Lamp","sku":"TWIN-1","price":100}`+"\n"+`{"title":"Twin  lamp!","sku":"TWIN-2","price":100}`)
			wantCounts(t, res, 1, 0, 0, 1)
			if got := errorLines(res); got[0] != `line 2: handle: the handle derived from the title, "twin-lamp", is also on line 1; give one of them its own handle` {
				t.Fatalf("errors = %q", got)
			}
			res = importContent(t, env, "", `{"handle":"oak-table","external_id":"EXT-1","title":"Oak Table II","options":[{"name":"Size","values":["Small"]}],"variants":[{"sku":"OAK-S","options":{"Size":"Small"},"price":18900}]}`)
			wantCounts(t, res, 0, 0, 0, 1)
			if got := errorLines(res); got[0] != `line 1: variants: SKU "OAK-M" is no longer listed but 1 units of it are reserved by open checkouts; keep it until they complete` {
				t.Fatalf("errors = %q", got)
			}
		})
	})
}

func TestImportCSV(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		content := "external_id,handle,title,category,option1_name,option1_value,sku,price,stock\n" +
			"P-1,tee,Tee,Apparel / Tops,Size,S,TEE-S,1999,3\n" +
			"P-1,,,,,M,TEE-M,19.99 USD,0\n" +
			"P-2,,Mug,,,,MUG,-1,\n"
		t.Run("OK", func(t *testing.T) {
			res := importContent(t, env, "csv", content)
			wantCounts(t, res, 1, 0, 0, 1)
			if got := errorLines(res); len(got) != 1 || got[0] != "line 4: price: must be zero or more, in minor units of the store currency (2500 is 25.00)" {
				t.Fatalf("errors = %q", got)
			}
			tee := env.product(t, "tee")
			if tee.ExternalID != "P-1" || tee.Category != "Apparel / Tops" || len(tee.Variants) != 2 || variantBySKU(t, tee, "TEE-M").Price.Amount != 1999 {
				t.Fatalf("tee = %+v", tee)
			}
		})
		t.Run("OKNewHandleByExternalID", func(t *testing.T) {
			before := env.product(t, "tee")
			res := importContent(t, env, "csv", strings.Replace(content, "P-1,tee,", "P-1,t-shirt,", 1))
			wantCounts(t, res, 0, 1, 0, 1)
			if after := env.product(t, "t-shirt"); after.ID != before.ID {
				t.Fatalf("t-shirt is %s, want %s", after.ID, before.ID)
			}
		})
		t.Run("ErrOperationInput", func(t *testing.T) {
			_, err := call[product.ImportProductsInput, product.ImportResult](env.merchant, env, "import_products", product.ImportProductsInput{Format: "xml", Content: content})
			wantErr(t, err, mdk.CodeInvalid, "format")
			_, err = call[product.ImportProductsInput, product.ImportResult](env.merchant, env, "import_products", product.ImportProductsInput{Content: "<xml/>"})
			wantErr(t, err, mdk.CodeInvalid, "content")
			_, err = call[product.ImportProductsInput, product.ImportResult](env.merchant, env, "import_products", product.ImportProductsInput{Content: strings.Repeat("x", product.MaxImportContentBytes+1)})
			wantErr(t, err, mdk.CodeInvalid, "content")
			_, err = call[product.ImportProductsInput, product.ImportResult](env.shopper, env, "import_products", product.ImportProductsInput{Content: content})
			wantErr(t, err, mdk.CodeForbidden, "")
		})
	})
}

// benchSample is three lines of the benchmark catalog format.
const benchSample = `{"id":"1","name":"Harbor Home Traditional Bamboo Outdoor Bench","slug":"harbor-home-traditional-bamboo-outdoor-bench-1","description":"A versatile piece from Harbor Home that fits living rooms.","productClass":"Outdoor Bench","category":"Outdoor","features":"color:White|material:Bamboo|style:Traditional","sku":"SYN-1","price":630.37}
{"id":"2","name":"Elmwood Bohemian Pine Bar Cart","slug":"elmwood-bohemian-pine-bar-cart-2","description":"A versatile piece from Elmwood that fits living rooms.","productClass":"Bar Cart","category":"Kitchen & Tabletop","features":"color:Green|material:Pine|style:Bohemian","sku":"SYN-2","price":508.2}
{"id":"3","name":"Ashford Industrial Solid Wood Planter","slug":"ashford-industrial-solid-wood-planter-3","description":"","productClass":"Planter","category":"Outdoor","features":"color:Brown|material:Solid Wood|style:Industrial","sku":"SYN-3","price":-46.06}
`

func TestImportBench(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		res, err := env.m.Import(env.merchant, strings.NewReader(benchSample), product.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, res, 2, 0, 0, 1)
		if res.Format != importer.Bench || errorLines(res)[0] != "line 3: price: must be zero or more, in minor units of the store currency (2500 is 25.00)" {
			t.Fatalf("format %s errors %q", res.Format, errorLines(res))
		}
		bench := env.product(t, "harbor-home-traditional-bamboo-outdoor-bench-1")
		if bench.ExternalID != "1" || bench.Vendor != "Harbor Home" || bench.ProductType != "Outdoor Bench" || bench.Variants[0].Price.Amount != 63037 ||
			bench.Attributes["material"] != "Bamboo" || bench.Attributes["style"] != "Traditional" || bench.Variants[0].SKU != "SYN-1" {
			t.Fatalf("bench = %+v", bench)
		}
		if cart := env.product(t, "elmwood-bohemian-pine-bar-cart-2"); cart.Variants[0].Price.Amount != 50820 {
			t.Errorf("bar cart price %d", cart.Variants[0].Price.Amount)
		}
	})
}

// TestImportBatches imports more products than one batch holds, with
// progress reports, and re-imports them.
func TestImportBatches(t *testing.T) {
	const n = 1234
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"external_id":"B-%d","title":"Batch product %d","sku":"B-%d","price":%d,"stock":%d}`+"\n", i, i, i, 100+i, i%5)
	}
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		var reports []int
		progress := func(r product.ImportResult) { reports = append(reports, r.Created+r.Unchanged) }
		res, err := env.m.Import(env.merchant, strings.NewReader(b.String()), product.ImportOptions{Progress: progress})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, res, n, 0, 0, 0)
		if len(reports) != 3 || reports[0] != 500 || reports[2] != n {
			t.Errorf("progress reports %v", reports)
		}
		if got := len(env.events(t)); got != n {
			t.Errorf("%d events, want %d", got, n)
		}
		res, err = env.m.Import(env.merchant, strings.NewReader(b.String()), product.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, res, 0, 0, n, 0)
		if got := len(env.events(t)); got != n {
			t.Errorf("%d events after re-import, want %d", got, n)
		}
	})
}

// TestImportConcurrently runs two imports of the same new products at
// once: each product is created exactly once, and the import that loses a
// race finds it unchanged (or, rarely, reports the conflict) instead of
// failing its whole batch.
func TestImportConcurrently(t *testing.T) {
	const n = 700
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"title":"Race product %d","sku":"R-%d","price":%d}`+"\n", i, i, 100+i)
	}
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		var wg sync.WaitGroup
		results := make([]product.ImportResult, 2)
		errs := make([]error, 2)
		for i := range results {
			wg.Go(func() {
				results[i], errs[i] = env.m.Import(env.merchant, strings.NewReader(b.String()), product.ImportOptions{})
			})
		}
		wg.Wait()
		created := 0
		for i, res := range results {
			if errs[i] != nil || res.Created+res.Unchanged+res.Failed != n {
				t.Fatalf("import %d: %+v, %v", i, res, errs[i])
			}
			for _, e := range res.Errors {
				if e.Code != mdk.CodeConflict {
					t.Errorf("import %d: %s", i, e.Error())
				}
			}
			created += res.Created
		}
		if created != n || count(t, env.g, `SELECT COUNT(*) FROM product.products`) != n {
			t.Fatalf("created %d products in all (%+v, %+v), want %d", created, results[0], results[1], n)
		}
	})
}
