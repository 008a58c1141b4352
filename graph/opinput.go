package graph

import (
	"strings"

	"github.com/hyperrr/hyperrr/graph/model"
)

// Operation inputs as their JSON Schemas say (snake_case, UCP shapes).
// They mirror the operations' published contract, not modules' Go types,
// so graph never imports a module; where a GraphQL input has the same
// shape it is only renamed here.

type idIn struct {
	ID string `json:"id"`
}

type itemRef struct {
	ID string `json:"id"`
}

type lineIn struct {
	ID       string  `json:"id,omitempty"`
	Item     itemRef `json:"item"`
	Quantity int     `json:"quantity"`
}

type buyerIn struct {
	FirstName   *string `json:"first_name,omitempty"`
	LastName    *string `json:"last_name,omitempty"`
	Email       *string `json:"email,omitempty"`
	PhoneNumber *string `json:"phone_number,omitempty"`
}

func buyer(b *model.BuyerInput) *buyerIn {
	if b == nil {
		return nil
	}
	return &buyerIn{FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, PhoneNumber: b.PhoneNumber}
}

type addressIn struct {
	FirstName       *string `json:"first_name,omitempty"`
	LastName        *string `json:"last_name,omitempty"`
	StreetAddress   *string `json:"street_address,omitempty"`
	ExtendedAddress *string `json:"extended_address,omitempty"`
	AddressLocality *string `json:"address_locality,omitempty"`
	AddressRegion   *string `json:"address_region,omitempty"`
	AddressCountry  *string `json:"address_country,omitempty"`
	PostalCode      *string `json:"postal_code,omitempty"`
}

func address(a *model.AddressInput) *addressIn {
	if a == nil {
		return nil
	}
	return &addressIn{a.FirstName, a.LastName, a.StreetAddress, a.ExtendedAddress, a.AddressLocality, a.AddressRegion, a.AddressCountry, a.PostalCode}
}

type cartIn struct {
	ID        string   `json:"id,omitempty"`
	LineItems []lineIn `json:"line_items"`
	Buyer     *buyerIn `json:"buyer,omitempty"`
}

func cartLines(ls []*model.CartLineInput) []lineIn {
	out := make([]lineIn, len(ls))
	for i, l := range ls {
		out[i] = lineIn{Item: itemRef{l.ItemID}, Quantity: l.Quantity}
		if l.ID != nil {
			out[i].ID = *l.ID
		}
	}
	return out
}

type cartLineIn struct {
	CartID   string `json:"cart_id"`
	ItemID   string `json:"item_id,omitempty"`
	LineID   string `json:"line_id,omitempty"`
	Quantity int    `json:"quantity,omitempty"`
}

type checkoutIn struct {
	CartID    string   `json:"cart_id,omitempty"`
	LineItems []lineIn `json:"line_items,omitempty"`
	Buyer     *buyerIn `json:"buyer,omitempty"`
}

type checkoutUpdateIn struct {
	ID                  string     `json:"id"`
	Buyer               *buyerIn   `json:"buyer,omitempty"`
	ShippingAddress     *addressIn `json:"shipping_address,omitempty"`
	FulfillmentOptionID *string    `json:"fulfillment_option_id,omitempty"`
	PaymentToken        *string    `json:"payment_token,omitempty"`
}

type checkoutKeyIn struct {
	ID             string  `json:"id"`
	IdempotencyKey string  `json:"idempotency_key"`
	PaymentToken   *string `json:"payment_token,omitempty"`
}

// orderListIn is list_orders' input; list_my_orders takes its status,
// limit and cursor.
type orderListIn struct {
	Status       string `json:"status,omitempty"`
	CustomerID   string `json:"customer_id,omitempty"`
	PlacedAfter  string `json:"placed_after,omitempty"`
	PlacedBefore string `json:"placed_before,omitempty"`
	Limit        int    `json:"limit,omitempty"`
	Cursor       string `json:"cursor,omitempty"`
}

type fulfillIn struct {
	ID             string `json:"id"`
	TrackingNumber string `json:"tracking_number"`
}

type refundLineIn struct {
	LineID   string `json:"line_id"`
	Quantity int    `json:"quantity"`
}

type refundIn struct {
	ID      string         `json:"id"`
	Lines   []refundLineIn `json:"lines,omitempty"`
	Restock bool           `json:"restock,omitempty"`
}

type pageIn struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

type searchIn struct {
	Query      string         `json:"query,omitempty"`
	Filters    *searchFilters `json:"filters,omitempty"`
	Pagination *pageIn        `json:"pagination,omitempty"`
	Sort       string         `json:"sort,omitempty"`
}

type priceIn struct {
	Min *int64 `json:"min,omitempty"`
	Max *int64 `json:"max,omitempty"`
}

type searchFilters struct {
	Categories []string            `json:"categories,omitempty"`
	Vendors    []string            `json:"vendors,omitempty"`
	InStock    *bool               `json:"in_stock,omitempty"`
	Price      *priceIn            `json:"price,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

func filters(f *model.ProductFilter) *searchFilters {
	if f == nil {
		return nil
	}
	out := &searchFilters{Categories: f.Categories, Vendors: f.Vendors, InStock: f.InStock}
	if f.PriceMin != nil || f.PriceMax != nil {
		out.Price = &priceIn{Min: f.PriceMin, Max: f.PriceMax}
	}
	if len(f.Attributes) > 0 {
		out.Attributes = map[string][]string{}
		for _, a := range f.Attributes {
			out.Attributes[a.Name] = append(out.Attributes[a.Name], a.Values...)
		}
	}
	return out
}

type getProductIn struct {
	ID       string                       `json:"id"`
	Selected []*model.SelectedOptionInput `json:"selected,omitempty"`
}

type lookupIn struct {
	IDs []string `json:"ids"`
}

type optionIn struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// The list helpers keep nil apart from empty: nil leaves a field as it is,
// an empty list clears it.

func options(os []*model.OptionInput) *[]optionIn {
	if os == nil {
		return nil
	}
	out := make([]optionIn, len(os))
	for i, o := range os {
		out[i] = optionIn{o.Name, o.Values}
	}
	return &out
}

func attrMap(as []*model.AttributeInput) *map[string]string {
	if as == nil {
		return nil
	}
	out := make(map[string]string, len(as))
	for _, a := range as {
		out[a.Name] = a.Value
	}
	return &out
}

func stringList(s []string) *[]string {
	if s == nil {
		return nil
	}
	return &s
}

func optionMap(os []*model.SelectedOptionInput) map[string]string {
	if os == nil {
		return nil
	}
	out := make(map[string]string, len(os))
	for _, o := range os {
		out[o.Name] = o.Label
	}
	return out
}

type variantIn struct {
	ProductID      string            `json:"product_id,omitempty"`
	SKU            string            `json:"sku"`
	Options        map[string]string `json:"options,omitempty"`
	Price          int64             `json:"price"`
	CompareAtPrice *int64            `json:"compare_at_price,omitempty"`
	Barcode        *string           `json:"barcode,omitempty"`
	WeightGrams    *int              `json:"weight_grams,omitempty"`
	Stock          *int              `json:"stock,omitempty"`
}

func variant(v *model.VariantInput) variantIn {
	return variantIn{SKU: v.Sku, Options: optionMap(v.SelectedOptions), Price: v.Price,
		CompareAtPrice: v.CompareAtPrice, Barcode: v.Barcode, WeightGrams: v.WeightGrams, Stock: v.Stock}
}

type productIn struct {
	ID          string             `json:"id,omitempty"`
	Handle      *string            `json:"handle,omitempty"`
	ExternalID  *string            `json:"external_id,omitempty"`
	Title       *string            `json:"title,omitempty"`
	Description *string            `json:"description,omitempty"`
	Vendor      *string            `json:"vendor,omitempty"`
	ProductType *string            `json:"product_type,omitempty"`
	Category    *string            `json:"category,omitempty"`
	Tags        *[]string          `json:"tags,omitempty"`
	Attributes  *map[string]string `json:"attributes,omitempty"`
	Media       *[]string          `json:"media,omitempty"`
	Status      string             `json:"status,omitempty"`
	Options     *[]optionIn        `json:"options,omitempty"`
	Variants    []variantIn        `json:"variants,omitempty"`
}

func status(s *model.ProductStatus) string {
	if s == nil {
		return ""
	}
	return strings.ToLower(string(*s))
}

type variantUpdateIn struct {
	ID             string            `json:"id"`
	SKU            *string           `json:"sku,omitempty"`
	Options        map[string]string `json:"options,omitempty"`
	Price          *int64            `json:"price,omitempty"`
	CompareAtPrice *int64            `json:"compare_at_price,omitempty"`
	Barcode        *string           `json:"barcode,omitempty"`
	WeightGrams    *int              `json:"weight_grams,omitempty"`
}

type stockIn struct {
	VariantID *string `json:"variant_id,omitempty"`
	SKU       *string `json:"sku,omitempty"`
	OnHand    int     `json:"on_hand"`
}

type listIn struct {
	Status       string `json:"status,omitempty"`
	Subscription string `json:"subscription,omitempty"`
	Threshold    *int   `json:"threshold,omitempty"`
	Limit        int    `json:"limit,omitempty"`
	Cursor       string `json:"cursor,omitempty"`
}

type importIn struct {
	Format  string `json:"format,omitempty"`
	Content string `json:"content"`
}
