package model

import (
	"encoding/json"
	"sort"
	"strings"
)

// AdminProduct is a product as the merchant manages it.
type AdminProduct struct {
	ID          string            `json:"id"`
	Handle      string            `json:"handle"`
	ExternalID  *string           `json:"external_id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Vendor      *string           `json:"vendor"`
	ProductType *string           `json:"product_type"`
	Category    *string           `json:"category"`
	Tags        []string          `json:"tags"`
	Attrs       map[string]string `json:"attributes"`
	Media       []string          `json:"media"`
	State       string            `json:"status"`
	Options     []AdminOption     `json:"options"`
	Variants    []AdminVariant    `json:"variants"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
}

func (p AdminProduct) Attributes() []Attribute { return attributes(p.Attrs) }

// Status is the product status as the GraphQL enum.
func (p AdminProduct) Status() ProductStatus { return ProductStatus(strings.ToUpper(p.State)) }

type AdminOption struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

type AdminVariant struct {
	ID             string            `json:"id"`
	ProductID      string            `json:"product_id"`
	SKU            string            `json:"sku"`
	Title          string            `json:"title"`
	Opts           map[string]string `json:"options"`
	Price          Money             `json:"price"`
	CompareAtPrice *Money            `json:"compare_at_price"`
	Barcode        *string           `json:"barcode"`
	WeightGrams    *int64            `json:"weight_grams"`
	Inventory      Inventory         `json:"inventory"`
}

// SelectedOptions lists the variant's option values by option name.
func (v AdminVariant) SelectedOptions() []SelectedOption {
	out := make([]SelectedOption, 0, len(v.Opts))
	for k, val := range v.Opts {
		out = append(out, SelectedOption{Name: k, Label: val})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type Inventory struct {
	OnHand    int64 `json:"on_hand"`
	Reserved  int64 `json:"reserved"`
	Available int64 `json:"available"`
}

type LowStockVariant struct {
	ProductID    string `json:"product_id"`
	ProductTitle string `json:"product_title"`
	VariantID    string `json:"variant_id"`
	SKU          string `json:"sku"`
	Title        string `json:"title"`
	OnHand       int64  `json:"on_hand"`
	Reserved     int64  `json:"reserved"`
	Available    int64  `json:"available"`
}

type ImportLineError struct {
	Line    int     `json:"line"`
	Field   *string `json:"field"`
	Code    string  `json:"code"`
	Message string  `json:"message"`
}

type ImportResult struct {
	Format     string            `json:"format"`
	Created    int               `json:"created"`
	Updated    int               `json:"updated"`
	Unchanged  int               `json:"unchanged"`
	Failed     int               `json:"failed"`
	Errors     []ImportLineError `json:"errors"`
	MoreErrors int               `json:"more_errors"`
}

// DeadLetter is an event a subscriber gave up on.
type DeadLetter struct {
	Subscription string          `json:"subscription"`
	EventID      string          `json:"event_id"`
	EventType    string          `json:"event_type"`
	Subject      string          `json:"subject"`
	Payload      json.RawMessage `json:"data"`
	OccurredAt   string          `json:"occurred_at"`
	Attempts     int             `json:"attempts"`
	Error        string          `json:"error"`
	Instance     *string         `json:"instance"`
	DeadAt       string          `json:"dead_at"`
}

// Data is the event payload as JSON text.
func (d DeadLetter) Data() *string {
	if len(d.Payload) == 0 {
		return nil
	}
	s := string(d.Payload)
	return &s
}
