package product

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Workflow steps for the order module's checkout saga. They are reached by
// ID, never by import: the order module declares its own structs with the
// same JSON shapes as ReserveInput, ReserveOutput, SettleInput and
// SettleOutput below.
//
//	inventory.reserve  ReserveInput → ReserveOutput; compensation releases
//	                   what it reserved. Idempotent by mdk.StepKey: a re-run
//	                   returns the same reservations and takes nothing twice.
//	                   Errors: out_of_stock on lines[i].quantity, not_found on
//	                   lines[i].variant_id, conflict when the product is not
//	                   active, invalid input.
//	inventory.release  SettleInput → SettleOutput: held → released, units
//	                   return to available. Releasing a released or expired
//	                   reservation does nothing; a committed one is a conflict.
//	inventory.commit   SettleInput → SettleOutput: held → committed, the units
//	                   leave on_hand (sold). Committing twice does nothing;
//	                   a reservation past its expiry is reservation_expired,
//	                   a released one a conflict.
//	inventory.restock  RestockInput → SettleOutput: committed → returned, the
//	                   sold units come back to on_hand (a canceled order).
//	                   A held reservation is released instead, and a
//	                   released, expired or returned one is left alone, so
//	                   restock is safe on any reservation and running it
//	                   twice changes nothing. An empty list restocks
//	                   nothing: an order canceled before confirmation
//	                   holds no committed stock.
//	inventory.return   ReturnInput → ReturnOutput: units that came back to
//	                   the shop (refunded goods the buyer sent back) go back
//	                   on hand, by variant and quantity. Idempotent by the
//	                   input's key (else mdk.StepKey): each line is recorded
//	                   as a returned reservation whose ID derives from the
//	                   key, in the transaction that moves its units, so a
//	                   repeat adds nothing. A variant that no longer exists
//	                   is skipped and listed rather than failing a refund
//	                   whose money already moved.
//
// Every unit moved emits inventory.changed for its variant, in the same
// transaction.
const (
	StepReserve = "inventory.reserve"
	StepRelease = "inventory.release"
	StepCommit  = "inventory.commit"
	StepRestock = "inventory.restock"
	StepReturn  = "inventory.return"
)

// CodeReservationExpired is returned when committing a reservation whose
// hold has lapsed: its units may already be someone else's.
const CodeReservationExpired mdk.Code = "reservation_expired"

// ReservationStatus is where a hold on stock is: held until it is
// committed (sold), released (checkout cancelled) or expired (swept); a
// committed one is returned when its order is canceled and its units go
// back on the shelf.
type ReservationStatus string

const (
	ReservationHeld      ReservationStatus = "held"
	ReservationCommitted ReservationStatus = "committed"
	ReservationReleased  ReservationStatus = "released"
	ReservationExpired   ReservationStatus = "expired"
	ReservationReturned  ReservationStatus = "returned"
)

// Limits on one reservation request.
const (
	maxReserveLines = 100
	maxReserveTTL   = 7 * 24 * time.Hour
)

// ReserveLine asks for quantity units of one variant.
type ReserveLine struct {
	VariantID string `json:"variant_id"`
	Quantity  int64  `json:"quantity"`
}

// ReserveInput is the input of inventory.reserve.
type ReserveInput struct {
	Lines []ReserveLine `json:"lines"`
	// TTLSeconds is how long the hold lasts; 0 means the module's
	// reservation_ttl (15 minutes by default).
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// Reservation is a hold on units of one variant.
type Reservation struct {
	ID        string            `json:"id"`
	VariantID string            `json:"variant_id"`
	Quantity  int64             `json:"quantity"`
	Status    ReservationStatus `json:"status"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// ReserveOutput holds one reservation per input line, in line order.
type ReserveOutput struct {
	Reservations []Reservation `json:"reservations"`
}

// IDs returns the reservation IDs, for inventory.release and
// inventory.commit.
func (o ReserveOutput) IDs() []string {
	ids := make([]string, len(o.Reservations))
	for i, r := range o.Reservations {
		ids[i] = r.ID
	}
	return ids
}

// SettleInput is the input of inventory.release and inventory.commit.
type SettleInput struct {
	ReservationIDs []string `json:"reservation_ids"`
}

// RestockInput is the input of inventory.restock: the reservations of an
// order being canceled, possibly none.
type RestockInput struct {
	ReservationIDs []string `json:"reservation_ids"`
}

// ReturnInput is the input of inventory.return. Key names the return (a
// refund) so that it happens once whichever run performs it.
type ReturnInput struct {
	Key   string        `json:"key,omitempty"`
	Lines []ReserveLine `json:"lines"`
}

// Validate checks the lines; an empty list returns nothing.
func (in ReturnInput) Validate() error {
	if len(in.Lines) > maxReserveLines {
		return mdk.Invalid("lines", "give at most %d lines", maxReserveLines)
	}
	var errs []error
	for i, l := range in.Lines {
		if l.VariantID == "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("lines[%d].variant_id", i), "is required"))
		}
		if l.Quantity <= 0 || l.Quantity > maxStock {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("lines[%d].quantity", i), "must be between 1 and %d", maxStock))
		}
	}
	return errors.Join(errs...)
}

// ReturnOutput lists the returns recorded (one per line whose variant
// exists, in input order) and the variants skipped as unknown.
type ReturnOutput struct {
	Returned []Reservation `json:"returned"`
	Skipped  []string      `json:"skipped,omitempty"`
}

// Return puts returned units back on hand (inventory.return).
func (m *Module) Return(ctx context.Context, in ReturnInput) (ReturnOutput, error) {
	if err := in.Validate(); err != nil {
		return ReturnOutput{}, err
	}
	key := in.Key
	if key == "" {
		key = mdk.StepKey(ctx)
	}
	if key == "" && len(in.Lines) > 0 {
		return ReturnOutput{}, mdk.Invalid("key", "give a key naming the return (or run it as a workflow step), so a repeat returns nothing twice")
	}
	out := ReturnOutput{Returned: []Reservation{}}
	err := m.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		out = ReturnOutput{Returned: []Reservation{}}
		now := m.store.now()
		var changes []InventoryEvent
		for i, l := range in.Lines {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM product.variants WHERE id = $1`, l.VariantID).Scan(&n); err != nil {
				return fmt.Errorf("find variant %s: %w", l.VariantID, err)
			}
			if n == 0 {
				out.Skipped = append(out.Skipped, l.VariantID)
				continue
			}
			r := Reservation{ID: keyedID(prefixReservation, "return/"+key, i), VariantID: l.VariantID, Quantity: l.Quantity,
				Status: ReservationReturned, ExpiresAt: now.UTC().Truncate(time.Millisecond)}
			res, err := tx.ExecContext(ctx, `INSERT INTO product.reservations (id, variant_id, quantity, status, expires_at, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5, $5) ON CONFLICT (id) DO NOTHING`, r.ID, r.VariantID, r.Quantity, string(r.Status), now.UnixMilli())
			if err != nil {
				return fmt.Errorf("record return %s: %w", r.ID, err)
			}
			if added, err := res.RowsAffected(); err != nil || added == 0 {
				out.Returned = append(out.Returned, r)
				if err != nil {
					return fmt.Errorf("record return %s: %w", r.ID, err)
				}
				continue // returned by an earlier call with this key
			}
			e, err := m.store.moveUnits(ctx, tx, setRestock, l.VariantID, l.Quantity)
			if err != nil {
				return err
			}
			changes = append(changes, e)
			out.Returned = append(out.Returned, r)
		}
		if len(changes) == 0 {
			return nil
		}
		return m.store.emitInventory(ctx, tx, changes...)
	})
	if err != nil {
		return ReturnOutput{}, fmt.Errorf("return units: %w", err)
	}
	return out, nil
}

// SettleOutput gives each reservation's status after the step, in input
// order.
type SettleOutput struct {
	Reservations []Reservation `json:"reservations"`
}

// Validate checks the lines before any stock is touched.
func (in ReserveInput) Validate() error {
	var errs []error
	if len(in.Lines) == 0 || len(in.Lines) > maxReserveLines {
		errs = append(errs, mdk.Invalid("lines", "give between 1 and %d lines", maxReserveLines))
	}
	for i, l := range in.Lines {
		if l.VariantID == "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("lines[%d].variant_id", i), "is required"))
		}
		if l.Quantity <= 0 || l.Quantity > maxStock {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("lines[%d].quantity", i), "must be between 1 and %d", maxStock))
		}
	}
	if in.TTLSeconds < 0 || time.Duration(in.TTLSeconds)*time.Second > maxReserveTTL {
		errs = append(errs, mdk.Invalid("ttl_seconds", "must be between 0 (the store default) and %d seconds", int64(maxReserveTTL/time.Second)))
	}
	return errors.Join(errs...)
}

// Validate checks the reservation IDs.
func (in SettleInput) Validate() error { return validateReservationIDs(in.ReservationIDs, 1) }

// Validate checks the reservation IDs; an empty list is allowed.
func (in RestockInput) Validate() error { return validateReservationIDs(in.ReservationIDs, 0) }

func validateReservationIDs(ids []string, least int) error {
	if len(ids) < least || len(ids) > maxReserveLines {
		return mdk.Invalid("reservation_ids", "give between %d and %d reservation IDs", least, maxReserveLines)
	}
	for i, id := range ids {
		if id == "" {
			return mdk.Invalid(fmt.Sprintf("reservation_ids[%d]", i), "is required")
		}
	}
	return nil
}

// Reserve holds stock for every line or none (inventory.reserve). Inside a
// workflow step it is idempotent by the step's key.
func (m *Module) Reserve(ctx context.Context, in ReserveInput) (ReserveOutput, error) {
	if err := in.Validate(); err != nil {
		return ReserveOutput{}, err
	}
	ttl := m.reservationTTL
	if in.TTLSeconds > 0 {
		ttl = time.Duration(in.TTLSeconds) * time.Second
	}
	rs, err := m.store.reserve(ctx, mdk.StepKey(ctx), in.Lines, ttl)
	if err != nil {
		return ReserveOutput{}, err
	}
	return ReserveOutput{Reservations: rs}, nil
}

// Release returns held units to available (inventory.release).
func (m *Module) Release(ctx context.Context, in SettleInput) (SettleOutput, error) {
	return m.settle(ctx, in, ReservationReleased)
}

// Commit turns held units into sold ones (inventory.commit).
func (m *Module) Commit(ctx context.Context, in SettleInput) (SettleOutput, error) {
	return m.settle(ctx, in, ReservationCommitted)
}

// Restock returns the units of committed reservations to on hand and
// releases held ones (inventory.restock).
func (m *Module) Restock(ctx context.Context, in RestockInput) (SettleOutput, error) {
	if err := in.Validate(); err != nil {
		return SettleOutput{}, err
	}
	if len(in.ReservationIDs) == 0 {
		return SettleOutput{Reservations: []Reservation{}}, nil
	}
	return m.settleIDs(ctx, in.ReservationIDs, ReservationReturned)
}

func (m *Module) settle(ctx context.Context, in SettleInput, to ReservationStatus) (SettleOutput, error) {
	if err := in.Validate(); err != nil {
		return SettleOutput{}, err
	}
	return m.settleIDs(ctx, in.ReservationIDs, to)
}

func (m *Module) settleIDs(ctx context.Context, ids []string, to ReservationStatus) (SettleOutput, error) {
	rs, err := m.store.settle(ctx, ids, to)
	if err != nil {
		return SettleOutput{}, err
	}
	return SettleOutput{Reservations: rs}, nil
}

// registerSteps registers the inventory steps with the workflow engine.
func (m *Module) registerSteps(e mdk.WorkflowEngine) error {
	if err := mdk.RegisterStep(e, mdk.Step[ReserveInput, ReserveOutput]{
		ID:  StepReserve,
		Run: m.Reserve,
		// Undoing a reservation restocks it: a held one is released, and
		// one a later step already committed gets its units back, so a saga
		// may commit stock before its last step and still compensate.
		Compensate: func(ctx context.Context, _ ReserveInput, out ReserveOutput) error {
			if len(out.Reservations) == 0 {
				return nil
			}
			_, err := m.Restock(ctx, RestockInput{ReservationIDs: out.IDs()})
			return err
		},
	}); err != nil {
		return err
	}
	if err := mdk.RegisterStep(e, mdk.Step[SettleInput, SettleOutput]{ID: StepRelease, Run: m.Release}); err != nil {
		return err
	}
	if err := mdk.RegisterStep(e, mdk.Step[SettleInput, SettleOutput]{ID: StepCommit, Run: m.Commit}); err != nil {
		return err
	}
	if err := mdk.RegisterStep(e, mdk.Step[RestockInput, SettleOutput]{ID: StepRestock, Run: m.Restock}); err != nil {
		return err
	}
	return mdk.RegisterStep(e, mdk.Step[ReturnInput, ReturnOutput]{ID: StepReturn, Run: m.Return})
}

// sweepBatch is how many expired reservations one transaction returns;
// small, so the SQLite write lock is held only briefly.
const sweepBatch = 100

// ExpireReservations expires every held reservation past its expiry and
// returns its units, as the background sweeper does every sweep_interval.
// It returns how many it expired.
func (m *Module) ExpireReservations(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := m.store.expireBatch(ctx, sweepBatch)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// sweepReservations is one run of the reservation sweeper.
func (m *Module) sweepReservations(ctx context.Context) {
	n, err := m.ExpireReservations(ctx)
	if err != nil && ctx.Err() == nil {
		m.log.Error("expire reservations", "err", err)
	}
	if n > 0 {
		m.log.Info("reservations expired", "count", n)
	}
}
