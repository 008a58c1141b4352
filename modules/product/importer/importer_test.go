package importer_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

// readAll reads every record of content in format f with a USD store.
func readAll(t *testing.T, content string, f importer.Format) (importer.Format, []importer.Record) {
	t.Helper()
	rd, err := importer.NewReader(strings.NewReader(content), f, importer.Options{Currency: "USD"})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []importer.Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd.Format(), out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, rec)
	}
}

// errorsOf lists the records' errors as strings, "" for a good record.
func errorsOf(recs []importer.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		if r.Err != nil {
			out[i] = r.Err.Error()
		}
	}
	return out
}

func wantErrors(t *testing.T, recs []importer.Record, want ...string) {
	t.Helper()
	if got := errorsOf(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("errors:\n got %q\nwant %q", got, want)
	}
}

func TestParseFormat(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for in, want := range map[string]importer.Format{"": importer.Auto, "auto": importer.Auto, "JSONL": importer.JSONL, "csv": importer.CSV, "bench": importer.Bench} {
			if got, err := importer.ParseFormat(in); err != nil || got != want {
				t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := importer.ParseFormat("xml")
		if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || e.Field != "format" || !strings.Contains(e.Message, "jsonl, csv or bench") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDetect(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for content, want := range map[string]importer.Format{
			benchLines: importer.Bench,
			"\n\n" + `{"title":"Mug","sku":"M","price":100}`: importer.JSONL,
			"\xef\xbb\xbfTitle,SKU,Price\nMug,M,100\n":       importer.CSV,
			"": importer.JSONL,
		} {
			got, _ := readAll(t, content, importer.Auto)
			if got != want {
				t.Errorf("detect(%.30q) = %s, want %s", content, got, want)
			}
		}
	})
	t.Run("ErrUnknownFormat", func(t *testing.T) {
		for _, content := range []string{"<products><product/></products>", "name;price\nx;1\n", `[{"title":"x"}]`} {
			_, err := importer.NewReader(strings.NewReader(content), importer.Auto, importer.Options{Currency: "USD"})
			if e := mdk.AsError(err); e.Code != mdk.CodeInvalid {
				t.Errorf("%.20q: err = %v, want invalid", content, err)
			}
		}
	})
	t.Run("ErrCurrency", func(t *testing.T) {
		_, err := importer.NewReader(strings.NewReader("{}"), importer.JSONL, importer.Options{Currency: "dollars"})
		if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || e.Field != "currency" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestJSONL(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		content := `{"handle":"tee","external_id":"T-1","title":"Tee","tags":["cotton"],"attributes":{"fit":"relaxed"},"options":[{"name":"Size","values":["S","M"]}],` +
			`"variants":[{"sku":"TEE-S","options":{"Size":"S"},"price":1999,"compare_at_price":"24.50 USD","stock":3},{"sku":"TEE-M","options":{"Size":"M"},"price":"USD 20","weight_grams":180}]}` + "\n" +
			"\n" +
			`{"title":"Mug","sku":"MUG","price":"12.5USD","stock":0}` + "\r\n"
		_, recs := readAll(t, content, importer.JSONL)
		wantErrors(t, recs, "", "")
		tee := recs[0].Product
		if recs[0].Line != 1 || tee.Handle != "tee" || tee.ExternalID != "T-1" || tee.Attributes["fit"] != "relaxed" || len(tee.Options) != 1 || len(tee.Variants) != 2 {
			t.Fatalf("tee = %+v", recs[0])
		}
		if v := tee.Variants[0]; v.Price != 1999 || *v.CompareAtPrice != 2450 || *v.Stock != 3 || v.Options["Size"] != "S" {
			t.Errorf("TEE-S = %+v", v)
		}
		if v := tee.Variants[1]; v.Price != 2000 || v.CompareAtPrice != nil || v.Stock != nil || v.WeightGrams != 180 {
			t.Errorf("TEE-M = %+v", v)
		}
		mug := recs[1]
		if mug.Line != 3 || len(mug.Product.Variants) != 1 || mug.Product.Variants[0].SKU != "MUG" || mug.Product.Variants[0].Price != 1250 {
			t.Errorf("mug = %+v", mug)
		}
	})
	t.Run("ErrRows", func(t *testing.T) {
		content := strings.Join([]string{
			`{"title":"Good","sku":"G","price":100}`,
			`{"title":"Broken",`,
			`{"title":"Typo","sku":"T","price":100,"colour":"red"}`,
			`{"title":"Decimal","sku":"D","price":19.99}`,
			`{"title":"Euro","sku":"E","price":"19.99 EUR"}`,
			`{"title":"Fraction","sku":"F","price":"19.999 USD"}`,
			`{"title":"Both","sku":"B","price":1,"variants":[{"sku":"B2","price":1}]}`,
			`{"title":"Type","variants":[{"sku":"A","price":1},{"sku":7,"price":1}]}`,
			`{"title":"NoPrice","variants":[{"sku":"N"}]}`,
			`["not","an","object"]`,
			`{"title":"Two"} {"title":"Objects"}`,
			`{"title":"Good too","sku":"G2","price":"0 USD"}`,
		}, "\n")
		_, recs := readAll(t, content, importer.JSONL)
		wantErrors(t, recs,
			"",
			"line 2: invalid JSON: the line ends inside an object; keep each product on one line",
			"line 3: colour: unknown field; see docs/import.md for the fields",
			`line 4: price: "19.99" is a decimal without a currency: write 19.99 USD, or minor units without a decimal point`,
			`line 5: price: "19.99 EUR" is in EUR but the store sells in USD; convert it first`,
			`line 6: price: "19.999": USD has 2 decimals`,
			"line 7: variants: give either variants or the single-variant fields (sku, price, ...) at the top level, not both",
			"line 8: variants[1].sku: want text, got a number",
			"line 9: variants[0].price: is required: give minor units (1999) or a decimal with the currency (19.99 USD)",
			"line 10: want a JSON object, got a list",
			"line 11: invalid JSON: more than one value on the line; write one product a line",
			"",
		)
	})
	t.Run("ErrLineTooLong", func(t *testing.T) {
		long := `{"title":"` + strings.Repeat("x", 200) + `","sku":"L","price":1}`
		rd, err := importer.NewReader(strings.NewReader(long+"\n"+`{"title":"ok","sku":"K","price":1}`), importer.JSONL, importer.Options{Currency: "USD", MaxLineBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		first, _ := rd.Next()
		second, err := rd.Next()
		if err != nil || first.Err == nil || !strings.Contains(first.Err.Error(), "line 1: longer than 100 bytes") || second.Err != nil || second.Line != 2 {
			t.Fatalf("first %+v second %+v err %v", first, second, err)
		}
	})
}

// benchLines are the first two lines of ../shared/data/bench/catalog-5000.jsonl.
const benchLines = `{"id":"1","name":"Harbor Home Traditional Bamboo Outdoor Bench","slug":"harbor-home-traditional-bamboo-outdoor-bench-1","description":"This traditional outdoor bench is crafted from bamboo with a white finish. A versatile piece from Harbor Home that fits living rooms, bedrooms and home offices. Easy assembly, durable construction, and a distressed look.","productClass":"Outdoor Bench","category":"Outdoor","features":"color:White|material:Bamboo|style:Traditional","sku":"SYN-1","price":630.37}
{"id":"6","name":"Mercury Row Mid-Century Pine Wall Art","slug":"mercury-row-mid-century-pine-wall-art-6","description":"This mid-century wall art is crafted from pine with a green finish.","productClass":"Wall Art","category":"Decor & Pillows","features":"color:Green|material:Pine|style:Mid-Century","sku":"SYN-6","price":15}
`

func TestBench(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		format, recs := readAll(t, benchLines, importer.Auto)
		if format != importer.Bench {
			t.Fatalf("format %s", format)
		}
		wantErrors(t, recs, "", "")
		want := importer.Product{
			Handle: "harbor-home-traditional-bamboo-outdoor-bench-1", ExternalID: "1", Title: "Harbor Home Traditional Bamboo Outdoor Bench",
			Description: "This traditional outdoor bench is crafted from bamboo with a white finish. A versatile piece from Harbor Home that fits living rooms, bedrooms and home offices. Easy assembly, durable construction, and a distressed look.",
			Vendor:      "Harbor Home", ProductType: "Outdoor Bench", Category: "Outdoor", Status: "active",
			Attributes: map[string]string{"color": "White", "material": "Bamboo", "style": "Traditional"},
			Variants:   []importer.Variant{{SKU: "SYN-1", Price: 63037}},
		}
		if !reflect.DeepEqual(recs[0].Product, want) {
			t.Fatalf("got  %+v\nwant %+v", recs[0].Product, want)
		}
		// No brand in the description: the name's words before the style.
		if p := recs[1].Product; p.Vendor != "Mercury Row" || p.Variants[0].Price != 1500 {
			t.Errorf("second = %+v", p)
		}
		if line, name := recs[1].Locate("variants[0].price"); line != 2 || name != "price" {
			t.Errorf("Locate = %d %s", line, name)
		}
		if e := recs[1].Problem(mdk.CodeInvalid, "title", "is required"); e.Error() != "line 2: name: is required" {
			t.Errorf("Error = %s", e.Error())
		}
	})
	t.Run("ErrRows", func(t *testing.T) {
		content := `{"id":"1","name":"A","slug":"a","features":"color","sku":"S1","price":1}` + "\n" +
			`{"id":"2","name":"B","slug":"b","sku":"S2","price":1.234}` + "\n" +
			`{"id":"3","name":"C","slug":"c","sku":"S3"}` + "\n"
		_, recs := readAll(t, content, importer.Bench)
		wantErrors(t, recs,
			`line 1: features: "color" is not name:value; separate pairs with |`,
			`line 2: price: "1.234": USD has 2 decimals`,
			"line 3: price: is required: the price in dollars, e.g. 630.37")
	})
	t.Run("ErrNotUSD", func(t *testing.T) {
		_, err := importer.NewReader(strings.NewReader(benchLines), importer.Auto, importer.Options{Currency: "EUR"})
		if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || !strings.Contains(e.Message, "US dollars") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCSV(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		content := "Handle,Title,Vendor,Category,Tags,Attributes,Option1 Name,Option1 Value,Option2 Name,Option2 Value,SKU,Price,Compare At Price,Stock\n" +
			"tee,Tee,Kiln & Loom,Apparel / Tops,cotton|summer,fit:relaxed,Size,S,Color,Red,TEE-S-R,1999,24.99 USD,5\n" +
			"tee,,,,,,,M,,Red,TEE-M-R,1999,,0\n" +
			",,,,,,,M,,Blue,TEE-M-B,2099,,\n" +
			"mug,\"Mug, \"\"large\"\"\",,,,,,,,,MUG,1200,,\n"
		format, recs := readAll(t, content, importer.Auto)
		if format != importer.CSV {
			t.Fatalf("format %s", format)
		}
		wantErrors(t, recs, "", "")
		tee := recs[0].Product
		wantOpts := []importer.Option{{Name: "Size", Values: []string{"S", "M"}}, {Name: "Color", Values: []string{"Red", "Blue"}}}
		if tee.Title != "Tee" || tee.Vendor != "Kiln & Loom" || !reflect.DeepEqual(tee.Tags, []string{"cotton", "summer"}) || !reflect.DeepEqual(tee.Options, wantOpts) || len(tee.Variants) != 3 {
			t.Fatalf("tee = %+v", tee)
		}
		if v := tee.Variants[2]; v.SKU != "TEE-M-B" || v.Price != 2099 || v.Options["Size"] != "M" || v.Options["Color"] != "Blue" || v.Stock != nil {
			t.Errorf("third variant = %+v", v)
		}
		if v := tee.Variants[0]; *v.CompareAtPrice != 2499 || *v.Stock != 5 {
			t.Errorf("first variant = %+v", v)
		}
		if line, col := recs[0].Locate("variants[2].price"); line != 4 || col != "price" {
			t.Errorf("Locate price = %d %s", line, col)
		}
		if line, col := recs[0].Locate("variants[1].options.Color"); line != 3 || col != "option2_value" {
			t.Errorf("Locate option = %d %s", line, col)
		}
		if mug := recs[1]; mug.Line != 5 || mug.Product.Title != `Mug, "large"` {
			t.Errorf("mug = %+v", mug)
		}
	})
	t.Run("ErrRows", func(t *testing.T) {
		content := "external_id,title,sku,price\n" +
			"1,One,S1,abc\n" +
			"2,Two,S2,100\n" +
			"2,Zwei,S3,100\n" +
			"3,Three,S4\n" +
			"3,,S5,100\n" +
			"2,Two again,S6,100\n" +
			",Orphan?,S7,100\n" +
			"4,Four,S8,100\n"
		_, recs := readAll(t, content, importer.CSV)
		wantErrors(t, recs,
			`line 2: price: "abc" is not a price: give minor units (1999) or a decimal with the currency (19.99 USD)`,
			"line 4: title: differs from the product's first row (line 3); leave it empty on variant rows",
			"line 5: has 3 cells but the header has 4",
			"line 7: continues the product that starts on line 3; keep a product's rows together",
			"", // "Orphan?" has a title, so it is a product of its own
			"",
		)
	})
	t.Run("ErrHeader", func(t *testing.T) {
		for content, want := range map[string]string{
			"title,sku,price,colour\n": `unknown column "colour"`,
			"title,sku\n":              "a price column is required",
			"title,sku,price,SKU\n":    `column "sku" appears twice`,
		} {
			_, err := importer.NewReader(strings.NewReader(content), importer.CSV, importer.Options{Currency: "USD"})
			if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || !strings.Contains(e.Message, want) {
				t.Errorf("%q: err = %v, want %q", content, err, want)
			}
		}
	})
}

func TestLineError(t *testing.T) {
	e := importer.LineError{Line: 17, Field: "variants[0].price", Code: mdk.CodeInvalid, Message: "must not be negative"}
	if e.Error() != "line 17: variants[0].price: must not be negative" {
		t.Fatal(e.Error())
	}
	e.Field = ""
	if e.Error() != "line 17: must not be negative" {
		t.Fatal(e.Error())
	}
}
