package outbox_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/bustest"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/membus"
	"github.com/hyperrr/hyperrr/mdk/outbox"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func TestOnce(t *testing.T) {
	dbtest.Each(t, []string{schema}, func(t *testing.T, db *sqldb.DB) {
		Migrate(t, db, schema)
		ctx := context.Background()

		t.Run("RedeliverySkipped", func(t *testing.T) {
			var runs atomic.Int64
			h := outbox.Once(db, "search-index", func(context.Context, mdk.Event) error {
				runs.Add(1)
				return nil
			})
			e := event("once", 0)
			for range 3 {
				if err := h(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if n := runs.Load(); n != 1 {
				t.Fatalf("handler ran %d times for one event, want once", n)
			}
			other := outbox.Once(db, "mailer", func(context.Context, mdk.Event) error { runs.Add(1); return nil })
			if err := other(ctx, e); err != nil || runs.Load() != 2 {
				t.Fatalf("another consumer must handle the event too: err=%v runs=%d", err, runs.Load())
			}
		})

		t.Run("FailureNotMarked", func(t *testing.T) {
			var runs atomic.Int64
			h := outbox.Once(db, "flaky", func(context.Context, mdk.Event) error {
				if runs.Add(1) == 1 {
					return errors.New("first attempt fails")
				}
				return nil
			})
			e := event("retry", 0)
			if err := h(ctx, e); err == nil {
				t.Fatal("want the handler's error")
			}
			if err := h(ctx, e); err != nil {
				t.Fatal(err)
			}
			if err := h(ctx, e); err != nil || runs.Load() != 2 {
				t.Fatalf("err=%v runs=%d, want 2 runs: the failure, then one success", err, runs.Load())
			}
		})

		t.Run("OnceTxAtomic", func(t *testing.T) {
			e := event("tx", 0)
			fail := true
			h := outbox.OnceTx(db, "projector", func(ctx context.Context, tx *sqldb.Tx, e mdk.Event) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO "order".state (id) VALUES ($1)`, "projected/"+e.ID); err != nil {
					return err
				}
				if fail {
					return errors.New("fails after writing")
				}
				return nil
			})
			if err := h(ctx, e); err == nil {
				t.Fatal("want the handler's error")
			}
			fail = false
			for range 2 {
				if err := h(ctx, e); err != nil {
					t.Fatalf("redelivery: %v", err)
				}
			}
			if n := count(t, db, `SELECT COUNT(*) FROM "order".state WHERE id = $1`, "projected/"+e.ID); n != 1 {
				t.Fatalf("projected %d times, want once", n)
			}
		})

		t.Run("MarkProcessed", func(t *testing.T) {
			var firsts []bool
			for range 2 {
				err := db.Tx(ctx, func(tx *sqldb.Tx) error {
					first, err := outbox.MarkProcessed(ctx, tx, "marker", "evt-1")
					firsts = append(firsts, first)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if !firsts[0] || firsts[1] {
				t.Fatalf("got %v, want [true false]", firsts)
			}
			n, err := outbox.PurgeProcessed(ctx, db, time.Now().Add(time.Minute))
			if err != nil || n == 0 {
				t.Fatalf("purge: n=%d err=%v", n, err)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM mdk.processed_events`); n != 0 {
				t.Fatalf("%d marks left after purging everything", n)
			}
		})

		t.Run("RelayedTwice", func(t *testing.T) {
			// A crash between publish and delete republishes an event; the
			// subscriber wrapped in Once handles it once.
			bus, err := membus.New(membus.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := bus.Close(ctx); err != nil {
					t.Errorf("close bus: %v", err)
				}
			})
			var rec bustest.Recorder
			var runs atomic.Int64
			err = bus.Subscribe(mdk.Subscription{Name: "orders", Types: []string{"order.*"}},
				outbox.Once(db, "orders", func(ctx context.Context, e mdk.Event) error {
					runs.Add(1)
					return rec.Handle(ctx, e)
				}))
			if err != nil {
				t.Fatal(err)
			}
			r := MustRelay(t, db, bus, nil, outbox.Options{})
			e := event("twice", 0)
			for range 2 {
				if err := db.Tx(ctx, func(tx *sqldb.Tx) error { return r.Writer(schema).Emit(ctx, tx, e) }); err != nil {
					t.Fatal(err)
				}
				if err := r.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			marker := event("marker", 0)
			if err := bus.Publish(ctx, marker); err != nil {
				t.Fatal(err)
			}
			got := rec.WaitFor(t, 2)
			if len(got) != 2 || got[0].ID != e.ID || got[1].ID != marker.ID || runs.Load() != 2 {
				t.Fatalf("got %v after %d runs, want the event once and then the marker", got, runs.Load())
			}
		})
	})
}
