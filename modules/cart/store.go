package cart

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

// store is the cart's SQL. Every write runs in one transaction that also
// emits the cart's event, so state and events never disagree.
type store struct {
	db      *sqldb.DB
	outbox  mdk.Outbox
	idleTTL time.Duration
	now     func() time.Time
}

const cartCols = `id, owner_kind, customer_id, status, lines, buyer, currency, created_at, updated_at`

func scanCart(row interface{ Scan(...any) error }) (Cart, error) {
	var (
		c                          Cart
		kind, status, lines, buyer string
		createdAt, updatedAt       int64
	)
	if err := row.Scan(&c.ID, &kind, &c.CustomerID, &status, &lines, &buyer, &c.Currency, &createdAt, &updatedAt); err != nil {
		return Cart{}, err
	}
	c.OwnerKind, c.Status = OwnerKind(kind), Status(status)
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(createdAt).UTC(), time.UnixMilli(updatedAt).UTC()
	if err := json.Unmarshal([]byte(lines), &c.Lines); err != nil {
		return Cart{}, fmt.Errorf("decode lines of cart %s: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(buyer), &c.Buyer); err != nil {
		return Cart{}, fmt.Errorf("decode buyer of cart %s: %w", c.ID, err)
	}
	return c, nil
}

// get returns cart id if p may read it; not_found otherwise, whether or not
// it exists.
func (s *store) get(ctx context.Context, p mdk.Principal, id string) (Cart, error) {
	c, err := scanCart(s.db.QueryRowContext(ctx, `SELECT `+cartCols+` FROM cart.carts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.readableBy(p)) {
		return Cart{}, errNoCart(id)
	}
	if err != nil {
		return Cart{}, fmt.Errorf("load cart %s: %w", id, err)
	}
	return c, nil
}

// create stores a new active cart owned by p with the given lines.
func (s *store) create(ctx context.Context, p mdk.Principal, lines []Line, buyer Buyer) (Cart, error) {
	id, err := mdk.SecretID(prefixCart, cartIDBytes)
	if err != nil {
		return Cart{}, err
	}
	customer, err := owner(p)
	if err != nil {
		return Cart{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	c := Cart{ID: id, OwnerKind: OwnerCustomer, CustomerID: customer, Status: StatusActive, Lines: lines, Buyer: buyer, CreatedAt: now, UpdatedAt: now}
	if c.Lines == nil {
		c.Lines = []Line{}
	}
	linesJSON, buyerJSON, err := encodeCart(c)
	if err != nil {
		return Cart{}, err
	}
	err = s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cart.carts (`+cartCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.ID, string(c.OwnerKind), c.CustomerID, string(c.Status), linesJSON, buyerJSON, c.Currency, now.UnixMilli(), now.UnixMilli()); err != nil {
			return fmt.Errorf("insert cart: %w", err)
		}
		return s.emit(ctx, tx, EventCartCreated, c)
	})
	if err != nil {
		return Cart{}, fmt.Errorf("create cart: %w", err)
	}
	return c, nil
}

func encodeCart(c Cart) (lines, buyer string, err error) {
	l, err := json.Marshal(c.Lines)
	if err != nil {
		return "", "", fmt.Errorf("encode lines of cart %s: %w", c.ID, err)
	}
	b, err := json.Marshal(c.Buyer)
	if err != nil {
		return "", "", fmt.Errorf("encode buyer of cart %s: %w", c.ID, err)
	}
	return string(l), string(b), nil
}

func (s *store) emit(ctx context.Context, tx *sqldb.Tx, typ string, c Cart) error {
	e, err := mdk.NewEvent(typ, c.ID, CartEvent{CartID: c.ID, OwnerKind: c.OwnerKind})
	if err != nil {
		return err
	}
	if err := s.outbox.Emit(ctx, tx, e); err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	return nil
}

// update changes active cart id, which p must own, with fn, then stores it
// and emits event typ, all in one transaction. fn sees the cart as stored
// and changes it in place; an error from it writes nothing. A cart p may
// only read is forbidden (merchants), one it may not see is not_found, one
// that is no longer active is a conflict.
func (s *store) update(ctx context.Context, p mdk.Principal, id, typ string, fn func(*Cart) error) (Cart, error) {
	var out Cart
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCart(tx.QueryRowContext(ctx, `SELECT `+cartCols+` FROM cart.carts WHERE id = $1`+s.db.ForUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.readableBy(p)) {
			return errNoCart(id)
		}
		if err != nil {
			return fmt.Errorf("load cart %s: %w", id, err)
		}
		if !c.ownedBy(p) {
			return mdk.Errorf(mdk.CodeForbidden, "cart %s belongs to a customer; merchants can read carts but not change them", id)
		}
		if st := c.idleStatus(s.now(), s.idleTTL); st != StatusActive {
			return errNotActive(id, st)
		}
		if err := fn(&c); err != nil {
			return err
		}
		c.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		lines, buyer, err := encodeCart(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cart.carts SET status = $1, lines = $2, buyer = $3, updated_at = $4 WHERE id = $5`,
			string(c.Status), lines, buyer, c.UpdatedAt.UnixMilli(), id); err != nil {
			return fmt.Errorf("update cart %s: %w", id, err)
		}
		out = c
		return s.emit(ctx, tx, typ, c)
	})
	return out, err
}

// rememberCurrency stores the currency the catalog priced the cart in, so
// the cart still reports it after its last known line is gone.
func (s *store) rememberCurrency(ctx context.Context, id, currency string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE cart.carts SET currency = $1 WHERE id = $2 AND currency <> $1`, currency, id); err != nil {
		return fmt.Errorf("store currency of cart %s: %w", id, err)
	}
	return nil
}

// expireIdle marks active carts untouched since before now-idleTTL
// expired and returns how many. One conditional UPDATE: instances running
// it at once each mark a cart at most once, and a cart changed meanwhile
// is no longer idle and is left alone.
func (s *store) expireIdle(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE cart.carts SET status = $1 WHERE status = $2 AND updated_at <= $3`,
		string(StatusExpired), string(StatusActive), now.Add(-s.idleTTL).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("expire idle carts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("expire idle carts: %w", err)
	}
	return n, nil
}

// complete marks the cart an order was placed from completed, in the
// handler's transaction. Whatever state it was in, an order now exists for
// it, so it must never be checked out again; an unknown cart is ignored.
func (s *store) complete(ctx context.Context, tx *sqldb.Tx, id string) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE cart.carts SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1`,
		string(StatusCompleted), s.now().UnixMilli(), id)
	if err != nil {
		return false, fmt.Errorf("complete cart %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complete cart %s: %w", id, err)
	}
	return n == 1, nil
}
