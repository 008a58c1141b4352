package order

import (
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/ucp"
)

// The UCP shapes the operations return: shopping/checkout.json and
// shopping/order.json minus the `ucp` envelope, which the MCP edge adds.

// UCPCheckout is shopping/checkout.json. shipping_address,
// fulfillment_option_id and fulfillment_options are extensions (the schema
// allows additional properties).
type UCPCheckout struct {
	ID                  string             `json:"id" jsonschema:"checkout ID; keep it: for a checkout started without an API key it is the only way back"`
	Status              CheckoutStatus     `json:"status" jsonschema:"incomplete (see messages), ready_for_complete, complete_in_progress, completed, canceled or requires_escalation (send the buyer to continue_url)"`
	LineItems           []UCPLineItem      `json:"line_items"`
	Buyer               *Buyer             `json:"buyer,omitempty"`
	Currency            string             `json:"currency" jsonschema:"ISO 4217 currency of every amount"`
	Totals              []UCPTotal         `json:"totals" jsonschema:"subtotal, fulfillment, tax and total in minor units, computed by the store"`
	Messages            []UCPMessage       `json:"messages,omitempty" jsonschema:"what is missing or wrong, each with the JSONPath of the field"`
	Links               []UCPLink          `json:"links"`
	ContinueURL         string             `json:"continue_url,omitempty" jsonschema:"where the buyer finishes the checkout when status is requires_escalation"`
	ShippingAddress     *Address           `json:"shipping_address,omitempty"`
	FulfillmentOptionID string             `json:"fulfillment_option_id,omitempty" jsonschema:"the chosen shipping option"`
	FulfillmentOptions  []ShippingOption   `json:"fulfillment_options" jsonschema:"shipping options to choose from with update_checkout"`
	Order               *UCPOrderReference `json:"order,omitempty" jsonschema:"the order placed by this checkout, once completed"`
}

// UCPOrderReference is shopping/types/order_confirmation.json.
type UCPOrderReference struct {
	ID           string `json:"id"`
	PermalinkURL string `json:"permalink_url"`
}

// UCPLineItem is shopping/types/line_item.json.
type UCPLineItem struct {
	ID       string     `json:"id"`
	Item     UCPItem    `json:"item"`
	Quantity int64      `json:"quantity"`
	Totals   []UCPTotal `json:"totals"`
}

// UCPItem is shopping/types/item.json.
type UCPItem = ucp.Item

// UCPTotal is common/types/total.json.
type UCPTotal = ucp.Total

// UCPMessage is common/types/message.json.
type UCPMessage = ucp.Message

// UCPLink is common/types/link.json.
type UCPLink struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

func lineItems(lines []Line) []UCPLineItem {
	out := make([]UCPLineItem, len(lines))
	for i, l := range lines {
		sub := l.Price * l.Quantity
		out[i] = UCPLineItem{
			ID: l.ID, Item: UCPItem{ID: l.VariantID, Title: l.Title, Price: l.Price, ImageURL: l.ImageURL},
			Quantity: l.Quantity, Totals: []UCPTotal{{Type: "subtotal", Amount: sub}, {Type: "total", Amount: sub}},
		}
	}
	return out
}

// amounts are a checkout's totals in minor units.
type amounts struct{ items, fulfillment, tax, total int64 }

// price computes the totals of c: tax applies to items and shipping at the
// rate of the shipping address, rounded half up.
func (c config) price(ch Checkout) amounts {
	a := amounts{items: itemsTotal(ch.Lines)}
	if o, ok := c.shippingOption(ch.FulfillmentOption); ok {
		a.fulfillment = o.Amount
	}
	if rate := c.taxRate(ch.Shipping); rate > 0 {
		a.tax = ((a.items+a.fulfillment)*rate + 5_000) / 10_000
	}
	a.total = a.items + a.fulfillment + a.tax
	return a
}

func (a amounts) totals() []UCPTotal {
	return []UCPTotal{
		{Type: "subtotal", DisplayText: "Items", Amount: a.items},
		{Type: "fulfillment", DisplayText: "Shipping", Amount: a.fulfillment},
		{Type: "tax", DisplayText: "Tax", Amount: a.tax},
		{Type: "total", DisplayText: "Total", Amount: a.total},
	}
}

// missing lists what the buyer still has to give before the checkout can
// complete, as UCP error messages.
func missing(ch Checkout) []UCPMessage {
	var out []UCPMessage
	add := func(path, what string) {
		out = append(out, UCPMessage{Type: "error", Code: "missing", Path: path, Severity: "requires_buyer_input",
			Content: what + " is required; set it with update_checkout"})
	}
	if ch.Buyer.Email == "" {
		add("$.buyer.email", "the buyer's email")
	}
	if ch.Shipping == (Address{}) {
		add("$.shipping_address", "a shipping address")
	}
	if ch.FulfillmentOption == "" {
		add("$.fulfillment_option_id", "a shipping option")
	}
	if ch.PaymentToken == "" {
		add("$.payment_token", "a payment token")
	}
	return out
}

// settle sets an open checkout's status from what is missing.
func settle(ch *Checkout) {
	if !ch.Status.open() {
		return
	}
	if len(missing(*ch)) == 0 {
		ch.Status = CheckoutReady
	} else {
		ch.Status = CheckoutIncomplete
	}
}

func (c config) checkoutURL(id string) string { return c.storeURL + "/checkout/" + id }
func (c config) orderURL(id string) string    { return c.storeURL + "/orders/" + id }

// view renders c as UCP.
func (c config) view(ch Checkout) UCPCheckout {
	out := UCPCheckout{
		ID: ch.ID, Status: ch.Status, LineItems: lineItems(ch.Lines), Currency: ch.Currency,
		Totals: c.price(ch).totals(), Links: []UCPLink{}, FulfillmentOptionID: ch.FulfillmentOption,
		FulfillmentOptions: c.shipping,
	}
	if ch.Buyer != (Buyer{}) {
		b := ch.Buyer
		out.Buyer = &b
	}
	if ch.Shipping != (Address{}) {
		a := ch.Shipping
		out.ShippingAddress = &a
	}
	if ch.Status.open() {
		out.Messages = missing(ch)
	}
	if ch.Status == CheckoutRequiresEscalation {
		out.ContinueURL = c.checkoutURL(ch.ID)
		out.Messages = append(out.Messages, UCPMessage{Type: "error", Code: "requires_escalation", Path: "$.payment_token",
			Severity: "requires_buyer_input", Content: "the payment needs the buyer's confirmation: send them to continue_url"})
	}
	if ch.OrderID != "" {
		out.Order = &UCPOrderReference{ID: ch.OrderID, PermalinkURL: c.orderURL(ch.OrderID)}
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func lineField(i int, f string) string { return fmt.Sprintf("line_items[%d].%s", i, f) }
