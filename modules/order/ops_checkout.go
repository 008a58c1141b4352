package order

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/idempotency"
)

// Limits on one checkout.
const (
	maxQuantity = 10_000
	maxLines    = 100
)

// ItemRef names what a line buys.
type ItemRef struct {
	ID string `json:"id" jsonschema:"variant ID (var_...)"`
}

// LineItemInput is a UCP line item in a request.
type LineItemInput struct {
	Item     ItemRef `json:"item"`
	Quantity int64   `json:"quantity" jsonschema:"how many, 1 or more"`
}

// CreateCheckoutInput is create_checkout's input: a cart or line items.
type CreateCheckoutInput struct {
	CartID    string          `json:"cart_id,omitempty" jsonschema:"the cart (cart_...) to check out; give this or line_items"`
	LineItems []LineItemInput `json:"line_items,omitempty" jsonschema:"items to buy when not checking out a cart"`
	Buyer     *Buyer          `json:"buyer,omitempty"`
}

// Validate requires exactly one source of lines and checks the lines.
func (in CreateCheckoutInput) Validate() error {
	switch {
	case in.CartID == "" && len(in.LineItems) == 0:
		return mdk.Invalid("cart_id", "give a cart_id or line_items")
	case in.CartID != "" && len(in.LineItems) > 0:
		return mdk.Invalid("line_items", "give a cart_id or line_items, not both")
	case len(in.LineItems) > maxLines:
		return mdk.Invalid("line_items", "a checkout holds at most %d lines", maxLines)
	}
	var errs []error
	seen := map[string]int{}
	for i, l := range in.LineItems {
		if strings.TrimSpace(l.Item.ID) == "" {
			errs = append(errs, mdk.Invalid(lineField(i, "item.id"), "required: the variant ID to buy"))
		} else if j, dup := seen[l.Item.ID]; dup {
			errs = append(errs, mdk.Invalid(lineField(i, "item.id"), "item %s is already on line_items[%d]; set the quantity there", l.Item.ID, j))
		} else {
			seen[l.Item.ID] = i
		}
		if l.Quantity < 1 || l.Quantity > maxQuantity {
			errs = append(errs, mdk.Invalid(lineField(i, "quantity"), "must be between 1 and %d, got %d", maxQuantity, l.Quantity))
		}
	}
	return errors.Join(errs...)
}

// CheckoutIDInput names a checkout.
type CheckoutIDInput struct {
	ID string `json:"id" jsonschema:"checkout ID (chk_...)"`
}

// Validate requires the ID.
func (in CheckoutIDInput) Validate() error { return requireField("id", in.ID) }

// UpdateCheckoutInput is update_checkout's input; fields left out keep
// their value.
type UpdateCheckoutInput struct {
	ID                  string   `json:"id" jsonschema:"checkout ID (chk_...)"`
	Buyer               *Buyer   `json:"buyer,omitempty" jsonschema:"replaces the buyer details"`
	ShippingAddress     *Address `json:"shipping_address,omitempty" jsonschema:"where to ship: street_address, address_locality, postal_code and address_country are required"`
	FulfillmentOptionID string   `json:"fulfillment_option_id,omitempty" jsonschema:"one of the checkout's fulfillment_options"`
	PaymentToken        string   `json:"payment_token,omitempty" jsonschema:"payment token from the payment handler (test store: tok_success, tok_decline, tok_escalate, tok_fail_capture)"`
}

var (
	emailPattern   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Validate checks the ID, the email and the address.
func (in UpdateCheckoutInput) Validate() error {
	errs := []error{requireField("id", in.ID)}
	if in.Buyer != nil && in.Buyer.Email != "" && !emailPattern.MatchString(in.Buyer.Email) {
		errs = append(errs, mdk.Invalid("buyer.email", "%q is not an email address", in.Buyer.Email))
	}
	if a := in.ShippingAddress; a != nil {
		for field, v := range map[string]string{"street_address": a.StreetAddress, "address_locality": a.Locality, "postal_code": a.PostalCode} {
			if strings.TrimSpace(v) == "" {
				errs = append(errs, mdk.Invalid("shipping_address."+field, "required"))
			}
		}
		if !countryPattern.MatchString(a.Country) {
			errs = append(errs, mdk.Invalid("shipping_address.address_country", "want an ISO 3166-1 alpha-2 code in capitals such as US, got %q", a.Country))
		}
	}
	return errors.Join(errs...)
}

// CancelCheckoutInput is cancel_checkout's input.
type CancelCheckoutInput struct {
	ID             string `json:"id" jsonschema:"checkout ID (chk_...)"`
	IdempotencyKey string `json:"idempotency_key" jsonschema:"a unique key per cancel request, so a retry is harmless"`
}

// Validate requires both fields.
func (in CancelCheckoutInput) Validate() error {
	return errors.Join(requireField("id", in.ID), requireField("idempotency_key", in.IdempotencyKey))
}

func requireField(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return mdk.Invalid(field, "required")
	}
	return nil
}

// ops holds what the operation handlers share.
type ops struct {
	store    *store
	catalog  catalog
	carts    carts
	cfg      config
	payments Provider
	engine   mdk.WorkflowEngine
	idem     *idempotency.Store
	saga     *checkoutSaga
	money    moneyWorkflows
}

// priceLines builds priced lines from variant IDs and quantities: every
// variant must exist, be active and share one currency. field names the
// request field of line i.
func (o *ops) priceLines(ctx context.Context, ids []string, qty []int64, field func(i int) string) ([]Line, string, error) {
	vs, err := o.catalog.Variants(ctx, ids)
	if err != nil {
		return nil, "", fmt.Errorf("price checkout lines: %w", err)
	}
	byID := make(map[string]catalogVariant, len(vs))
	for _, v := range vs {
		byID[v.ID] = v
	}
	var (
		lines    = make([]Line, len(ids))
		currency string
		errs     []error
	)
	for i, id := range ids {
		v, ok := byID[id]
		if !ok || v.Status != "active" {
			e := mdk.Invalid(field(i), "item %s is unknown or no longer sold; remove it", id)
			errs = append(errs, e)
			continue
		}
		if currency == "" {
			currency = v.Currency
		} else if v.Currency != currency {
			errs = append(errs, mdk.Invalid(field(i), "item %s is priced in %s, the checkout in %s; check them out separately", id, v.Currency, currency))
		}
		lid, err := mdk.SecretID(prefixLine, lineIDBytes)
		if err != nil {
			return nil, "", err
		}
		title := v.ProductTitle
		if v.Title != "" && v.Title != v.ProductTitle {
			title += " - " + v.Title
		}
		lines[i] = Line{ID: lid, VariantID: id, Title: title, Price: v.Price, ImageURL: v.ImageURL, Quantity: qty[i]}
	}
	return lines, currency, errors.Join(errs...)
}

func (o *ops) createCheckout(ctx context.Context, in CreateCheckoutInput) (UCPCheckout, error) {
	customer, err := owner(mdk.PrincipalFrom(ctx))
	if err != nil {
		return UCPCheckout{}, err
	}
	var (
		ids   []string
		qty   []int64
		field = func(i int) string { return lineField(i, "item.id") }
	)
	if in.CartID != "" {
		cl, err := o.carts.Lines(ctx, in.CartID)
		if err != nil {
			if e := mdk.AsError(err); e.Code == mdk.CodeNotFound || e.Code == mdk.CodeConflict {
				e.Field = "cart_id"
			}
			return UCPCheckout{}, err
		}
		for _, l := range cl.Lines {
			ids, qty = append(ids, l.VariantID), append(qty, l.Quantity)
		}
		field = func(int) string { return "cart_id" }
	} else {
		for _, l := range in.LineItems {
			ids, qty = append(ids, l.Item.ID), append(qty, l.Quantity)
		}
	}
	lines, currency, err := o.priceLines(ctx, ids, qty, field)
	if err != nil {
		return UCPCheckout{}, err
	}
	id, err := mdk.SecretID(prefixCheckout, secretIDBytes)
	if err != nil {
		return UCPCheckout{}, err
	}
	now := o.store.now().UTC()
	c := Checkout{ID: id, OwnerKind: OwnerCustomer, CustomerID: customer, CartID: in.CartID, Status: CheckoutIncomplete,
		Currency: currency, Lines: lines, CreatedAt: now, UpdatedAt: now}
	if in.Buyer != nil {
		c.Buyer = *in.Buyer
	}
	settle(&c)
	if err := o.store.insertCheckout(ctx, c); err != nil {
		return UCPCheckout{}, fmt.Errorf("create checkout: %w", err)
	}
	return o.cfg.view(c), nil
}

func (o *ops) getCheckout(ctx context.Context, in CheckoutIDInput) (UCPCheckout, error) {
	c, err := o.store.getCheckout(ctx, o.store.db, mdk.PrincipalFrom(ctx), in.ID, "")
	if err != nil {
		return UCPCheckout{}, err
	}
	return o.cfg.view(c), nil
}

func errClosed(c Checkout) error {
	return mdk.Errorf(mdk.CodeConflict, "checkout %s is %s and can no longer change", c.ID, c.Status)
}

func (o *ops) updateCheckout(ctx context.Context, in UpdateCheckoutInput) (UCPCheckout, error) {
	if in.FulfillmentOptionID != "" {
		if _, ok := o.cfg.shippingOption(in.FulfillmentOptionID); !ok {
			return UCPCheckout{}, mdk.Invalid("fulfillment_option_id", "no shipping option %q; pick one of the checkout's fulfillment_options", in.FulfillmentOptionID)
		}
	}
	c, err := o.store.updateCheckout(ctx, mdk.PrincipalFrom(ctx), in.ID, EventCheckoutUpdated, func(c *Checkout) error {
		if !c.Status.open() {
			return errClosed(*c)
		}
		if in.Buyer != nil {
			c.Buyer = *in.Buyer
		}
		if in.ShippingAddress != nil {
			c.Shipping = *in.ShippingAddress
		}
		if in.FulfillmentOptionID != "" {
			c.FulfillmentOption = in.FulfillmentOptionID
		}
		if in.PaymentToken != "" {
			c.PaymentToken = in.PaymentToken
			// A new payment method is a fresh attempt after escalation.
			if c.Status == CheckoutRequiresEscalation {
				c.Status = CheckoutIncomplete
			}
		}
		settle(c)
		return nil
	})
	if err != nil {
		return UCPCheckout{}, err
	}
	return o.cfg.view(c), nil
}

func (o *ops) cancelCheckout(ctx context.Context, in CancelCheckoutInput) (UCPCheckout, error) {
	c, err := o.store.updateCheckout(ctx, mdk.PrincipalFrom(ctx), in.ID, EventCheckoutCanceled, func(c *Checkout) error {
		// Canceling twice returns the canceled checkout, so a retry
		// succeeds.
		if !c.Status.open() && c.Status != CheckoutCanceled {
			return errClosed(*c)
		}
		c.Status = CheckoutCanceled
		return nil
	})
	if err != nil {
		return UCPCheckout{}, err
	}
	return o.cfg.view(c), nil
}
