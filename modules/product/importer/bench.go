package importer

import (
	"regexp"
	"strings"

	"github.com/hyperrr/hyperrr/internal/benchfmt"
)

// benchRow is a line of the benchmark catalog (../shared/data/bench).
type benchRow = benchfmt.Row

// benchFields maps the product's field paths to the benchmark's names, so
// errors name what the file has.
var benchFields = map[string]string{
	"external_id": "id", "title": "name", "handle": "slug", "product_type": "productClass",
	"attributes": "features", "vendor": "description",
	"variants[0].sku": "sku", "variants[0].price": "price", "variants": "sku",
}

// benchParser reads lines of the benchmark catalog.
type benchParser struct{ money money }

func (r benchParser) parse(line int, text []byte) Record {
	rec := Record{Line: line, locate: func(field string) (int, string) {
		if name, ok := benchFields[field]; ok {
			return line, name
		}
		return line, field
	}}
	var row benchRow
	if field, msg := decodeStrict(text, &row); msg != "" {
		rec.Err = lineError(line, field, "%s", msg)
		return rec
	}
	rec.Product, rec.Err = r.product(line, &row)
	return rec
}

func (r benchParser) product(line int, row *benchRow) (Product, *LineError) {
	attrs, err := parseAttributes(row.Features)
	if err != nil {
		return Product{}, lineError(line, "features", "%s", err.msg)
	}
	if row.Price == "" {
		return Product{}, lineError(line, "price", "is required: the price in dollars, e.g. 630.37")
	}
	price, perr := r.money.major(string(row.Price))
	if perr != nil {
		return Product{}, lineError(line, "price", "%s", perr.Error())
	}
	return Product{
		Handle:      row.Slug,
		ExternalID:  row.ID,
		Title:       row.Name,
		Description: row.Description,
		Vendor:      benchVendor(row.Description, row.Name, attrs),
		ProductType: row.ProductClass,
		Category:    row.Category,
		Attributes:  attrs,
		Status:      "active",
		Variants:    []Variant{{SKU: row.SKU, Price: price}},
	}, nil
}

// parseAttributes reads "color:White|material:Bamboo" (attribute names
// lower-cased). It is also the CSV attributes column's syntax.
func parseAttributes(s string) (map[string]string, *fieldErr) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	attrs := map[string]string{}
	for pair := range strings.SplitSeq(s, "|") {
		name, value, ok := strings.Cut(pair, ":")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, &fieldErr{"", `"` + pair + `" is not name:value; separate pairs with |`}
		}
		attrs[name] = value
	}
	return attrs, nil
}

// vendorFrom finds the brand in the benchmark's description ("A versatile
// piece from Harbor Home that fits ...").
var vendorFrom = regexp.MustCompile(`\bfrom ((?:[A-Z][\w&'.-]*)(?: [A-Z][\w&'.-]*)*)`)

// benchVendor is the brand named in the description, or else the words of
// the name before its style or material ("Mercury Row Mid-Century Pine
// Wall Art" → "Mercury Row"), or "" when neither says.
func benchVendor(description, name string, attrs map[string]string) string {
	if m := vendorFrom.FindStringSubmatch(description); m != nil {
		return m[1]
	}
	for _, key := range []string{"style", "material", "color"} {
		v := attrs[key]
		if v == "" {
			continue
		}
		if i := strings.Index(strings.ToLower(name), " "+strings.ToLower(v)+" "); i > 0 {
			return name[:i]
		}
	}
	return ""
}
