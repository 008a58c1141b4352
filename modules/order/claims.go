package order

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// complete_checkout claims a checkout (complete_in_progress) in one
// transaction and journals its saga run in the next: a crash between the
// two would leave the checkout claimed with no run to settle it. The claim
// therefore records the run's key and time with the status, and a sweeper
// settles claims older than the claim lease by what the workflow journal
// says about that key:
//
//   - no run: the crash window; the checkout goes back to
//     ready_for_complete, so the buyer can complete it again (the stale
//     idempotency key, or a new one);
//   - a live run: left alone; the engine resumes it and it settles the
//     checkout itself;
//   - a failed run: reopened as its compensation would have
//     (ready_for_complete, or requires_escalation);
//   - a completed run: completed with its order.
//
// The run's first step (order.hold_checkout) refreshes the claim time only
// while the claim is still its own, so the sweeper never reopens a checkout
// under a run that got journaled after the sweeper looked, and a run that
// starts after the sweeper reopened the checkout fails at that step.

// Claim sweeper defaults (HYPERRR_ORDER_CLAIM_LEASE, _SWEEP_INTERVAL).
const (
	// defaultClaimLease must exceed the gap between a claim and the
	// journaling of its run (normally milliseconds).
	defaultClaimLease    = 2 * time.Minute
	defaultSweepInterval = time.Minute
	// claimBatch bounds the claims one sweep looks at.
	claimBatch = 100
)

// runKey is the workflow key of the checkout saga for a complete_checkout
// idempotency key.
func runKey(checkoutID, idempotencyKey string) string {
	return "checkout/" + checkoutID + "/" + idempotencyKey
}

// claim marks c (locked in tx, ready) complete_in_progress for the run with
// key, recording the key and the time.
func (s *store) claim(ctx context.Context, tx *sqldb.Tx, c *Checkout, key string) error {
	c.Status = CheckoutInProgress
	if err := s.writeCheckout(ctx, tx, c, EventCheckoutUpdated); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE "order".checkouts SET claim_run_key = $2, claimed_at = $3 WHERE id = $1`,
		c.ID, key, c.UpdatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("record claim of checkout %s: %w", c.ID, err)
	}
	return nil
}

// holdClaim refreshes the claim time of checkout id if it is still claimed
// for the run with key (any run, for a run journaled before claims had
// keys), and reports whether it was.
func (s *store) holdClaim(ctx context.Context, id, key string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE "order".checkouts SET claimed_at = $2
		WHERE id = $1 AND status = $3 AND ($4 = '' OR claim_run_key = $4)`,
		id, s.now().UnixMilli(), string(CheckoutInProgress), key)
	if err != nil {
		return false, fmt.Errorf("hold checkout %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("hold checkout %s: %w", id, err)
	}
	return n == 1, nil
}

// staleClaim is a checkout claimed before the claim lease.
type staleClaim struct {
	id, key   string
	claimedAt int64
}

func (s *store) staleClaims(ctx context.Context, before time.Time) ([]staleClaim, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, claim_run_key, claimed_at FROM "order".checkouts
		WHERE status = $1 AND claimed_at <= $2 ORDER BY claimed_at LIMIT $3`,
		string(CheckoutInProgress), before.UnixMilli(), claimBatch)
	if err != nil {
		return nil, fmt.Errorf("list stale checkout claims: %w", err)
	}
	defer rows.Close()
	var out []staleClaim
	for rows.Next() {
		var c staleClaim
		if err := rows.Scan(&c.id, &c.key, &c.claimedAt); err != nil {
			return nil, fmt.Errorf("list stale checkout claims: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stale checkout claims: %w", err)
	}
	return out, nil
}

// settleClaim moves the checkout of claim sc to status to (with orderID
// when completing) if it is still exactly that claim: same key, not held
// since. It reports whether it did.
func (s *store) settleClaim(ctx context.Context, sc staleClaim, to CheckoutStatus, orderID string) (bool, error) {
	done := false
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCheckout(tx.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`+s.db.ForUpdate(), sc.id))
		if err != nil {
			return fmt.Errorf("load checkout %s: %w", sc.id, err)
		}
		var key string
		var claimedAt int64
		if err := tx.QueryRowContext(ctx, `SELECT claim_run_key, claimed_at FROM "order".checkouts WHERE id = $1`, sc.id).Scan(&key, &claimedAt); err != nil {
			return fmt.Errorf("load claim of checkout %s: %w", sc.id, err)
		}
		if c.Status != CheckoutInProgress || key != sc.key || claimedAt != sc.claimedAt {
			return nil
		}
		c.Status = to
		typ := EventCheckoutUpdated
		if to == CheckoutCompleted {
			c.OrderID, typ = orderID, EventCheckoutCompleted
		}
		done = true
		return s.writeCheckout(ctx, tx, &c, typ)
	})
	return done, err
}

// RecoverClaims settles every checkout claimed for completion longer than
// the claim lease ago whose saga run was never journaled or has ended, and
// returns how many it settled. The sweeper calls it every sweep_interval;
// it is safe on several instances at once.
func (m *Module) RecoverClaims(ctx context.Context) (int, error) {
	return m.ops.recoverClaims(ctx, m.store.now().Add(-m.ops.cfg.claimLease))
}

func (o *ops) recoverClaims(ctx context.Context, before time.Time) (int, error) {
	claims, err := o.store.staleClaims(ctx, before)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, sc := range claims {
		settled, err := o.recoverClaim(ctx, sc)
		if err != nil {
			errs = append(errs, fmt.Errorf("recover claim of checkout %s: %w", sc.id, err))
		}
		if settled {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// recoverClaim settles one stale claim by what the journal says of its
// run (see the top of this file).
func (o *ops) recoverClaim(ctx context.Context, sc staleClaim) (bool, error) {
	info, err := o.engine.RunByKey(ctx, workflowCheckout, sc.key)
	switch {
	case sc.key == "" || mdk.ErrorCode(err) == mdk.CodeNotFound:
		// Claimed, then the process died before the run was journaled
		// (or the claim predates run keys and its run is long gone).
		return o.store.settleClaim(ctx, sc, CheckoutReady, "")
	case err != nil:
		return false, err
	case !info.Status.Done():
		return false, nil
	case info.Status == mdk.RunCompleted:
		var ref orderRef
		if err := json.Unmarshal(info.Output, &ref); err != nil || ref.OrderID == "" {
			return false, fmt.Errorf("completed run %s has no order: %s", info.ID, info.Output)
		}
		return o.store.settleClaim(ctx, sc, CheckoutCompleted, ref.OrderID)
	}
	to := CheckoutReady
	if mdk.ErrorCode(info.Error) == CodeRequiresEscalation {
		to = CheckoutRequiresEscalation
	}
	return o.store.settleClaim(ctx, sc, to, "")
}

// Start begins the claim sweeper.
func (m *Module) Start(ctx context.Context) error {
	m.sweeper.Start(ctx, m.ops.cfg.sweepInterval, func(ctx context.Context) {
		n, err := m.RecoverClaims(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Error("recover checkout claims", "err", err)
		}
		if n > 0 {
			m.log.Warn("stuck checkout claims settled", "count", n)
		}
	})
	return nil
}

// Shutdown stops the sweeper, waiting for a sweep in progress until ctx
// ends.
func (m *Module) Shutdown(ctx context.Context) error {
	if err := m.sweeper.Stop(ctx); err != nil {
		return fmt.Errorf("order sweeper still running at shutdown deadline: %w", err)
	}
	return nil
}
