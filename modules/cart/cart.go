// Package cart is commerce.cart: shopping carts, each owned by the
// authenticated shopper who created it (anonymous callers may only browse
// the catalog). A cart
// stores only what the buyer chose (variant and quantity per line); titles,
// prices, stock and totals come from the catalog each time the cart is
// read, so a cart never shows a stale price. Problems with a line (an
// unknown or archived variant, too little stock) are reported as UCP
// messages on the cart rather than as failures, so an agent can fix them.
package cart

import (
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// Status is where a cart is in its life. Only an active cart can change or
// be checked out.
type Status string

const (
	StatusActive    Status = "active"
	StatusCanceled  Status = "canceled"
	StatusExpired   Status = "expired"
	StatusCompleted Status = "completed"
)

// OwnerKind says who a cart belongs to.
type OwnerKind string

const (
	// OwnerCustomer: the shopper whose customer ID is on the cart. It is
	// the only kind created; rows of the retired "anonymous" kind (from
	// before carts needed a shopper key) are readable by merchants only.
	OwnerCustomer OwnerKind = "customer"
)

// Event types this module emits through its outbox.
const (
	EventCartCreated  = "cart.created"
	EventCartUpdated  = "cart.updated"
	EventCartCanceled = "cart.canceled"
)

// EventOrderPlaced is the event of commerce.order this module consumes:
// the cart an order was placed from is marked completed so it cannot be
// checked out twice. Its data is OrderPlacedEvent.
const EventOrderPlaced = "order.placed"

// CartEvent is the data of cart.* events.
type CartEvent struct {
	CartID    string    `json:"cart_id"`
	OwnerKind OwnerKind `json:"owner_kind"`
}

// OrderPlacedEvent is the part of order.placed data the cart reads:
// {"order_id","cart_id","checkout_id"}. An order not placed from a cart has
// no cart_id and is ignored.
type OrderPlacedEvent struct {
	OrderID    string `json:"order_id"`
	CartID     string `json:"cart_id"`
	CheckoutID string `json:"checkout_id"`
}

// Cart is the stored aggregate.
type Cart struct {
	ID         string
	OwnerKind  OwnerKind
	CustomerID string // set for OwnerCustomer
	Status     Status
	Lines      []Line
	Buyer      Buyer
	// Currency is the catalog currency last seen for the cart's lines.
	Currency  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Line is one chosen variant and how many of it.
type Line struct {
	ID        string `json:"id"`
	VariantID string `json:"variant_id"`
	Quantity  int64  `json:"quantity"`
}

// Buyer is UCP shopping/types/buyer.json: optional details for
// personalised estimates.
type Buyer struct {
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty" jsonschema:"E.164, e.g. +14155550123"`
}

// idleStatus is the status of c as seen at now: an active cart untouched
// for ttl reads as expired even before the sweeper has marked it.
func (c Cart) idleStatus(now time.Time, ttl time.Duration) Status {
	if c.Status == StatusActive && !now.Before(c.UpdatedAt.Add(ttl)) {
		return StatusExpired
	}
	return c.Status
}

// ID prefixes and the randomness of a cart ID.
const (
	prefixCart = "cart_"
	prefixLine = "li_"
	// cartIDBytes is 160 bits: IDs can't be guessed or enumerated, so
	// a leaked access check elsewhere still reveals no other cart.
	cartIDBytes = 20
	lineIDBytes = 8
)

// owner is the customer a new cart created by p belongs to. Only a
// shopper owns carts: the operations admit merchants (shopper access), who
// may read every cart but have no customer to buy for, so they are refused
// here with the way out.
func owner(p mdk.Principal) (string, error) {
	if p.IsShopper() && p.CustomerID != "" {
		return p.CustomerID, nil
	}
	return "", mdk.Errorf(mdk.CodeForbidden, "carts belong to shoppers: call create_cart with a shopper API key (merchants can read carts but not own them)")
}

// ownedBy reports whether p is the cart's owner and may change it.
func (c Cart) ownedBy(p mdk.Principal) bool {
	return c.OwnerKind == OwnerCustomer && p.IsShopper() && p.CustomerID != "" && p.CustomerID == c.CustomerID
}

// readableBy reports whether p may see the cart: its owner, or a merchant.
func (c Cart) readableBy(p mdk.Principal) bool {
	return c.ownedBy(p) || p.IsMerchant()
}

// errNoCart is what anyone who may not see a cart gets, whether or not it
// exists, so IDs of other people's carts leak nothing.
func errNoCart(id string) *mdk.Error {
	e := mdk.NotFound("no cart %q: check the ID, or create a cart with create_cart", id)
	e.Field = "id"
	return e
}

// errNotActive says why a cart can no longer change.
func errNotActive(id string, s Status) *mdk.Error {
	switch s {
	case StatusCompleted:
		return mdk.Errorf(mdk.CodeConflict, "cart %s was checked out and is completed; create a new cart with create_cart", id)
	case StatusExpired:
		return mdk.Errorf(mdk.CodeConflict, "cart %s expired after being left idle; create a new cart with create_cart", id)
	default:
		return mdk.Errorf(mdk.CodeConflict, "cart %s is %s; create a new cart with create_cart", id, s)
	}
}
