package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// OrderStatus is where an order is in its life.
type OrderStatus string

const (
	OrderPending           OrderStatus = "pending"
	OrderConfirmed         OrderStatus = "confirmed"
	OrderFulfilled         OrderStatus = "fulfilled"
	OrderDelivered         OrderStatus = "delivered"
	OrderCanceled          OrderStatus = "canceled"
	OrderRefunded          OrderStatus = "refunded"
	OrderPartiallyRefunded OrderStatus = "partially_refunded"
)

// EventOrderDelivered is emitted when a fulfilled order reaches the buyer
// (mark_delivered); the other order events are listed with the checkout
// events.
const EventOrderDelivered = "order.delivered"

// transitions is the order state machine: the statuses each may move to.
// Anything else is refused, so no code path can skip a step.
var transitions = map[OrderStatus][]OrderStatus{
	OrderPending:           {OrderConfirmed, OrderCanceled},
	OrderConfirmed:         {OrderFulfilled, OrderCanceled},
	OrderFulfilled:         {OrderDelivered, OrderRefunded, OrderPartiallyRefunded},
	OrderDelivered:         {OrderRefunded, OrderPartiallyRefunded},
	OrderPartiallyRefunded: {OrderRefunded, OrderPartiallyRefunded},
	// A pending order canceled by a failed checkout is reopened by the
	// next attempt on the same checkout.
	OrderCanceled: {OrderPending},
}

// CanTransition reports whether an order may move from one status to
// another.
func CanTransition(from, to OrderStatus) bool { return slices.Contains(transitions[from], to) }

// Payment statuses of an order.
const (
	paymentAuthorized = "authorized"
	paymentCaptured   = "captured"
	paymentVoided     = "voided"
)

// Order is the stored order.
type Order struct {
	ID             string
	CheckoutID     string
	CartID         string
	OwnerKind      OwnerKind
	CustomerID     string
	Status         OrderStatus
	Currency       string
	Lines          []Line
	Totals         []UCPTotal
	Total          int64
	Refunded       int64
	PaymentID      string
	PaymentStatus  string
	ReservationIDs []string
	TrackingNumber string
	PlacedAt       time.Time // zero until confirmed
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const orderCols = `id, checkout_id, cart_id, owner_kind, customer_id, status, currency, lines, totals, total, refunded,
	payment_id, payment_status, reservation_ids, tracking_number, placed_at, created_at, updated_at`

func scanOrder(row scanner) (Order, error) {
	var (
		o                                   Order
		kind, status, lines, totals, resIDs string
		placed, created, updated            int64
	)
	if err := row.Scan(&o.ID, &o.CheckoutID, &o.CartID, &kind, &o.CustomerID, &status, &o.Currency, &lines, &totals,
		&o.Total, &o.Refunded, &o.PaymentID, &o.PaymentStatus, &resIDs, &o.TrackingNumber, &placed, &created, &updated); err != nil {
		return Order{}, err
	}
	o.OwnerKind, o.Status = OwnerKind(kind), OrderStatus(status)
	o.CreatedAt, o.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if placed > 0 {
		o.PlacedAt = time.UnixMilli(placed).UTC()
	}
	return o, decodeAll(o.ID, []string{lines, totals, resIDs}, &o.Lines, &o.Totals, &o.ReservationIDs)
}

func errNoOrder(id string) *mdk.Error {
	e := mdk.NotFound("no order %q: check the ID; list_my_orders lists yours", id)
	e.Field = "id"
	return e
}

// getOrder returns order id if p may read it; not_found otherwise.
func (s *store) getOrder(ctx context.Context, q sqldb.Querier, p mdk.Principal, id, lock string) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderCols+` FROM "order".orders WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !readableBy(p, o.OwnerKind, o.CustomerID)) {
		return Order{}, errNoOrder(id)
	}
	if err != nil {
		return Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	return o, nil
}

func (s *store) writeOrder(ctx context.Context, tx *sqldb.Tx, o *Order) error {
	o.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	enc, err := encodeAll(o.ID, o.Lines, o.Totals, o.ReservationIDs)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO "order".orders (`+orderCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, lines = excluded.lines, totals = excluded.totals,
		total = excluded.total, refunded = excluded.refunded, payment_id = excluded.payment_id,
		payment_status = excluded.payment_status, reservation_ids = excluded.reservation_ids,
		tracking_number = excluded.tracking_number, placed_at = excluded.placed_at, updated_at = excluded.updated_at`,
		o.ID, o.CheckoutID, o.CartID, string(o.OwnerKind), o.CustomerID, string(o.Status), o.Currency, enc[0], enc[1],
		o.Total, o.Refunded, o.PaymentID, o.PaymentStatus, enc[2], o.TrackingNumber, millis(o.PlacedAt), o.CreatedAt.UnixMilli(), o.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("write order %s: %w", o.ID, err)
	}
	return nil
}

// transition moves order id to status to with fn applied, in one
// transaction with the events fn returns. The move must be allowed by the
// state machine; moving to the status it already has is a no-op when
// idempotent is set (a retried step).
func (s *store) transition(ctx context.Context, p mdk.Principal, id string, to OrderStatus, idempotent bool,
	fn func(tx *sqldb.Tx, o *Order) error) (Order, error) {
	var out Order
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		o, err := s.getOrder(ctx, tx, p, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if o.Status == to && idempotent {
			out = o
			return nil
		}
		if !CanTransition(o.Status, to) {
			return mdk.Errorf(mdk.CodeConflict, "order %s is %s and can't become %s", id, o.Status, to)
		}
		o.Status = to
		if fn != nil {
			if err := fn(tx, &o); err != nil {
				return err
			}
		}
		out = o
		return s.writeOrder(ctx, tx, &o)
	})
	return out, err
}

// millis is t in unix milliseconds, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
