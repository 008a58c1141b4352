package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// jsonProduct is a line of the generic JSONL format (docs/import.md). A
// product has either "variants" or, for a single variant, the variant
// fields at its top level.
type jsonProduct struct {
	Handle      string            `json:"handle"`
	ExternalID  string            `json:"external_id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Vendor      string            `json:"vendor"`
	ProductType string            `json:"product_type"`
	Category    string            `json:"category"`
	Tags        []string          `json:"tags"`
	Attributes  map[string]string `json:"attributes"`
	Media       []string          `json:"media"`
	Status      string            `json:"status"`
	Options     []jsonOption      `json:"options"`
	Variants    []json.RawMessage `json:"variants"`
	// The single-variant shorthand; its "options" is shadowed by the
	// product's, as a single default variant has none.
	jsonVariant
}

type jsonOption struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

type jsonVariant struct {
	SKU            string            `json:"sku"`
	Options        map[string]string `json:"options"`
	Price          *jsonPrice        `json:"price"`
	CompareAtPrice *jsonPrice        `json:"compare_at_price"`
	Barcode        string            `json:"barcode"`
	WeightGrams    int64             `json:"weight_grams"`
	Stock          *int64            `json:"stock"`
}

func (v jsonVariant) isZero() bool {
	return v.SKU == "" && v.Price == nil && v.CompareAtPrice == nil && v.Barcode == "" && v.WeightGrams == 0 && v.Stock == nil
}

// jsonPrice keeps a price as written (a JSON number or string) so that
// money.parse applies one rule to JSONL and CSV alike.
type jsonPrice string

func (p *jsonPrice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = jsonPrice(s)
		return nil
	}
	if len(b) == 0 || b[0] == '{' || b[0] == '[' || b[0] == 't' || b[0] == 'f' {
		return &json.UnmarshalTypeError{Value: "non-price", Type: reflect.TypeFor[jsonPrice]()}
	}
	*p = jsonPrice(b)
	return nil
}

// jsonlParser reads lines of the generic JSON Lines format.
type jsonlParser struct{ money money }

func (r jsonlParser) parse(line int, text []byte) Record {
	var jp jsonProduct
	if field, msg := decodeStrict(text, &jp); msg != "" {
		return Record{Line: line, Err: lineError(line, field, "%s", msg)}
	}
	p, lerr := r.product(line, &jp)
	return Record{Line: line, Product: p, Err: lerr}
}

func (r jsonlParser) product(line int, jp *jsonProduct) (Product, *LineError) {
	p := Product{
		Handle: jp.Handle, ExternalID: jp.ExternalID, Title: jp.Title, Description: jp.Description,
		Vendor: jp.Vendor, ProductType: jp.ProductType, Category: jp.Category, Tags: jp.Tags,
		Attributes: jp.Attributes, Media: jp.Media, Status: jp.Status,
	}
	for _, o := range jp.Options {
		p.Options = append(p.Options, Option(o))
	}
	if !jp.jsonVariant.isZero() {
		if len(jp.Variants) > 0 {
			return p, lineError(line, "variants", "give either variants or the single-variant fields (sku, price, ...) at the top level, not both")
		}
		v, err := r.variant(jp.jsonVariant)
		if err != nil {
			return p, lineError(line, err.field, "%s", err.msg)
		}
		p.Variants = []Variant{v}
		return p, nil
	}
	for i, raw := range jp.Variants {
		prefix := fmt.Sprintf("variants[%d]", i)
		var jv jsonVariant
		if field, msg := decodeStrict(raw, &jv); msg != "" {
			return p, lineError(line, joinPath(prefix, field), "%s", msg)
		}
		v, err := r.variant(jv)
		if err != nil {
			return p, lineError(line, joinPath(prefix, err.field), "%s", err.msg)
		}
		p.Variants = append(p.Variants, v)
	}
	return p, nil
}

type fieldErr struct{ field, msg string }

func (r jsonlParser) variant(jv jsonVariant) (Variant, *fieldErr) {
	v := Variant{SKU: jv.SKU, Options: jv.Options, Barcode: jv.Barcode, WeightGrams: jv.WeightGrams, Stock: jv.Stock}
	if jv.Price == nil {
		return v, &fieldErr{"price", "is required: give minor units (1999) or a decimal with the currency (19.99 " + r.money.code + ")"}
	}
	price, err := r.money.parse(string(*jv.Price))
	if err != nil {
		return v, &fieldErr{"price", err.Error()}
	}
	v.Price = price
	if jv.CompareAtPrice != nil {
		cmp, err := r.money.parse(string(*jv.CompareAtPrice))
		if err != nil {
			return v, &fieldErr{"compare_at_price", err.Error()}
		}
		v.CompareAtPrice = &cmp
	}
	return v, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data. On failure it returns the field at fault (a dotted path,
// possibly empty) and a message for the user; msg is "" on success.
func decodeStrict(text []byte, v any) (field, msg string) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", "invalid JSON: more than one value on the line; write one product a line"
	}
	return "", ""
}

func describeJSONError(err error) (field, msg string) {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "", fmt.Sprintf("invalid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "invalid JSON: the line ends inside an object; keep each product on one line"
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "", fmt.Sprintf("want a JSON object, got %s", article(typeErr.Value))
		}
		return typeErr.Field, fmt.Sprintf("want %s, got %s", describeType(typeErr.Type), article(typeErr.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(name, `"`), "unknown field; see docs/import.md for the fields"
	}
	return "", "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

func describeType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[jsonPrice]():
		return "a price (1999 or \"19.99 USD\")"
	case t.Kind() == reflect.String:
		return "text"
	case t.Kind() == reflect.Int64:
		return "a whole number"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Map, t.Kind() == reflect.Struct:
		return "an object"
	}
	return t.String()
}

func article(jsonKind string) string {
	switch {
	case jsonKind == "", jsonKind == "non-price":
		return "something else"
	case strings.HasPrefix(jsonKind, "number"):
		return "a " + jsonKind
	case jsonKind == "array":
		return "a list"
	case jsonKind == "object":
		return "an object"
	case jsonKind == "bool":
		return "true/false"
	}
	return "a " + jsonKind
}

func joinPath(prefix, field string) string {
	if field == "" {
		return prefix
	}
	return prefix + "." + field
}
