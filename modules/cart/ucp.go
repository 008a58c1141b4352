package cart

import (
	"context"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/ucp"
)

// The UCP cart shape the cart operations return: shopping/cart.json minus
// the `ucp` envelope, which the MCP edge adds. A test validates real outputs
// against the official schema.

// UCPCart is shopping/cart.json. Status is an extension (the schema allows
// additional properties): active carts can change and be checked out.
type UCPCart struct {
	ID        string        `json:"id" jsonschema:"cart ID; keep it: for a cart created without an API key it is the only way back to the cart"`
	Status    Status        `json:"status" jsonschema:"active (can change and be checked out), canceled, expired (left idle too long) or completed (checked out)"`
	LineItems []UCPLineItem `json:"line_items"`
	Buyer     *Buyer        `json:"buyer,omitempty"`
	Currency  string        `json:"currency" jsonschema:"ISO 4217 currency of every amount; empty while the cart has never held a known item"`
	Totals    []UCPTotal    `json:"totals" jsonschema:"subtotal and estimated total in minor units; tax and shipping are computed at checkout"`
	Messages  []UCPMessage  `json:"messages,omitempty" jsonschema:"problems to fix before checkout (unavailable items, too little stock), each with the JSONPath of the line"`
	ExpiresAt string        `json:"expires_at,omitempty" jsonschema:"RFC 3339 time the cart expires if left unchanged (active carts only)"`
}

// UCPLineItem is shopping/types/line_item.json.
type UCPLineItem struct {
	ID       string     `json:"id" jsonschema:"line ID; pass it back in update_cart to keep the line"`
	Item     UCPItem    `json:"item"`
	Quantity int64      `json:"quantity"`
	Totals   []UCPTotal `json:"totals" jsonschema:"the line's subtotal and total in minor units; 0 when the item can't be bought"`
}

// UCPItem is shopping/types/item.json.
type UCPItem = ucp.Item

// UCPTotal is common/types/total.json.
type UCPTotal = ucp.Total

// UCPMessage is common/types/message.json.
type UCPMessage = ucp.Message

// Message codes the cart reports on lines.
const (
	codeItemUnavailable   = "item_unavailable"
	codeOutOfStock        = "out_of_stock"
	codeInsufficientStock = "insufficient_stock"
)

// catalogVariant is the catalog's view of a variant, declared here so the
// cart never imports the product module: it is identical to
// product.VariantInfo, which makes *product.Catalog satisfy catalog.
type catalogVariant = struct {
	ID, ProductID, ProductTitle, Title, SKU string
	Price                                   int64
	Currency                                string
	Available                               int64
	Status                                  string
	ImageURL                                string
}

// catalog is what the cart needs of commerce.product.
type catalog interface {
	// Variants returns the known variants among ids; unknown ones are
	// left out.
	Variants(ctx context.Context, ids []string) ([]catalogVariant, error)
}

// pricer turns stored carts into priced UCP carts.
type pricer struct {
	catalog catalog
	idleTTL time.Duration
	now     func() time.Time
}

// price reads the cart's variants from the catalog and builds the view:
// unit prices, line and cart totals, and a message for every line that
// can't be bought as it stands. The currency is that of the first line the
// catalog knows, or the one last stored when none is known.
func (p pricer) price(ctx context.Context, c Cart) (UCPCart, error) {
	ids := make([]string, len(c.Lines))
	for i, l := range c.Lines {
		ids[i] = l.VariantID
	}
	byID := map[string]catalogVariant{}
	if len(ids) > 0 {
		vs, err := p.catalog.Variants(ctx, ids)
		if err != nil {
			return UCPCart{}, fmt.Errorf("price cart %s: %w", c.ID, err)
		}
		for _, v := range vs {
			byID[v.ID] = v
		}
	}
	out := UCPCart{ID: c.ID, Status: c.idleStatus(p.now(), p.idleTTL), Currency: c.Currency, LineItems: make([]UCPLineItem, len(c.Lines))}
	for _, l := range c.Lines {
		if v, ok := byID[l.VariantID]; ok {
			out.Currency = v.Currency
			break
		}
	}
	if c.Buyer != (Buyer{}) {
		b := c.Buyer
		out.Buyer = &b
	}
	if out.Status == StatusActive {
		out.ExpiresAt = c.UpdatedAt.Add(p.idleTTL).UTC().Format(time.RFC3339)
	}
	var subtotal int64
	for i, l := range c.Lines {
		v, known := byID[l.VariantID]
		li := UCPLineItem{ID: l.ID, Item: UCPItem{ID: l.VariantID}, Quantity: l.Quantity}
		if known {
			li.Item.Title, li.Item.Price, li.Item.ImageURL = variantTitle(v), v.Price, v.ImageURL
		}
		msg, buyable := lineMessage(i, l, v, known, out.Currency)
		if msg != nil {
			out.Messages = append(out.Messages, *msg)
		}
		var amount int64
		if buyable {
			amount = v.Price * l.Quantity // bounded: quantity ≤ maxQuantity, prices far below 2^63/maxQuantity
			subtotal += amount
		}
		li.Totals = lineTotals(amount)
		out.LineItems[i] = li
	}
	out.Totals = []UCPTotal{
		{Type: "subtotal", DisplayText: "Subtotal", Amount: subtotal},
		{Type: "total", DisplayText: "Estimated total", Amount: subtotal},
	}
	return out, nil
}

func lineTotals(amount int64) []UCPTotal {
	return []UCPTotal{{Type: "subtotal", Amount: amount}, {Type: "total", Amount: amount}}
}

func variantTitle(v catalogVariant) string {
	if v.Title == "" || v.Title == "Default" {
		return v.ProductTitle
	}
	return v.ProductTitle + " — " + v.Title
}

// lineMessage reports what stops line i from being bought as it is, and
// whether it counts in the totals: lines that can't be bought at all don't,
// lines with too little stock do (the agent is expected to lower the
// quantity).
func lineMessage(i int, l Line, v catalogVariant, known bool, currency string) (*UCPMessage, bool) {
	linePath := fmt.Sprintf("$.line_items[%d]", i)
	unavailable := func(content string) (*UCPMessage, bool) {
		return &UCPMessage{Type: "error", Code: codeItemUnavailable, Path: linePath, Severity: "recoverable", Content: content}, false
	}
	switch {
	case !known:
		return unavailable(fmt.Sprintf("item %s is not in the catalog; remove this line or replace it with a variant ID from search_catalog", l.VariantID))
	case v.Status != "active":
		return unavailable(fmt.Sprintf("%s is no longer sold; remove this line or choose another product", variantTitle(v)))
	case v.Currency != currency:
		return unavailable(fmt.Sprintf("%s is priced in %s, not the cart's %s; remove this line", variantTitle(v), v.Currency, currency))
	case v.Available <= 0:
		return &UCPMessage{Type: "error", Code: codeOutOfStock, Path: linePath + ".quantity", Severity: "recoverable",
			Content: fmt.Sprintf("%s is out of stock; remove this line or try again later", variantTitle(v))}, true
	case v.Available < l.Quantity:
		return &UCPMessage{Type: "error", Code: codeInsufficientStock, Path: linePath + ".quantity", Severity: "recoverable",
			Content: fmt.Sprintf("only %d of %s available; lower the quantity to %d or less", v.Available, variantTitle(v), v.Available)}, true
	}
	return nil, true
}
