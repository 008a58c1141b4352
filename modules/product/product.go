// Package product is the commerce.product module: the catalog (products,
// options, variants), inventory with expiring reservations, catalog import,
// and hybrid product search. Other modules reach it only through interfaces
// they declare, its events, and the workflow steps it registers
// (inventory.reserve, inventory.release, inventory.commit).
package product

import "time"

// Status is where a product is in its life: only active products are sold
// and found by shoppers.
type Status string

const (
	StatusDraft    Status = "draft"
	StatusActive   Status = "active"
	StatusArchived Status = "archived"
)

// Money is an amount in the currency's minor units (cents for USD). Never a
// float.
type Money struct {
	Amount   int64  `json:"amount" jsonschema:"amount in ISO 4217 minor units (cents for USD)"`
	Currency string `json:"currency" jsonschema:"ISO 4217 currency code, e.g. USD"`
}

// Product is a catalog entry with its options and purchasable variants.
type Product struct {
	ID     string `json:"id" jsonschema:"product ID"`
	Handle string `json:"handle" jsonschema:"unique URL-safe handle"`
	// ExternalID is the ID in the merchant's own system; imports upsert by it.
	ExternalID  string `json:"external_id,omitempty" jsonschema:"ID in the merchant's own system"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Vendor      string `json:"vendor,omitempty" jsonschema:"brand or vendor"`
	ProductType string `json:"product_type,omitempty" jsonschema:"kind of product, e.g. Bar Cart"`
	// Category is a path from the root, segments separated by " / ":
	// "Furniture / Living Room Furniture / Coffee Tables".
	Category   string            `json:"category,omitempty" jsonschema:"category path, segments separated by ' / '"`
	Tags       []string          `json:"tags"`
	Attributes map[string]string `json:"attributes" jsonschema:"attribute name to value, e.g. material: oak"`
	Media      []string          `json:"media" jsonschema:"image URLs, the first is the featured one"`
	Status     Status            `json:"status" jsonschema:"draft, active or archived"`
	Options    []Option          `json:"options" jsonschema:"options such as Size or Color; empty for a single default variant"`
	Variants   []Variant         `json:"variants"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Option is a dimension a product varies in, with its values in display
// order.
type Option struct {
	Name   string   `json:"name" jsonschema:"option name, e.g. Size"`
	Values []string `json:"values" jsonschema:"option values in display order"`
}

// Variant is one purchasable version of a product.
type Variant struct {
	ID        string `json:"id"`
	ProductID string `json:"product_id"`
	SKU       string `json:"sku" jsonschema:"unique stock keeping unit"`
	Title     string `json:"title" jsonschema:"e.g. Red / Large; Default for a product without options"`
	// Options maps each of the product's option names to this variant's
	// value.
	Options        map[string]string `json:"options" jsonschema:"option name to this variant's value"`
	Price          Money             `json:"price"`
	CompareAtPrice *Money            `json:"compare_at_price,omitempty" jsonschema:"list price before discount, for strike-through"`
	Barcode        string            `json:"barcode,omitempty"`
	WeightGrams    int64             `json:"weight_grams,omitempty"`
	Inventory      Inventory         `json:"inventory"`
}

// Inventory is a variant's stock. Available = OnHand - Reserved; a
// reservation never takes it below zero.
type Inventory struct {
	OnHand    int64 `json:"on_hand" jsonschema:"units in stock"`
	Reserved  int64 `json:"reserved" jsonschema:"units held by open checkouts"`
	Available int64 `json:"available" jsonschema:"units that can still be sold"`
}

// ProductInput creates a product (and, in imports, upserts one by handle or
// external ID). Prices are in the store currency's minor units.
type ProductInput struct {
	Handle      string            `json:"handle,omitempty" jsonschema:"URL-safe handle; derived from the title when empty"`
	ExternalID  string            `json:"external_id,omitempty" jsonschema:"ID in the merchant's own system"`
	Title       string            `json:"title" jsonschema:"product title"`
	Description string            `json:"description,omitempty"`
	Vendor      string            `json:"vendor,omitempty"`
	ProductType string            `json:"product_type,omitempty"`
	Category    string            `json:"category,omitempty" jsonschema:"category path, segments separated by ' / '"`
	Tags        []string          `json:"tags,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty" jsonschema:"attribute name to value, e.g. material: oak"`
	Media       []string          `json:"media,omitempty" jsonschema:"image URLs"`
	Status      Status            `json:"status,omitempty" jsonschema:"draft, active or archived; default active"`
	Options     []Option          `json:"options,omitempty" jsonschema:"options such as Size or Color; leave empty for a single default variant"`
	Variants    []VariantInput    `json:"variants" jsonschema:"at least one variant; one per combination of option values"`
}

// VariantInput describes a variant to create or replace.
type VariantInput struct {
	SKU            string            `json:"sku" jsonschema:"unique stock keeping unit"`
	Options        map[string]string `json:"options,omitempty" jsonschema:"option name to value; every product option must be set"`
	Price          int64             `json:"price" jsonschema:"price in minor units of the store currency (cents for USD)"`
	CompareAtPrice *int64            `json:"compare_at_price,omitempty" jsonschema:"list price before discount, in minor units"`
	Barcode        string            `json:"barcode,omitempty"`
	WeightGrams    int64             `json:"weight_grams,omitempty"`
	// Stock sets on-hand units when the variant is created; later changes
	// go through set_stock so reservations are respected.
	Stock *int64 `json:"stock,omitempty" jsonschema:"units on hand when created"`
}

// Event types this module emits through its outbox.
const (
	EventProductCreated   = "product.created"
	EventProductUpdated   = "product.updated"
	EventProductArchived  = "product.archived"
	EventInventoryChanged = "inventory.changed"
)

// ProductEvent is the data of product.* events: enough for a consumer (the
// search index on every instance) to know what changed without a read.
type ProductEvent struct {
	ProductID string `json:"product_id"`
	Handle    string `json:"handle"`
	Status    Status `json:"status"`
}

// InventoryEvent is the data of inventory.changed.
type InventoryEvent struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}
