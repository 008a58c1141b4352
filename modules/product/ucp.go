package product

import (
	"strings"
	"unicode"

	"github.com/hyperrr/hyperrr/ucp"
)

// The UCP (Universal Commerce Protocol) catalog shapes that get_product and
// lookup_catalog return, mirroring the official JSON Schemas
// (shopping/types/product.json, variant.json and the types they use) minus
// the `ucp` envelope, which the MCP edge adds. A test validates real
// outputs against those schemas.

// UCPPrice is common/types/price.json.
type UCPPrice struct {
	Amount   int64  `json:"amount" jsonschema:"amount in ISO 4217 minor units (cents for USD)"`
	Currency string `json:"currency" jsonschema:"ISO 4217 currency code"`
}

// UCPPriceRange is common/types/price_range.json.
type UCPPriceRange struct {
	Min UCPPrice `json:"min"`
	Max UCPPrice `json:"max"`
}

// UCPDescription is common/types/description.json; the catalog keeps plain
// text.
type UCPDescription struct {
	Plain string `json:"plain"`
}

// UCPCategory is shopping/types/category.json.
type UCPCategory struct {
	Value    string `json:"value" jsonschema:"category path, segments separated by ' / '"`
	Taxonomy string `json:"taxonomy,omitempty" jsonschema:"merchant: the store's own category tree"`
}

// UCPMedia is common/types/media.json.
type UCPMedia struct {
	Type string `json:"type" jsonschema:"image"`
	URL  string `json:"url"`
}

// UCPOptionValue is shopping/types/option_value.json; in get_product it is
// detail_option_value.json, with availability relative to the selection.
type UCPOptionValue struct {
	Label     string `json:"label"`
	Available *bool  `json:"available,omitempty" jsonschema:"a variant with this value and the other selected values can be bought now"`
	Exists    *bool  `json:"exists,omitempty" jsonschema:"a variant with this value and the other selected values exists"`
}

// UCPProductOption is shopping/types/product_option.json.
type UCPProductOption struct {
	Name   string           `json:"name"`
	Values []UCPOptionValue `json:"values"`
}

// UCPSelectedOption is shopping/types/selected_option.json.
type UCPSelectedOption struct {
	Name  string `json:"name" jsonschema:"option name, e.g. Size"`
	Label string `json:"label" jsonschema:"option value, e.g. Large"`
	// ID is accepted for UCP clients that send option value IDs; this
	// catalog matches by label and never sets it.
	ID string `json:"id,omitempty" jsonschema:"option value ID; not used: values are matched by label"`
}

// UCPAvailability is shopping/types/availability.json.
type UCPAvailability struct {
	Available bool   `json:"available"`
	Status    string `json:"status" jsonschema:"in_stock, out_of_stock or discontinued"`
}

// UCPBarcode is an entry of variant.json barcodes.
type UCPBarcode struct {
	Type  string `json:"type" jsonschema:"UPC, EAN or GTIN"`
	Value string `json:"value"`
}

// UCPInputCorrelation is shopping/types/input_correlation.json: which
// lookup identifier resolved to a variant, and how.
type UCPInputCorrelation struct {
	ID    string `json:"id" jsonschema:"the identifier from the request"`
	Match string `json:"match,omitempty" jsonschema:"exact (a variant ID or SKU) or featured (a product ID or handle; the server chose this variant)"`
}

// UCPVariant is shopping/types/variant.json; in lookup_catalog it carries
// inputs (catalog_lookup.json lookup_variant).
type UCPVariant struct {
	ID           string                `json:"id" jsonschema:"variant ID; use it as the item ID in carts and checkouts"`
	SKU          string                `json:"sku,omitempty"`
	Barcodes     []UCPBarcode          `json:"barcodes,omitempty"`
	Title        string                `json:"title" jsonschema:"e.g. Red / Large; Default for a product without options"`
	Description  UCPDescription        `json:"description"`
	Price        UCPPrice              `json:"price"`
	ListPrice    *UCPPrice             `json:"list_price,omitempty" jsonschema:"price before discount, for strike-through"`
	Availability UCPAvailability       `json:"availability"`
	Options      []UCPSelectedOption   `json:"options,omitempty"`
	Inputs       []UCPInputCorrelation `json:"inputs,omitempty" jsonschema:"lookup_catalog only: the request identifiers that resolved to this variant"`
}

// UCPProductMetadata is the product.json metadata this catalog fills.
type UCPProductMetadata struct {
	Vendor      string            `json:"vendor,omitempty"`
	ProductType string            `json:"product_type,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty" jsonschema:"attribute name to value, e.g. material: oak"`
	ExternalID  string            `json:"external_id,omitempty"`
	Handle      string            `json:"handle,omitempty"`
}

// UCPProduct is shopping/types/product.json; in get_product it is
// catalog_lookup.json detail_product, with Selected set.
type UCPProduct struct {
	ID             string              `json:"id" jsonschema:"product ID"`
	Handle         string              `json:"handle,omitempty"`
	Title          string              `json:"title"`
	Description    UCPDescription      `json:"description"`
	Categories     []UCPCategory       `json:"categories,omitempty"`
	PriceRange     UCPPriceRange       `json:"price_range" jsonschema:"lowest and highest variant price"`
	ListPriceRange *UCPPriceRange      `json:"list_price_range,omitempty" jsonschema:"prices before discount, when some variant is discounted"`
	Media          []UCPMedia          `json:"media,omitempty" jsonschema:"images; the first is the featured one"`
	Options        []UCPProductOption  `json:"options,omitempty"`
	Variants       []UCPVariant        `json:"variants" jsonschema:"purchasable variants; the first is the featured one"`
	Tags           []string            `json:"tags,omitempty"`
	Metadata       *UCPProductMetadata `json:"metadata,omitempty"`
	Selected       []UCPSelectedOption `json:"selected,omitempty" jsonschema:"get_product only: the option values of the featured variant"`
}

// UCPMessage is common/types/message.json.
type UCPMessage = ucp.Message

// Availability statuses (availability.json well-known values).
const (
	availInStock      = "in_stock"
	availOutOfStock   = "out_of_stock"
	availDiscontinued = "discontinued"
)

// sellable reports whether a shopper can buy v of p now.
func sellable(p Product, v Variant) bool {
	return p.Status == StatusActive && v.Inventory.Available > 0
}

// toUCPProduct maps p onto the UCP product shape with the given variants
// (a subset of p's, in the order to show them). Price ranges cover every
// variant of p, not just the ones shown.
func toUCPProduct(p Product, variants []Variant) UCPProduct {
	out := UCPProduct{
		ID: p.ID, Handle: p.Handle, Title: p.Title, Description: UCPDescription{Plain: p.Description},
		PriceRange: priceRange(p.Variants, func(v Variant) Money { return v.Price }),
		Tags:       p.Tags, Variants: make([]UCPVariant, len(variants)),
	}
	if p.Category != "" {
		out.Categories = []UCPCategory{{Value: p.Category, Taxonomy: "merchant"}}
	}
	if discounted(p.Variants) {
		r := priceRange(p.Variants, listPrice)
		out.ListPriceRange = &r
	}
	for _, m := range p.Media {
		out.Media = append(out.Media, UCPMedia{Type: "image", URL: m})
	}
	for _, o := range p.Options {
		opt := UCPProductOption{Name: o.Name, Values: make([]UCPOptionValue, len(o.Values))}
		for i, v := range o.Values {
			opt.Values[i] = UCPOptionValue{Label: v}
		}
		out.Options = append(out.Options, opt)
	}
	for i, v := range variants {
		out.Variants[i] = toUCPVariant(p, v)
	}
	meta := UCPProductMetadata{Vendor: p.Vendor, ProductType: p.ProductType, ExternalID: p.ExternalID, Handle: p.Handle}
	if len(p.Attributes) > 0 {
		meta.Attributes = p.Attributes
	}
	out.Metadata = &meta
	return out
}

func toUCPVariant(p Product, v Variant) UCPVariant {
	out := UCPVariant{
		ID: v.ID, SKU: v.SKU, Title: v.Title,
		Description: UCPDescription{Plain: p.Title},
		Price:       UCPPrice(v.Price),
		Availability: UCPAvailability{
			Available: sellable(p, v),
			Status:    availOutOfStock,
		},
		Options: selectedOptions(p.Options, v.Options),
	}
	if v.Title != defaultVariantTitle {
		out.Description.Plain = p.Title + " — " + v.Title
	}
	switch {
	case p.Status == StatusArchived:
		out.Availability.Status = availDiscontinued
	case out.Availability.Available:
		out.Availability.Status = availInStock
	}
	if v.CompareAtPrice != nil {
		lp := UCPPrice(*v.CompareAtPrice)
		out.ListPrice = &lp
	}
	if v.Barcode != "" {
		out.Barcodes = []UCPBarcode{{Type: barcodeType(v.Barcode), Value: v.Barcode}}
	}
	return out
}

// selectedOptions lists a variant's option values in the product's option
// order.
func selectedOptions(opts []Option, chosen map[string]string) []UCPSelectedOption {
	var out []UCPSelectedOption
	for _, o := range opts {
		if v, ok := chosen[o.Name]; ok {
			out = append(out, UCPSelectedOption{Name: o.Name, Label: v})
		}
	}
	return out
}

// listPrice is a variant's price before discount: its compare-at price, or
// its price when it has none.
func listPrice(v Variant) Money {
	if v.CompareAtPrice != nil {
		return *v.CompareAtPrice
	}
	return v.Price
}

func discounted(vs []Variant) bool {
	for _, v := range vs {
		if v.CompareAtPrice != nil && v.CompareAtPrice.Amount > v.Price.Amount {
			return true
		}
	}
	return false
}

// priceRange is the lowest and highest of price over vs. Variants priced
// in another currency than the first (left from a change of store
// currency) are left out rather than compared as if they were the same.
func priceRange(vs []Variant, price func(Variant) Money) UCPPriceRange {
	if len(vs) == 0 {
		return UCPPriceRange{}
	}
	lo, hi := price(vs[0]), price(vs[0])
	for _, v := range vs[1:] {
		m := price(v)
		if m.Currency != lo.Currency {
			continue
		}
		lo.Amount, hi.Amount = min(lo.Amount, m.Amount), max(hi.Amount, m.Amount)
	}
	return UCPPriceRange{Min: UCPPrice(lo), Max: UCPPrice(hi)}
}

// barcodeType names a barcode's standard by its length: 12 digits are a
// UPC-A, 13 an EAN-13, anything else is reported as a GTIN.
func barcodeType(code string) string {
	if strings.IndexFunc(code, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0 {
		return "GTIN"
	}
	switch len(code) {
	case 12:
		return "UPC"
	case 13:
		return "EAN"
	}
	return "GTIN"
}
