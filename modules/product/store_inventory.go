package product

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Stock changes here are conditional UPDATEs whose WHERE clause is the
// invariant (on_hand - reserved >= qty; status = 'held'), so concurrent
// writers on any number of instances can never oversell or move the same
// units twice: the database decides, not a read made earlier.

const reservationCols = `id, variant_id, quantity, status, expires_at`

func scanReservation(rows scanner) (Reservation, error) {
	var (
		r       Reservation
		status  string
		expires int64
	)
	if err := rows.Scan(&r.ID, &r.VariantID, &r.Quantity, &status, &expires); err != nil {
		return Reservation{}, fmt.Errorf("scan reservation: %w", err)
	}
	r.Status = ReservationStatus(status)
	r.ExpiresAt = time.UnixMilli(expires).UTC()
	return r, nil
}

// loadReservations returns the reservations with the given IDs, keyed by
// ID, locking them on PostgreSQL.
func (s *store) loadReservations(ctx context.Context, tx *sqldb.Tx, ids []string) (map[string]Reservation, error) {
	out := make(map[string]Reservation, len(ids))
	for chunk := range chunks(dedupe(ids)) {
		rs, err := queryAll(ctx, tx, `SELECT `+reservationCols+` FROM product.reservations WHERE id IN (`+placeholders(1, len(chunk))+`)`+s.db.ForUpdate(), anyArgs(chunk), scanReservation)
		if err != nil {
			return nil, fmt.Errorf("load reservations: %w", err)
		}
		for _, r := range rs {
			out[r.ID] = r
		}
	}
	return out, nil
}

// moveUnits applies set (an assignment to on_hand and reserved using $1
// for the quantity) to one variant and returns its new stock for the
// inventory.changed event.
func (s *store) moveUnits(ctx context.Context, tx *sqldb.Tx, set, variantID string, qty int64) (InventoryEvent, error) {
	e := InventoryEvent{VariantID: variantID}
	err := tx.QueryRowContext(ctx, `UPDATE product.variants SET `+set+`, updated_at = $2 WHERE id = $3
		RETURNING product_id, sku, on_hand, reserved`, qty, s.now().UnixMilli(), variantID).
		Scan(&e.ProductID, &e.SKU, &e.OnHand, &e.Reserved)
	if err != nil {
		return e, fmt.Errorf("move %d units of variant %s: %w", qty, variantID, err)
	}
	e.Available = e.OnHand - e.Reserved
	return e, nil
}

const (
	setRelease = `reserved = reserved - $1`
	setCommit  = `on_hand = on_hand - $1, reserved = reserved - $1`
	setRestock = `on_hand = on_hand + $1`
)

// transition moves a reservation from one status to another if it is
// still in from; false means another writer got there first.
func (s *store) transition(ctx context.Context, tx *sqldb.Tx, id string, from, to ReservationStatus) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE product.reservations SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`,
		string(to), s.now().UnixMilli(), id, string(from))
	if err != nil {
		return false, fmt.Errorf("mark reservation %s %s: %w", id, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mark reservation %s %s: %w", id, to, err)
	}
	return n == 1, nil
}

// reserve holds stock for every line or for none, in one transaction.
// With a key (a workflow step's key), reservation IDs derive from it, so a
// second call with the same key returns the first call's reservations
// and takes nothing. Errors: not_found on lines[i].variant_id, conflict
// (product not for sale, key reused with other lines), out_of_stock on
// lines[i].quantity.
func (s *store) reserve(ctx context.Context, key string, lines []ReserveLine, ttl time.Duration) ([]Reservation, error) {
	ids := make([]string, len(lines))
	for i := range lines {
		if key != "" {
			ids[i] = keyedID(prefixReservation, key, i)
			continue
		}
		id, err := newID(prefixReservation)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	var out []Reservation
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		out = nil
		if key != "" {
			prev, err := s.loadReservations(ctx, tx, ids)
			if err != nil {
				return err
			}
			if len(prev) > 0 {
				out, err = sameReservations(prev, ids, lines)
				return err
			}
		}
		if err := s.checkSellable(ctx, tx, lines); err != nil {
			return err
		}
		now := s.now()
		expires := now.Add(ttl)
		out = make([]Reservation, len(lines))
		changes := make([]InventoryEvent, 0, len(lines))
		// Lock variants in ID order so two multi-line reservations never
		// wait on each other in a cycle.
		order := make([]int, len(lines))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return compareStrings(lines[a].VariantID, lines[b].VariantID) })
		for _, i := range order {
			l := lines[i]
			e := InventoryEvent{VariantID: l.VariantID}
			err := tx.QueryRowContext(ctx, `UPDATE product.variants SET reserved = reserved + $1, updated_at = $2
				WHERE id = $3 AND on_hand - reserved >= $1 RETURNING product_id, sku, on_hand, reserved`,
				l.Quantity, now.UnixMilli(), l.VariantID).Scan(&e.ProductID, &e.SKU, &e.OnHand, &e.Reserved)
			if isNoRows(err) {
				return s.outOfStock(ctx, tx, i, l)
			}
			if err != nil {
				return fmt.Errorf("reserve %d of %s: %w", l.Quantity, l.VariantID, err)
			}
			e.Available = e.OnHand - e.Reserved
			changes = append(changes, e)
			if _, err := tx.ExecContext(ctx, `INSERT INTO product.reservations (id, variant_id, quantity, status, expires_at, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`, ids[i], l.VariantID, l.Quantity, string(ReservationHeld), expires.UnixMilli(), now.UnixMilli()); err != nil {
				return fmt.Errorf("record reservation of %s: %w", l.VariantID, err)
			}
			out[i] = Reservation{ID: ids[i], VariantID: l.VariantID, Quantity: l.Quantity, Status: ReservationHeld, ExpiresAt: time.UnixMilli(expires.UnixMilli()).UTC()}
		}
		return s.emitInventory(ctx, tx, changes...)
	})
	if err != nil {
		return nil, fmt.Errorf("reserve stock: %w", err)
	}
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sameReservations returns the reservations a earlier call with the same
// key made, checking they are for the same lines.
func sameReservations(prev map[string]Reservation, ids []string, lines []ReserveLine) ([]Reservation, error) {
	out := make([]Reservation, len(ids))
	for i, id := range ids {
		r, ok := prev[id]
		if !ok || r.VariantID != lines[i].VariantID || r.Quantity != lines[i].Quantity {
			return nil, &mdk.Error{Code: mdk.CodeConflict, Field: fmt.Sprintf("lines[%d]", i), Message: "this step key already reserved different lines; a retried step must send the same lines"}
		}
		out[i] = r
	}
	return out, nil
}

// checkSellable reports lines whose variant does not exist or whose
// product is not active.
func (s *store) checkSellable(ctx context.Context, tx *sqldb.Tx, lines []ReserveLine) error {
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.VariantID
	}
	type sellable struct{ id, sku, status string }
	status := map[string]sellable{}
	for chunk := range chunks(dedupe(ids)) {
		found, err := queryAll(ctx, tx, `SELECT v.id, v.sku, p.status FROM product.variants v JOIN product.products p ON p.id = v.product_id
			WHERE v.id IN (`+placeholders(1, len(chunk))+`)`, anyArgs(chunk), func(r scanner) (sellable, error) {
			var v sellable
			return v, r.Scan(&v.id, &v.sku, &v.status)
		})
		if err != nil {
			return fmt.Errorf("check variants for sale: %w", err)
		}
		for _, v := range found {
			status[v.id] = v
		}
	}
	for i, l := range lines {
		st, ok := status[l.VariantID]
		switch {
		case !ok:
			return &mdk.Error{Code: mdk.CodeNotFound, Field: fmt.Sprintf("lines[%d].variant_id", i), Message: fmt.Sprintf("no variant has the ID %q", l.VariantID)}
		case Status(st.status) != StatusActive:
			return &mdk.Error{Code: mdk.CodeConflict, Field: fmt.Sprintf("lines[%d].variant_id", i), Message: fmt.Sprintf("%s is not for sale (its product is %s)", st.sku, st.status)}
		}
	}
	return nil
}

// outOfStock builds the error for line i whose conditional update matched
// no row: the variant has fewer than the requested units available.
func (s *store) outOfStock(ctx context.Context, tx *sqldb.Tx, i int, l ReserveLine) error {
	var sku string
	var available int64
	if err := tx.QueryRowContext(ctx, `SELECT sku, on_hand - reserved FROM product.variants WHERE id = $1`, l.VariantID).Scan(&sku, &available); err != nil {
		return fmt.Errorf("read stock of %s: %w", l.VariantID, err)
	}
	return &mdk.Error{Code: CodeOutOfStock, Field: fmt.Sprintf("lines[%d].quantity", i),
		Message: fmt.Sprintf("%s has only %d available; %d were asked for", sku, max(available, 0), l.Quantity)}
}

// settle moves each reservation toward to, and its units with it, all or
// none: held → committed (sold), held → released (back to available),
// committed → returned (back on hand) and, for to returned, held →
// released. A reservation already where to leads (or, for a release or
// restock, expired or released) is left as it is, which makes settle
// idempotent; the conditional status update keeps concurrent calls from
// moving units twice. Errors: not_found, conflict (released vs
// committed), reservation_expired (commit after expiry).
func (s *store) settle(ctx context.Context, ids []string, to ReservationStatus) ([]Reservation, error) {
	var out []Reservation
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		rs, err := s.loadReservations(ctx, tx, ids)
		if err != nil {
			return err
		}
		now := s.now()
		out = make([]Reservation, len(ids))
		var changes []InventoryEvent
		for i, id := range ids {
			field := fmt.Sprintf("reservation_ids[%d]", i)
			r, ok := rs[id]
			if !ok {
				return &mdk.Error{Code: mdk.CodeNotFound, Field: field, Message: fmt.Sprintf("no reservation has the ID %q", id)}
			}
			if err := checkSettle(r, to, now, field); err != nil {
				return err
			}
			if next, set, ok := settleMove(r.Status, to); ok {
				moved, err := s.transition(ctx, tx, id, r.Status, next)
				if err != nil {
					return err
				}
				if moved {
					e, err := s.moveUnits(ctx, tx, set, r.VariantID, r.Quantity)
					if err != nil {
						return err
					}
					changes = append(changes, e)
					r.Status = next
				}
			}
			out[i] = r
			rs[id] = r // an ID listed twice is settled once
		}
		return s.emitInventory(ctx, tx, changes...)
	})
	if err != nil {
		return nil, fmt.Errorf("%s reservations: %w", verb(to), err)
	}
	return out, nil
}

// settleMove says where a reservation in from goes when settled toward
// to, and how its units move (a moveUnits assignment); false when it
// stays as it is.
func settleMove(from, to ReservationStatus) (ReservationStatus, string, bool) {
	switch {
	case from == ReservationHeld && to == ReservationCommitted:
		return ReservationCommitted, setCommit, true
	case from == ReservationHeld && (to == ReservationReleased || to == ReservationReturned):
		return ReservationReleased, setRelease, true
	case from == ReservationCommitted && to == ReservationReturned:
		return ReservationReturned, setRestock, true
	}
	return "", "", false
}

func verb(to ReservationStatus) string {
	switch to {
	case ReservationCommitted:
		return "commit"
	case ReservationReturned:
		return "restock"
	}
	return "release"
}

// checkSettle says whether r may move to to.
func checkSettle(r Reservation, to ReservationStatus, now time.Time, field string) error {
	switch {
	case r.Status == to, to == ReservationReturned:
		return nil
	case to == ReservationReleased && (r.Status == ReservationExpired || r.Status == ReservationReturned):
		return nil // its units are back already
	case to == ReservationReleased && r.Status == ReservationCommitted:
		return &mdk.Error{Code: mdk.CodeConflict, Field: field, Message: fmt.Sprintf("reservation %s was committed to an order, so its units are sold; cancel the order (inventory.restock) to return them", r.ID)}
	case to == ReservationCommitted && (r.Status == ReservationReleased || r.Status == ReservationReturned):
		return &mdk.Error{Code: mdk.CodeConflict, Field: field, Message: fmt.Sprintf("reservation %s was %s; reserve the stock again", r.ID, r.Status)}
	case to == ReservationCommitted && (r.Status == ReservationExpired || !now.Before(r.ExpiresAt)):
		return &mdk.Error{Code: CodeReservationExpired, Field: field, Message: fmt.Sprintf("reservation %s expired at %s and its units may be sold to someone else; reserve the stock again", r.ID, r.ExpiresAt.Format(time.RFC3339))}
	}
	return nil
}

// expireBatch expires up to limit held reservations past their expiry and
// returns their units. Safe on several instances at once: rows are
// claimed with SKIP LOCKED on PostgreSQL and each move is conditional on
// the reservation still being held.
func (s *store) expireBatch(ctx context.Context, limit int) (int, error) {
	expired := 0
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		expired = 0
		due, err := queryAll(ctx, tx, `SELECT `+reservationCols+` FROM product.reservations
			WHERE status = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3`+s.db.ForUpdateSkipLocked(),
			[]any{string(ReservationHeld), s.now().UnixMilli(), limit}, scanReservation)
		if err != nil {
			return fmt.Errorf("find expired reservations: %w", err)
		}
		var changes []InventoryEvent
		for _, r := range due {
			moved, err := s.transition(ctx, tx, r.ID, ReservationHeld, ReservationExpired)
			if err != nil {
				return err
			}
			if !moved {
				continue
			}
			e, err := s.moveUnits(ctx, tx, setRelease, r.VariantID, r.Quantity)
			if err != nil {
				return err
			}
			changes = append(changes, e)
			expired++
		}
		return s.emitInventory(ctx, tx, changes...)
	})
	if err != nil {
		return 0, fmt.Errorf("expire reservations: %w", err)
	}
	return expired, nil
}

// setStock sets a variant's on-hand units. A value equal to the current
// one writes nothing. Errors: not_found on variant_id, conflict on on_hand
// when it would go below the units reserved by open checkouts.
func (s *store) setStock(ctx context.Context, variantID string, onHand int64) (Variant, error) {
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		var cur, reserved int64
		err := tx.QueryRowContext(ctx, `SELECT on_hand, reserved FROM product.variants WHERE id = $1`+s.db.ForUpdate(), variantID).Scan(&cur, &reserved)
		if isNoRows(err) {
			return &mdk.Error{Code: mdk.CodeNotFound, Field: "variant_id", Message: fmt.Sprintf("no variant has the ID %q", variantID)}
		}
		if err != nil {
			return fmt.Errorf("read stock of %s: %w", variantID, err)
		}
		if cur == onHand {
			return nil
		}
		e := InventoryEvent{VariantID: variantID}
		err = tx.QueryRowContext(ctx, `UPDATE product.variants SET on_hand = $1, updated_at = $2 WHERE id = $3 AND reserved <= $1
			RETURNING product_id, sku, on_hand, reserved`, onHand, s.now().UnixMilli(), variantID).
			Scan(&e.ProductID, &e.SKU, &e.OnHand, &e.Reserved)
		if isNoRows(err) {
			return &mdk.Error{Code: mdk.CodeConflict, Field: "on_hand", Message: fmt.Sprintf("%d units are reserved by open checkouts, so on hand can't go below %d; set at least %d, or wait until those checkouts finish", reserved, reserved, reserved)}
		}
		if err != nil {
			return fmt.Errorf("set stock of %s: %w", variantID, err)
		}
		e.Available = e.OnHand - e.Reserved
		return s.emitInventory(ctx, tx, e)
	})
	if err != nil {
		return Variant{}, fmt.Errorf("set stock of %s: %w", variantID, err)
	}
	vs, err := s.getVariants(ctx, s.db, []string{variantID})
	if err != nil {
		return Variant{}, fmt.Errorf("reload variant %s: %w", variantID, err)
	}
	if len(vs) == 0 {
		return Variant{}, mdk.NotFound("variant %s was removed right after its stock was set", variantID)
	}
	return vs[0], nil
}
