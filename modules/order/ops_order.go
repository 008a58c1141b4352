package order

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// UCPOrder is shopping/order.json. status, payment_status, refunded and
// placed_at are extensions.
type UCPOrder struct {
	ID            string             `json:"id"`
	CheckoutID    string             `json:"checkout_id"`
	PermalinkURL  string             `json:"permalink_url"`
	Status        OrderStatus        `json:"status" jsonschema:"pending, confirmed, fulfilled, delivered, canceled, refunded or partially_refunded"`
	PaymentStatus string             `json:"payment_status,omitempty" jsonschema:"authorized, captured or voided"`
	LineItems     []UCPOrderLineItem `json:"line_items"`
	Fulfillment   UCPFulfillment     `json:"fulfillment"`
	Currency      string             `json:"currency"`
	Totals        []UCPTotal         `json:"totals"`
	Refunded      int64              `json:"refunded,omitempty" jsonschema:"amount refunded so far, minor units"`
	PlacedAt      string             `json:"placed_at,omitempty" jsonschema:"RFC 3339"`
}

// UCPOrderLineItem is shopping/types/order_line_item.json.
type UCPOrderLineItem struct {
	ID       string           `json:"id"`
	Item     UCPItem          `json:"item"`
	Quantity UCPOrderQuantity `json:"quantity"`
	Totals   []UCPTotal       `json:"totals"`
	Status   string           `json:"status" jsonschema:"processing, fulfilled or removed (refunded)"`
}

// UCPOrderQuantity is the quantity of an order line.
type UCPOrderQuantity struct {
	Original  int64 `json:"original"`
	Total     int64 `json:"total"`
	Fulfilled int64 `json:"fulfilled"`
}

// UCPFulfillment is order.json's fulfillment.
type UCPFulfillment struct {
	Events []UCPFulfillmentEvent `json:"events,omitempty"`
}

// UCPFulfillmentEvent is shopping/types/fulfillment_event.json.
type UCPFulfillmentEvent struct {
	ID             string             `json:"id"`
	OccurredAt     string             `json:"occurred_at"`
	Type           string             `json:"type"`
	LineItems      []UCPFulfilledLine `json:"line_items"`
	TrackingNumber string             `json:"tracking_number,omitempty"`
}

// UCPFulfilledLine is a line of a fulfillment event.
type UCPFulfilledLine struct {
	ID       string `json:"id"`
	Quantity int64  `json:"quantity"`
}

func (c config) orderView(o Order) UCPOrder {
	shipped := o.TrackingNumber != ""
	out := UCPOrder{ID: o.ID, CheckoutID: o.CheckoutID, PermalinkURL: c.orderURL(o.ID), Status: o.Status,
		PaymentStatus: o.PaymentStatus, Currency: o.Currency, Totals: o.Totals, Refunded: o.Refunded,
		LineItems: make([]UCPOrderLineItem, len(o.Lines))}
	if !o.PlacedAt.IsZero() {
		out.PlacedAt = rfc3339(o.PlacedAt)
	}
	var event UCPFulfillmentEvent
	for i, l := range o.Lines {
		li := lineItems([]Line{l})[0]
		left := l.Quantity - l.Refunded
		ol := UCPOrderLineItem{ID: l.ID, Item: li.Item, Totals: li.Totals, Status: "processing",
			Quantity: UCPOrderQuantity{Original: l.Quantity, Total: left}}
		if left == 0 {
			ol.Status = "removed"
		} else if shipped {
			ol.Status, ol.Quantity.Fulfilled = "fulfilled", left
			event.LineItems = append(event.LineItems, UCPFulfilledLine{ID: l.ID, Quantity: left})
		}
		out.LineItems[i] = ol
	}
	if shipped && len(event.LineItems) > 0 {
		event.ID, event.Type, event.TrackingNumber = "ful_"+strings.TrimPrefix(o.ID, prefixOrder), "shipped", o.TrackingNumber
		event.OccurredAt = rfc3339(o.UpdatedAt)
		out.Fulfillment.Events = []UCPFulfillmentEvent{event}
	}
	return out
}

// OrderIDInput names an order.
type OrderIDInput struct {
	ID string `json:"id" jsonschema:"order ID (ord_...)"`
}

// Validate requires the ID.
func (in OrderIDInput) Validate() error { return requireField("id", in.ID) }

// FulfillInput is fulfill_order's input.
type FulfillInput struct {
	ID             string `json:"id" jsonschema:"order ID (ord_...)"`
	TrackingNumber string `json:"tracking_number" jsonschema:"the carrier's tracking number"`
}

// Validate requires both fields.
func (in FulfillInput) Validate() error {
	return errors.Join(requireField("id", in.ID), requireField("tracking_number", in.TrackingNumber))
}

// RefundLine refunds units of one order line.
type RefundLine struct {
	LineID   string `json:"line_id" jsonschema:"order line ID (li_...)"`
	Quantity int64  `json:"quantity" jsonschema:"units to refund, 1 or more"`
}

// RefundInput is refund_order's input. Only shipped orders are refunded
// (unshipped ones are canceled, which restocks everything), so the refunded
// units are with the buyer: they go back in stock only when Restock says
// they came back sellable.
type RefundInput struct {
	ID      string       `json:"id" jsonschema:"order ID (ord_...)"`
	Lines   []RefundLine `json:"lines,omitempty" jsonschema:"lines to refund; leave out to refund the whole order"`
	Restock bool         `json:"restock,omitempty" jsonschema:"true when the refunded units were returned and can be sold again: they go back in stock; default false, as a refunded order has shipped"`
}

// Validate checks the ID and quantities.
func (in RefundInput) Validate() error {
	errs := []error{requireField("id", in.ID)}
	if len(in.Lines) > maxLines {
		errs = append(errs, mdk.Invalid("lines", "give at most %d lines", maxLines))
	}
	for i, l := range in.Lines {
		errs = append(errs, requireField(fmt.Sprintf("lines[%d].line_id", i), l.LineID))
		if l.Quantity < 1 {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("lines[%d].quantity", i), "must be 1 or more"))
		}
	}
	return errors.Join(errs...)
}

func (o *ops) getOrder(ctx context.Context, in OrderIDInput) (UCPOrder, error) {
	ord, err := o.store.getOrder(ctx, o.store.db, mdk.PrincipalFrom(ctx), in.ID, "")
	if err != nil {
		return UCPOrder{}, err
	}
	return o.cfg.orderView(ord), nil
}

// cancelOrder runs the cancel workflow (void payment → restock → mark
// canceled) for an order its owner may still cancel.
func (o *ops) cancelOrder(ctx context.Context, in OrderIDInput) (UCPOrder, error) {
	p := mdk.PrincipalFrom(ctx)
	ord, err := o.store.getOrder(ctx, o.store.db, p, in.ID, "")
	if err != nil {
		return UCPOrder{}, err
	}
	if !ownedBy(p, ord.OwnerKind, ord.CustomerID) && !p.IsMerchant() {
		return UCPOrder{}, errNoOrder(in.ID)
	}
	if ord.Status == OrderCanceled {
		return o.cfg.orderView(ord), nil
	}
	if ord.Status == OrderPending {
		// A pending order belongs to its checkout saga, which confirms it
		// or cancels it itself; canceling here could race the saga's
		// confirmation and leave a canceled order paid and its stock sold.
		return UCPOrder{}, &mdk.Error{Code: mdk.CodeConflict, Retryable: true,
			Message: fmt.Sprintf("order %s is still being placed; retry in a moment", ord.ID)}
	}
	if !CanTransition(ord.Status, OrderCanceled) {
		return UCPOrder{}, mdk.Errorf(mdk.CodeConflict, "order %s is %s and can no longer be canceled; ask for a refund", ord.ID, ord.Status)
	}
	if _, err := mdk.ExecuteSync(ctx, o.engine, o.saga.cancel, orderRef{OrderID: ord.ID}, "cancel/"+ord.ID); err != nil {
		return UCPOrder{}, err
	}
	return o.getOrder(ctx, in)
}

// voidForCancel voids an authorized payment (payment.void) and returns the
// order's reservations for the restock that follows.
func (o *ops) voidForCancel(ctx context.Context, in orderRef) (cancelRef, error) {
	ord, err := o.store.getOrder(ctx, o.store.db, system, in.OrderID, "")
	if err != nil {
		return cancelRef{}, err
	}
	out := cancelRef{OrderID: ord.ID, ReservationIDs: ord.ReservationIDs}
	if ord.PaymentStatus != paymentAuthorized {
		return out, nil
	}
	return out, o.voidAuthorization(ctx, authorizeInput(in), Authorization{ID: ord.PaymentID, Amount: ord.Total})
}

// markCanceled moves the order to canceled with order.canceled
// (order.cancel).
func (o *ops) markCanceled(ctx context.Context, in orderRef) (orderRef, error) {
	_, err := o.store.transition(ctx, system, in.OrderID, OrderCanceled, true, func(tx *sqldb.Tx, ord *Order) error {
		return emit(ctx, o.store.outbox, tx, EventOrderCanceled, ord.ID, OrderEvent{OrderID: ord.ID, Status: OrderCanceled})
	})
	return in, err
}

// fulfillOrder captures the payment and marks the order shipped, through
// the fulfil workflow keyed by the order: concurrent or repeated calls
// capture once. Fulfilling again with the same tracking number returns the
// fulfilled order.
func (o *ops) fulfillOrder(ctx context.Context, in FulfillInput) (UCPOrder, error) {
	ord, err := o.store.getOrder(ctx, o.store.db, mdk.PrincipalFrom(ctx), in.ID, "")
	if err != nil {
		return UCPOrder{}, err
	}
	if ord.Status == OrderFulfilled && ord.TrackingNumber == in.TrackingNumber {
		return o.cfg.orderView(ord), nil
	}
	if !CanTransition(ord.Status, OrderFulfilled) {
		return UCPOrder{}, mdk.Errorf(mdk.CodeConflict, "order %s is %s and can't be fulfilled", ord.ID, ord.Status)
	}
	plan := fulfillPlan{OrderID: ord.ID, TrackingNumber: in.TrackingNumber}
	if _, err := executeOnce(ctx, o.engine, o.money.fulfill, plan, "fulfill/"+ord.ID); err != nil {
		return UCPOrder{}, err
	}
	return o.getOrder(ctx, OrderIDInput{ID: ord.ID})
}

// markDelivered records that a fulfilled order reached the buyer, with
// order.delivered. Marking a delivered order again changes nothing; any
// other status is a conflict, as the state machine allows delivery only
// after fulfilment.
func (o *ops) markDelivered(ctx context.Context, in OrderIDInput) (UCPOrder, error) {
	ord, err := o.store.transition(ctx, mdk.PrincipalFrom(ctx), in.ID, OrderDelivered, true, func(tx *sqldb.Tx, ord *Order) error {
		return emit(ctx, o.store.outbox, tx, EventOrderDelivered, ord.ID, OrderEvent{OrderID: ord.ID, Status: ord.Status})
	})
	if err != nil {
		return UCPOrder{}, err
	}
	return o.cfg.orderView(ord), nil
}

// refundOrder refunds the whole order or some units of some lines, through
// the refund workflow keyed by the order and the amount refunded so far:
// concurrent or repeated calls for the same refund refund once, and a
// different refund racing it gets a conflict to retry.
func (o *ops) refundOrder(ctx context.Context, in RefundInput) (UCPOrder, error) {
	p := mdk.PrincipalFrom(ctx)
	ord, err := o.store.getOrder(ctx, o.store.db, p, in.ID, "")
	if err != nil {
		return UCPOrder{}, err
	}
	lines := append([]Line(nil), ord.Lines...)
	var amount int64
	if len(in.Lines) == 0 {
		for i := range lines {
			lines[i].Refunded = lines[i].Quantity
		}
		// A full refund returns what is left of the total, shipping and
		// tax included.
		amount = ord.Total - ord.Refunded
	}
	for i, rl := range in.Lines {
		j := slicesIndex(lines, rl.LineID)
		if j < 0 {
			return UCPOrder{}, mdk.Invalid(fmt.Sprintf("lines[%d].line_id", i), "order %s has no line %q", ord.ID, rl.LineID)
		}
		if left := lines[j].Quantity - lines[j].Refunded; rl.Quantity > left {
			return UCPOrder{}, mdk.Invalid(fmt.Sprintf("lines[%d].quantity", i), "only %d units of line %s are left to refund", left, rl.LineID)
		}
		lines[j].Refunded += rl.Quantity
		amount += rl.Quantity * lines[j].Price
	}
	to := OrderRefunded
	for _, l := range lines {
		if l.Refunded < l.Quantity {
			to = OrderPartiallyRefunded
		}
	}
	if !CanTransition(ord.Status, to) {
		return UCPOrder{}, mdk.Errorf(mdk.CodeConflict, "order %s is %s; only fulfilled orders are refunded (cancel unfulfilled ones)", ord.ID, ord.Status)
	}
	if amount <= 0 {
		return UCPOrder{}, mdk.Invalid("lines", "nothing left to refund on order %s", ord.ID)
	}
	plan := refundPlan{OrderID: ord.ID, Lines: lines, Amount: amount, Before: ord.Refunded, To: to}
	if in.Restock {
		plan.Restock = refundedUnits(ord.Lines, lines)
	}
	if _, err := executeOnce(ctx, o.engine, o.money.refund, plan, plan.key()); err != nil {
		return UCPOrder{}, err
	}
	return o.getOrder(ctx, OrderIDInput{ID: ord.ID})
}

// refundedUnits is what a refund moving before to after refunds, by
// variant in line order.
func refundedUnits(before, after []Line) []reserveLine {
	var out []reserveLine
	at := map[string]int{}
	for i, l := range after {
		n := l.Refunded - before[i].Refunded
		if n <= 0 {
			continue
		}
		if j, ok := at[l.VariantID]; ok {
			out[j].Quantity += n
			continue
		}
		at[l.VariantID] = len(out)
		out = append(out, reserveLine{VariantID: l.VariantID, Quantity: n})
	}
	return out
}

func slicesIndex(lines []Line, id string) int {
	for i, l := range lines {
		if l.ID == id {
			return i
		}
	}
	return -1
}
