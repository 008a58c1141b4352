package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Once makes h idempotent by event ID for consumer, using
// mdk.processed_events: an event already marked for consumer is skipped,
// and an event is marked only after h succeeds, so a failed attempt is
// retried.
//
// The mark and h's own writes are not one transaction: if the process dies
// between them, or two deliveries of one event run at the same moment, h
// runs twice. That suits handlers whose effect is naturally idempotent
// (re-indexing a product, an upsert). When the effect is a database write
// that must happen exactly once, use OnceTx, or call MarkProcessed in the
// handler's own transaction.
//
// consumer names the handler and must stay stable across releases (for
// example the subscription name); Once panics if it is empty, since that
// is a wiring mistake.
func Once(db *sqldb.DB, consumer string, h mdk.Handler) mdk.Handler {
	mustConsumer(consumer)
	return func(ctx context.Context, e mdk.Event) error {
		var seen int
		err := db.QueryRowContext(ctx,
			`SELECT 1 FROM mdk.processed_events WHERE consumer = $1 AND event_id = $2`, consumer, e.ID).Scan(&seen)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%s: check event %s: %w", consumer, e.ID, err)
		}
		if err := h(ctx, e); err != nil {
			return err
		}
		if _, err := markProcessed(ctx, db, consumer, e.ID); err != nil {
			return fmt.Errorf("%s: mark event %s processed: %w", consumer, e.ID, err)
		}
		return nil
	}
}

// OnceTx runs h in a transaction that also marks the event processed for
// consumer, so the handler's writes and the mark commit together: an event
// already marked is skipped, and a failed h leaves no mark. Concurrent
// deliveries of one event serialize on the mark.
func OnceTx(db *sqldb.DB, consumer string, h func(ctx context.Context, tx *sqldb.Tx, e mdk.Event) error) mdk.Handler {
	mustConsumer(consumer)
	return func(ctx context.Context, e mdk.Event) error {
		return db.Tx(ctx, func(tx *sqldb.Tx) error {
			first, err := MarkProcessed(ctx, tx, consumer, e.ID)
			if err != nil || !first {
				return err
			}
			return h(ctx, tx, e)
		})
	}
}

// MarkProcessed records in tx that consumer has handled event eventID and
// reports whether this is the first time. A handler that writes in its own
// transaction calls it there first and does nothing when it returns false;
// the mark then commits or rolls back with the handler's writes. On
// PostgreSQL a concurrent transaction marking the same event waits for this
// one and then gets false.
func MarkProcessed(ctx context.Context, tx *sqldb.Tx, consumer, eventID string) (bool, error) {
	first, err := markProcessed(ctx, tx, consumer, eventID)
	if err != nil {
		return false, fmt.Errorf("%s: mark event %s processed: %w", consumer, eventID, err)
	}
	return first, nil
}

func markProcessed(ctx context.Context, q sqldb.Querier, consumer, eventID string) (bool, error) {
	res, err := q.ExecContext(ctx,
		`INSERT INTO mdk.processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3)
		 ON CONFLICT (consumer, event_id) DO NOTHING`,
		consumer, eventID, time.Now().UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// PurgeProcessed deletes marks older than before and returns how many went.
// Keep marks longer than any event can be redelivered (the outbox relay's
// worst outage plus the bus's retention).
func PurgeProcessed(ctx context.Context, db *sqldb.DB, before time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM mdk.processed_events WHERE processed_at < $1`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge processed events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge processed events: %w", err)
	}
	return n, nil
}

func mustConsumer(consumer string) {
	if consumer == "" {
		panic("outbox: a consumer name is required to dedupe events")
	}
}
