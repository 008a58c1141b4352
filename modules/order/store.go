package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// store is the module's SQL. Every write runs in one transaction with the
// events it emits.
type store struct {
	db     *sqldb.DB
	outbox mdk.Outbox
	now    func() time.Time
}

const checkoutCols = `id, owner_kind, customer_id, cart_id, status, currency, lines, buyer, shipping_address,
	fulfillment_option, payment_token, order_id, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanCheckout(row scanner) (Checkout, error) {
	var (
		c                                   Checkout
		kind, status, lines, buyer, address string
		created, updated                    int64
	)
	if err := row.Scan(&c.ID, &kind, &c.CustomerID, &c.CartID, &status, &c.Currency, &lines, &buyer, &address,
		&c.FulfillmentOption, &c.PaymentToken, &c.OrderID, &created, &updated); err != nil {
		return Checkout{}, err
	}
	c.OwnerKind, c.Status = OwnerKind(kind), CheckoutStatus(status)
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if err := decodeAll(c.ID, []string{lines, buyer, address}, &c.Lines, &c.Buyer, &c.Shipping); err != nil {
		return Checkout{}, err
	}
	return c, nil
}

func decodeAll(id string, raw []string, into ...any) error {
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), into[i]); err != nil {
			return fmt.Errorf("decode %s: %w", id, err)
		}
	}
	return nil
}

func encodeAll(id string, vs ...any) ([]string, error) {
	out := make([]string, len(vs))
	for i, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", id, err)
		}
		out[i] = string(b)
	}
	return out, nil
}

func emit(ctx context.Context, o mdk.Outbox, tx *sqldb.Tx, typ, subject string, data any) error {
	e, err := mdk.NewEvent(typ, subject, data)
	if err != nil {
		return err
	}
	if err := o.Emit(ctx, tx, e); err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	return nil
}

// getCheckout returns checkout id if p may read it; not_found otherwise.
func (s *store) getCheckout(ctx context.Context, q sqldb.Querier, p mdk.Principal, id string, lock string) (Checkout, error) {
	c, err := scanCheckout(q.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !readableBy(p, c.OwnerKind, c.CustomerID)) {
		return Checkout{}, errNoCheckout(id)
	}
	if err != nil {
		return Checkout{}, fmt.Errorf("load checkout %s: %w", id, err)
	}
	return c, nil
}

func (s *store) insertCheckout(ctx context.Context, c Checkout) error {
	enc, err := encodeAll(c.ID, c.Lines, c.Buyer, c.Shipping)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO "order".checkouts (`+checkoutCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			c.ID, string(c.OwnerKind), c.CustomerID, c.CartID, string(c.Status), c.Currency, enc[0], enc[1], enc[2],
			c.FulfillmentOption, c.PaymentToken, c.OrderID, c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli()); err != nil {
			return fmt.Errorf("insert checkout: %w", err)
		}
		return emit(ctx, s.outbox, tx, EventCheckoutCreated, c.ID, CheckoutEvent{CheckoutID: c.ID, Status: c.Status})
	})
}

// writeCheckout stores c in tx and emits event typ when typ is not empty.
func (s *store) writeCheckout(ctx context.Context, tx *sqldb.Tx, c *Checkout, typ string) error {
	c.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	enc, err := encodeAll(c.ID, c.Lines, c.Buyer, c.Shipping)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE "order".checkouts SET status = $2, currency = $3, lines = $4, buyer = $5,
		shipping_address = $6, fulfillment_option = $7, payment_token = $8, order_id = $9, updated_at = $10 WHERE id = $1`,
		c.ID, string(c.Status), c.Currency, enc[0], enc[1], enc[2], c.FulfillmentOption, c.PaymentToken, c.OrderID,
		c.UpdatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("update checkout %s: %w", c.ID, err)
	}
	if typ == "" {
		return nil
	}
	return emit(ctx, s.outbox, tx, typ, c.ID, CheckoutEvent{CheckoutID: c.ID, Status: c.Status})
}

// updateCheckout changes checkout id, which p must own, with fn in one
// transaction. A checkout p may only read is forbidden, one it may not see
// not_found.
func (s *store) updateCheckout(ctx context.Context, p mdk.Principal, id, typ string, fn func(*Checkout) error) (Checkout, error) {
	var out Checkout
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		c, err := s.getCheckout(ctx, tx, p, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if !ownedBy(p, c.OwnerKind, c.CustomerID) {
			return mdk.Errorf(mdk.CodeForbidden, "only the buyer can change checkout %s", id)
		}
		if err := fn(&c); err != nil {
			return err
		}
		out = c
		return s.writeCheckout(ctx, tx, &c, typ)
	})
	return out, err
}

// setCheckoutStatus moves checkout id from one of from to status to, with
// checkout.updated, reporting whether it did.
func (s *store) setCheckoutStatus(ctx context.Context, tx *sqldb.Tx, id string, to CheckoutStatus, from ...CheckoutStatus) (bool, error) {
	c, err := scanCheckout(tx.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`+s.db.ForUpdate(), id))
	if err != nil {
		return false, fmt.Errorf("load checkout %s: %w", id, err)
	}
	for _, f := range from {
		if c.Status == f {
			c.Status = to
			return true, s.writeCheckout(ctx, tx, &c, EventCheckoutUpdated)
		}
	}
	return false, nil
}
