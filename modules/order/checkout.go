// Package order is commerce.order: checkout sessions, the checkout saga
// that turns one into an order (hold the checkout → reserve stock → create
// order → authorize payment → commit stock → confirm, compensated in
// reverse on failure), and the order lifecycle, whose capture and refunds
// also run as workflows. It reaches the catalog and the cart through
// interfaces it declares, and the inventory through workflow steps by ID.
package order

import (
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// CheckoutStatus is UCP's checkout status.
type CheckoutStatus string

const (
	CheckoutIncomplete         CheckoutStatus = "incomplete"
	CheckoutReady              CheckoutStatus = "ready_for_complete"
	CheckoutInProgress         CheckoutStatus = "complete_in_progress"
	CheckoutCompleted          CheckoutStatus = "completed"
	CheckoutCanceled           CheckoutStatus = "canceled"
	CheckoutRequiresEscalation CheckoutStatus = "requires_escalation"
)

// open reports whether the buyer may still change the checkout.
func (s CheckoutStatus) open() bool {
	return s == CheckoutIncomplete || s == CheckoutReady || s == CheckoutRequiresEscalation
}

// OwnerKind says who a checkout or order belongs to.
type OwnerKind string

// OwnerCustomer is the only kind created: a shopper by customer ID.
const OwnerCustomer OwnerKind = "customer"

// Events this module emits.
const (
	EventCheckoutCreated   = "checkout.created"
	EventCheckoutUpdated   = "checkout.updated"
	EventCheckoutCanceled  = "checkout.canceled"
	EventCheckoutCompleted = "checkout.completed"
	EventOrderPlaced       = "order.placed"
	EventOrderCanceled     = "order.canceled"
	EventOrderFulfilled    = "order.fulfilled"
	EventOrderRefunded     = "order.refunded"
	EventPaymentAuthorized = "payment.authorized"
	EventPaymentVoided     = "payment.voided"
	EventPaymentCaptured   = "payment.captured"
	EventPaymentRefunded   = "payment.refunded"
)

// CheckoutEvent is the data of checkout.* events.
type CheckoutEvent struct {
	CheckoutID string         `json:"checkout_id"`
	Status     CheckoutStatus `json:"status"`
}

// OrderPlacedEvent is the data of order.placed; the cart module marks the
// cart completed on it.
type OrderPlacedEvent struct {
	OrderID    string `json:"order_id"`
	CartID     string `json:"cart_id"`
	CheckoutID string `json:"checkout_id"`
}

// OrderEvent is the data of the other order.* and payment.* events.
type OrderEvent struct {
	OrderID string      `json:"order_id"`
	Status  OrderStatus `json:"status"`
	Amount  int64       `json:"amount,omitempty"`
}

// Line is one priced line of a checkout or order. The price is the
// catalog's when the checkout last changed.
type Line struct {
	ID        string `json:"id"`
	VariantID string `json:"variant_id"`
	Title     string `json:"title"`
	Price     int64  `json:"price"`
	ImageURL  string `json:"image_url,omitempty"`
	Quantity  int64  `json:"quantity"`
	// Refunded is how many units were refunded (orders only).
	Refunded int64 `json:"refunded,omitempty"`
}

// Buyer is UCP shopping/types/buyer.json.
type Buyer struct {
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty" jsonschema:"E.164, e.g. +14155550123"`
}

// Address is UCP common/types/postal_address.json.
type Address struct {
	FirstName       string `json:"first_name,omitempty"`
	LastName        string `json:"last_name,omitempty"`
	StreetAddress   string `json:"street_address,omitempty" jsonschema:"street and number"`
	ExtendedAddress string `json:"extended_address,omitempty" jsonschema:"apartment, suite, floor"`
	Locality        string `json:"address_locality,omitempty" jsonschema:"city"`
	Region          string `json:"address_region,omitempty" jsonschema:"state or province code, e.g. CA"`
	Country         string `json:"address_country,omitempty" jsonschema:"ISO 3166-1 alpha-2 country code, e.g. US"`
	PostalCode      string `json:"postal_code,omitempty"`
}

// Checkout is the stored checkout session.
type Checkout struct {
	ID                string
	OwnerKind         OwnerKind
	CustomerID        string
	CartID            string
	Status            CheckoutStatus
	Currency          string
	Lines             []Line
	Buyer             Buyer
	Shipping          Address
	FulfillmentOption string
	PaymentToken      string
	OrderID           string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// owner is the customer a new checkout created by p belongs to. Only a
// shopper buys: the checkout operations admit merchants (shopper access),
// who may read every checkout and order but have no customer to buy for,
// so they are refused here with the way out.
func owner(p mdk.Principal) (string, error) {
	if p.IsShopper() && p.CustomerID != "" {
		return p.CustomerID, nil
	}
	return "", mdk.Errorf(mdk.CodeForbidden, "checkouts belong to shoppers: call create_checkout with a shopper API key (merchants can read checkouts but not buy)")
}

// ownedBy reports whether p owns something of kind/customer and may change
// it: the shopper whose customer ID it carries. Rows of the retired
// "anonymous" kind (from before buying needed a shopper key) have no owner
// any more; merchants can still read them.
func ownedBy(p mdk.Principal, kind OwnerKind, customer string) bool {
	return kind == OwnerCustomer && p.IsShopper() && p.CustomerID != "" && p.CustomerID == customer
}

func readableBy(p mdk.Principal, kind OwnerKind, customer string) bool {
	return p.IsMerchant() || ownedBy(p, kind, customer)
}

// errNoCheckout is what anyone who may not see a checkout gets, whether or
// not it exists.
func errNoCheckout(id string) *mdk.Error {
	e := mdk.NotFound("no checkout %q: check the ID, or start one with create_checkout", id)
	e.Field = "id"
	return e
}

// ID prefixes; checkout and order IDs carry 160 random bits so they can't
// be guessed or enumerated, whatever the access checks.
const (
	prefixCheckout = "chk_"
	prefixOrder    = "ord_"
	prefixLine     = "li_"
	secretIDBytes  = 20
	lineIDBytes    = 8
)

// itemsTotal is the sum of price × quantity over lines.
func itemsTotal(lines []Line) int64 {
	var sum int64
	for _, l := range lines {
		sum += l.Price * l.Quantity
	}
	return sum
}
