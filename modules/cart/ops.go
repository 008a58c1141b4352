package cart

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// maxQuantity bounds one line's quantity, which also keeps price ×
// quantity far from int64 overflow.
const maxQuantity = 10_000

// ItemRef names what a line buys (UCP item.json request shape).
type ItemRef struct {
	ID string `json:"id" jsonschema:"variant ID (var_...) from search_catalog, lookup_catalog or get_product"`
}

// LineItemInput is a UCP line item in a request.
type LineItemInput struct {
	ID       string  `json:"id,omitempty" jsonschema:"update_cart only: the ID of an existing line to keep; omit for a new line"`
	Item     ItemRef `json:"item"`
	Quantity int64   `json:"quantity" jsonschema:"how many, 1 or more"`
}

// CreateCartInput is create_cart's input: UCP cart.json request fields.
type CreateCartInput struct {
	LineItems []LineItemInput `json:"line_items,omitempty" jsonschema:"items to start with; may be empty"`
	Buyer     *Buyer          `json:"buyer,omitempty" jsonschema:"optional buyer details"`
}

// Validate checks the lines.
func (in CreateCartInput) Validate() error { return validateLines(in.LineItems, false) }

// CartIDInput names a cart.
type CartIDInput struct {
	ID string `json:"id" jsonschema:"cart ID (cart_...)"`
}

// Validate requires the ID.
func (in CartIDInput) Validate() error { return requireID("id", in.ID) }

// UpdateCartInput is update_cart's input.
type UpdateCartInput struct {
	ID        string          `json:"id" jsonschema:"cart ID (cart_...)"`
	LineItems []LineItemInput `json:"line_items" jsonschema:"the cart's complete new contents: lines left out are removed; an empty list empties the cart"`
	Buyer     *Buyer          `json:"buyer,omitempty" jsonschema:"replaces the buyer details when given"`
}

// Validate checks the ID and the lines.
func (in UpdateCartInput) Validate() error {
	return errors.Join(requireID("id", in.ID), validateLines(in.LineItems, true))
}

// AddLineInput is add_cart_line's input.
type AddLineInput struct {
	CartID   string `json:"cart_id" jsonschema:"cart ID (cart_...)"`
	ItemID   string `json:"item_id" jsonschema:"variant ID (var_...) to add"`
	Quantity int64  `json:"quantity" jsonschema:"how many to add, 1 or more; added to the line when the variant is already in the cart"`
}

// Validate checks the fields.
func (in AddLineInput) Validate() error {
	return errors.Join(requireID("cart_id", in.CartID), requireID("item_id", in.ItemID), validQuantity("quantity", in.Quantity))
}

// LineQuantityInput is change_cart_line_quantity's input.
type LineQuantityInput struct {
	CartID   string `json:"cart_id" jsonschema:"cart ID (cart_...)"`
	LineID   string `json:"line_id" jsonschema:"line ID (li_...) from the cart's line_items"`
	Quantity int64  `json:"quantity" jsonschema:"the new quantity, 1 or more; use remove_cart_line to remove the line"`
}

// Validate checks the fields.
func (in LineQuantityInput) Validate() error {
	return errors.Join(requireID("cart_id", in.CartID), requireID("line_id", in.LineID), validQuantity("quantity", in.Quantity))
}

// RemoveLineInput is remove_cart_line's input.
type RemoveLineInput struct {
	CartID string `json:"cart_id" jsonschema:"cart ID (cart_...)"`
	LineID string `json:"line_id" jsonschema:"line ID (li_...) to remove"`
}

// Validate checks the fields.
func (in RemoveLineInput) Validate() error {
	return errors.Join(requireID("cart_id", in.CartID), requireID("line_id", in.LineID))
}

func requireID(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return mdk.Invalid(field, "required")
	}
	return nil
}

func validQuantity(field string, q int64) error {
	if q < 1 || q > maxQuantity {
		return mdk.Invalid(field, "quantity must be between 1 and %d, got %d; to remove a line leave it out", maxQuantity, q)
	}
	return nil
}

// validateLines checks each line on its own and that no variant appears
// twice (one line per variant keeps stock messages unambiguous). Line IDs
// are accepted only by update_cart.
func validateLines(lines []LineItemInput, allowIDs bool) error {
	var errs []error
	seen := map[string]int{}
	for i, l := range lines {
		at := fmt.Sprintf("line_items[%d]", i)
		if l.ID != "" && !allowIDs {
			errs = append(errs, mdk.Invalid(at+".id", "a new cart has no lines yet; leave id out"))
		}
		if strings.TrimSpace(l.Item.ID) == "" {
			errs = append(errs, mdk.Invalid(at+".item.id", "required: the variant ID to buy"))
		} else if j, dup := seen[l.Item.ID]; dup {
			errs = append(errs, mdk.Invalid(at+".item.id", "item %s is already on line_items[%d]; set the quantity there instead", l.Item.ID, j))
		} else {
			seen[l.Item.ID] = i
		}
		errs = append(errs, validQuantity(at+".quantity", l.Quantity))
	}
	return errors.Join(errs...)
}

// ops holds what the operation handlers share.
type ops struct {
	store    *store
	pricer   pricer
	maxLines int
}

func (o *ops) checkLineCount(field string, n int) error {
	if n > o.maxLines {
		return mdk.Invalid(field, "a cart holds at most %d lines, this would make %d; remove some first", o.maxLines, n)
	}
	return nil
}

// view prices c and remembers its currency when the catalog gave one.
func (o *ops) view(ctx context.Context, c Cart) (UCPCart, error) {
	v, err := o.pricer.price(ctx, c)
	if err != nil {
		return UCPCart{}, err
	}
	if v.Currency != "" && v.Currency != c.Currency {
		if err := o.store.rememberCurrency(ctx, c.ID, v.Currency); err != nil {
			return UCPCart{}, err
		}
	}
	return v, nil
}

// newLines turns request lines into cart lines, keeping the IDs of lines
// that exist in old.
func newLines(in []LineItemInput, old []Line) ([]Line, error) {
	known := map[string]bool{}
	for _, l := range old {
		known[l.ID] = true
	}
	out := make([]Line, 0, len(in))
	for i, l := range in {
		id := l.ID
		if id == "" {
			var err error
			if id, err = mdk.SecretID(prefixLine, lineIDBytes); err != nil {
				return nil, err
			}
		} else if !known[id] {
			return nil, mdk.Invalid(fmt.Sprintf("line_items[%d].id", i), "the cart has no line %q; omit id to add a new line", id)
		}
		out = append(out, Line{ID: id, VariantID: l.Item.ID, Quantity: l.Quantity})
	}
	return out, nil
}

func (o *ops) createCart(ctx context.Context, in CreateCartInput) (UCPCart, error) {
	if err := o.checkLineCount("line_items", len(in.LineItems)); err != nil {
		return UCPCart{}, err
	}
	lines, err := newLines(in.LineItems, nil)
	if err != nil {
		return UCPCart{}, err
	}
	var buyer Buyer
	if in.Buyer != nil {
		buyer = *in.Buyer
	}
	c, err := o.store.create(ctx, mdk.PrincipalFrom(ctx), lines, buyer)
	if err != nil {
		return UCPCart{}, err
	}
	return o.view(ctx, c)
}

func (o *ops) getCart(ctx context.Context, in CartIDInput) (UCPCart, error) {
	c, err := o.store.get(ctx, mdk.PrincipalFrom(ctx), in.ID)
	if err != nil {
		return UCPCart{}, err
	}
	return o.pricer.price(ctx, c)
}

// change runs fn on active cart id as its owner and returns the priced
// result.
func (o *ops) change(ctx context.Context, id, event string, fn func(*Cart) error) (UCPCart, error) {
	c, err := o.store.update(ctx, mdk.PrincipalFrom(ctx), id, event, fn)
	if err != nil {
		return UCPCart{}, err
	}
	return o.view(ctx, c)
}

func (o *ops) updateCart(ctx context.Context, in UpdateCartInput) (UCPCart, error) {
	if err := o.checkLineCount("line_items", len(in.LineItems)); err != nil {
		return UCPCart{}, err
	}
	return o.change(ctx, in.ID, EventCartUpdated, func(c *Cart) error {
		lines, err := newLines(in.LineItems, c.Lines)
		if err != nil {
			return err
		}
		c.Lines = lines
		if in.Buyer != nil {
			c.Buyer = *in.Buyer
		}
		return nil
	})
}

func (o *ops) cancelCart(ctx context.Context, in CartIDInput) (UCPCart, error) {
	// Canceling a canceled cart returns it unchanged, so a retried cancel
	// succeeds; any other inactive cart can't be canceled.
	c, err := o.store.get(ctx, mdk.PrincipalFrom(ctx), in.ID)
	if err == nil && c.Status == StatusCanceled && c.ownedBy(mdk.PrincipalFrom(ctx)) {
		return o.pricer.price(ctx, c)
	}
	return o.change(ctx, in.ID, EventCartCanceled, func(c *Cart) error {
		c.Status = StatusCanceled
		return nil
	})
}

func (o *ops) addLine(ctx context.Context, in AddLineInput) (UCPCart, error) {
	return o.change(ctx, in.CartID, EventCartUpdated, func(c *Cart) error {
		for i := range c.Lines {
			if c.Lines[i].VariantID == in.ItemID {
				q := c.Lines[i].Quantity + in.Quantity
				if err := validQuantity("quantity", q); err != nil {
					return err
				}
				c.Lines[i].Quantity = q
				return nil
			}
		}
		if err := o.checkLineCount("item_id", len(c.Lines)+1); err != nil {
			return err
		}
		id, err := mdk.SecretID(prefixLine, lineIDBytes)
		if err != nil {
			return err
		}
		c.Lines = append(c.Lines, Line{ID: id, VariantID: in.ItemID, Quantity: in.Quantity})
		return nil
	})
}

// lineIndex finds line id in c, or says where to look for line IDs.
func lineIndex(c *Cart, id string) (int, error) {
	for i, l := range c.Lines {
		if l.ID == id {
			return i, nil
		}
	}
	e := mdk.NotFound("cart %s has no line %q; get_cart lists the line IDs", c.ID, id)
	e.Field = "line_id"
	return 0, e
}

func (o *ops) changeQuantity(ctx context.Context, in LineQuantityInput) (UCPCart, error) {
	return o.change(ctx, in.CartID, EventCartUpdated, func(c *Cart) error {
		i, err := lineIndex(c, in.LineID)
		if err != nil {
			return err
		}
		c.Lines[i].Quantity = in.Quantity
		return nil
	})
}

func (o *ops) removeLine(ctx context.Context, in RemoveLineInput) (UCPCart, error) {
	return o.change(ctx, in.CartID, EventCartUpdated, func(c *Cart) error {
		i, err := lineIndex(c, in.LineID)
		if err != nil {
			return err
		}
		c.Lines = append(c.Lines[:i], c.Lines[i+1:]...)
		return nil
	})
}

// capCart is the UCP capability of the cart methods.
const capCart = "dev.ucp.shopping.cart"

func (o *ops) register(r *mdk.Registry) error {
	const shape = " Returns the cart: line items with catalog titles and unit prices, totals in minor units (2500 is 25.00), and messages for lines that can't be bought as they are (fix them before checkout)."
	return errors.Join(
		mdk.Register(r, mdk.Operation[CreateCartInput, UCPCart]{
			Name: "create_cart",
			Description: "Create a shopping cart, optionally with line items (variant ID and quantity each). " +
				"Needs a shopper API key; the cart belongs to that shopper. Carts left unchanged too long expire." + shape,
			Access: mdk.AccessShopper, Effect: mdk.EffectWrite,
			UCP:    &mdk.UCPMethod{Capability: capCart, Object: "cart"},
			Handle: o.createCart,
		}),
		mdk.Register(r, mdk.Operation[CartIDInput, UCPCart]{
			Name:        "get_cart",
			Description: "Get a cart by ID with current catalog prices and availability." + shape,
			Access:      mdk.AccessShopper, Effect: mdk.EffectRead, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCart, IDParam: true, Resource: "carts"},
			Handle: o.getCart,
		}),
		mdk.Register(r, mdk.Operation[UpdateCartInput, UCPCart]{
			Name: "update_cart",
			Description: "Replace a cart's contents: line_items is the complete new list (lines left out are removed; pass a line's id to keep it). " +
				"Use it to change quantities, add or drop items in one call." + shape,
			Access: mdk.AccessShopper, Effect: mdk.EffectWrite, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCart, Object: "cart", IDParam: true},
			Handle: o.updateCart,
		}),
		mdk.Register(r, mdk.Operation[CartIDInput, UCPCart]{
			Name:        "cancel_cart",
			Description: "Cancel a cart the buyer no longer wants; it can't be changed or checked out afterwards. Canceling twice is harmless." + shape,
			Access:      mdk.AccessShopper, Effect: mdk.EffectDestructive, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCart, IDParam: true},
			Handle: o.cancelCart,
		}),
		mdk.Register(r, mdk.Operation[AddLineInput, UCPCart]{
			Name:        "add_cart_line",
			Description: "Add a quantity of one variant to a cart; if the variant is already in the cart its line's quantity grows." + shape,
			Access:      mdk.AccessShopper, Effect: mdk.EffectWrite,
			Handle: o.addLine,
		}),
		mdk.Register(r, mdk.Operation[LineQuantityInput, UCPCart]{
			Name:        "change_cart_line_quantity",
			Description: "Set the quantity of one cart line (by line ID) to a new absolute value." + shape,
			Access:      mdk.AccessShopper, Effect: mdk.EffectWrite, Idempotent: true,
			Handle: o.changeQuantity,
		}),
		mdk.Register(r, mdk.Operation[RemoveLineInput, UCPCart]{
			Name:        "remove_cart_line",
			Description: "Remove one line (by line ID) from a cart." + shape,
			Access:      mdk.AccessShopper, Effect: mdk.EffectDestructive, Idempotent: true,
			Handle: o.removeLine,
		}),
	)
}
