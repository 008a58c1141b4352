package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/bustest"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/outbox"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// schema is the module schema the tests write to; "order" checks quoting.
const schema = "order"

// Migrate applies the mdk migrations and the outbox of each schema.
func Migrate(tb testing.TB, db *sqldb.DB, schemas ...string) {
	tb.Helper()
	var sources []sqldb.Source
	for _, s := range schemas {
		sources = append(sources, outbox.Source(db.Engine(), s), sqldb.Source{
			Module: "test/" + s, Schema: s, Migrations: []sqldb.Migration{{Version: 1, Name: "state",
				SQL: "CREATE TABLE " + sqldb.QuoteIdent(s) + ".state (id TEXT PRIMARY KEY)"}},
		})
	}
	dbtest.MigrateMDK(tb, db, sources...)
}

// MustRelay returns a relay over schema that logs to log (nil: discard).
func MustRelay(t *testing.T, db *sqldb.DB, bus mdk.Bus, log slog.Handler, opts outbox.Options) *outbox.Relay {
	t.Helper()
	if log == nil {
		log = slog.DiscardHandler
	}
	opts.Logger = slog.New(log)
	r, err := outbox.NewRelay(db, bus, []string{schema}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// serve runs r.Serve until the test ends.
func serve(t *testing.T, r *outbox.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// recordingBus records what is published; while down, Publish fails.
type recordingBus struct {
	delay     time.Duration
	onPublish func() // called after a successful Publish
	down      atomic.Bool
	attempts  atomic.Int64
	mu        sync.Mutex
	events    []mdk.Event
}

func (b *recordingBus) Publish(_ context.Context, events ...mdk.Event) error {
	b.attempts.Add(1)
	time.Sleep(b.delay)
	if b.down.Load() {
		return mdk.Unavailable(errors.New("connection refused"), "the event bus is down")
	}
	b.mu.Lock()
	b.events = append(b.events, events...)
	b.mu.Unlock()
	if b.onPublish != nil {
		b.onPublish()
	}
	return nil
}

func (b *recordingBus) Subscribe(mdk.Subscription, mdk.Handler) error { return nil }
func (b *recordingBus) Ping(context.Context) error                    { return nil }
func (b *recordingBus) Close(context.Context) error                   { return nil }

func (b *recordingBus) Events() []mdk.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mdk.Event(nil), b.events...)
}

func (b *recordingBus) WaitFor(t *testing.T, n int) []mdk.Event {
	t.Helper()
	bustest.Eventually(t, fmt.Sprintf("%d published events", n), func() bool { return len(b.Events()) >= n })
	return b.Events()
}

// emit writes events in one transaction with a row of module state (keyed
// by the first event's ID), and commits unless fail is set.
func emit(t *testing.T, db *sqldb.DB, w *outbox.Writer, fail error, events ...mdk.Event) error {
	t.Helper()
	return db.Tx(context.Background(), func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(context.Background(), `INSERT INTO "order".state (id) VALUES ($1)`, events[0].ID); err != nil {
			return err
		}
		if err := w.Emit(context.Background(), tx, events...); err != nil {
			return err
		}
		return fail
	})
}

func event(subject string, seq int) mdk.Event {
	return bustest.Event("order.updated", subject, seq)
}

func outboxRows(t *testing.T, db *sqldb.DB) int {
	return count(t, db, `SELECT COUNT(*) FROM "order".outbox`)
}

// waitEmpty waits for the relays to delete what they published: the bus
// sees a batch just before its delete commits.
func waitEmpty(t *testing.T, db *sqldb.DB) {
	t.Helper()
	bustest.Eventually(t, "an empty outbox", func() bool { return outboxRows(t, db) == 0 })
}

func count(t *testing.T, db *sqldb.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkOnceInOrder fails t unless got holds each event exactly once and
// every subject's events in sequence.
func checkOnceInOrder(t *testing.T, got []mdk.Event, want int) {
	t.Helper()
	seen := map[string]int{}
	next := map[string]int{}
	for _, e := range got {
		seen[e.ID]++
		seq, err := strconv.Atoi(string(e.Data))
		if err != nil {
			t.Fatalf("event %s: data %q", e.ID, e.Data)
		}
		if seq != next[e.Subject] {
			t.Fatalf("subject %s: got event %d, want %d", e.Subject, seq, next[e.Subject])
		}
		next[e.Subject]++
	}
	if len(seen) != want || len(got) != want {
		t.Fatalf("got %d events (%d distinct), want %d once each", len(got), len(seen), want)
	}
}

func TestRelay(t *testing.T) {
	dbtest.Each(t, []string{schema}, func(t *testing.T, db *sqldb.DB) {
		Migrate(t, db, schema)
		ctx := context.Background()

		t.Run("Committed", func(t *testing.T) {
			bus := &recordingBus{}
			r := MustRelay(t, db, bus, nil, outbox.Options{})
			w := r.Writer(schema)
			want := []mdk.Event{event("o1", 0), event("o1", 1), event("o2", 0)}
			if err := emit(t, db, w, nil, want...); err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got := bus.Events()
			if len(got) != len(want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.ID != w.ID || g.Type != w.Type || g.Subject != w.Subject || string(g.Data) != string(w.Data) ||
					!g.Time.Equal(w.Time.Truncate(time.Millisecond)) {
					t.Fatalf("event %d: got %+v, want %+v", i, g, w)
				}
			}
			if n := outboxRows(t, db); n != 0 {
				t.Fatalf("%d rows left in the outbox after flush", n)
			}
		})

		t.Run("RolledBack", func(t *testing.T) {
			bus := &recordingBus{}
			r := MustRelay(t, db, bus, nil, outbox.Options{})
			boom := errors.New("business rule failed")
			e := event("rollback", 0)
			if err := emit(t, db, r.Writer(schema), boom, e); !errors.Is(err, boom) {
				t.Fatalf("got %v, want the handler's error", err)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM "order".state WHERE id = $1`, e.ID); n != 0 {
				t.Fatal("the rolled-back state change was kept")
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := bus.Events(); len(got) != 0 || outboxRows(t, db) != 0 {
				t.Fatalf("rolled-back events reached the bus: %v", got)
			}
		})

		t.Run("CommitWakesRelay", func(t *testing.T) {
			bus := &recordingBus{}
			// No polling to speak of: only the commit's wake-up can deliver.
			r := MustRelay(t, db, bus, nil, outbox.Options{PollInterval: time.Hour})
			serve(t, r)
			w := r.Writer(schema)
			for i := range 3 {
				if err := emit(t, db, w, nil, event("wake", i)); err != nil {
					t.Fatal(err)
				}
				bus.WaitFor(t, i+1)
			}
		})

		t.Run("ShutdownAfterPublish", func(t *testing.T) {
			// Serve is cancelled the moment the bus has the batch: the
			// delete must still commit, or shutdown would publish it twice.
			serveCtx, stop := context.WithCancel(ctx)
			defer stop()
			bus := &recordingBus{onPublish: stop}
			r := MustRelay(t, db, bus, nil, outbox.Options{})
			if err := emit(t, db, r.Writer(schema), nil, event("shutdown", 0)); err != nil {
				t.Fatal(err)
			}
			if err := r.Serve(serveCtx); err != nil {
				t.Fatal(err)
			}
			if got, rows := len(bus.Events()), outboxRows(t, db); got != 1 || rows != 0 {
				t.Fatalf("published %d events, %d rows left; want 1 and 0", got, rows)
			}
		})

		t.Run("BusDown", func(t *testing.T) {
			const n = 60
			bus := &recordingBus{}
			bus.down.Store(true)
			logs := &logCounter{}
			reg := prometheus.NewRegistry()
			r := MustRelay(t, db, bus, logs, outbox.Options{
				Registerer: reg, BatchSize: 25,
				Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, PollInterval: time.Millisecond,
			})
			serve(t, r)
			w := r.Writer(schema)
			for i := range n / 3 {
				if err := emit(t, db, w, nil, event("a", i), event("b", i), event("c", i)); err != nil {
					t.Fatal(err)
				}
			}
			bustest.Eventually(t, "several failed publishes", func() bool { return bus.attempts.Load() >= 5 })
			if rows := outboxRows(t, db); rows != n {
				t.Fatalf("%d rows in the outbox while the bus is down, want %d", rows, n)
			}
			if lag := metric(t, reg, "hyperrr_outbox_lag_seconds"); lag <= 0 {
				t.Fatalf("outbox lag %v while the bus is down, want > 0", lag)
			}
			bus.down.Store(false)
			checkOnceInOrder(t, bus.WaitFor(t, n), n)
			waitEmpty(t, db)
			bustest.Eventually(t, "the recovery to be logged", func() bool { return logs.count("outbox relay recovered") == 1 })
			if got := logs.count("outbox relay failing; events stay in the outbox until it recovers"); got != 1 {
				t.Fatalf("outage logged %d times, want once", got)
			}
			if got := metric(t, reg, "hyperrr_outbox_relayed_total"); got != n {
				t.Fatalf("relayed_total %v, want %d", got, n)
			}
			if got := metric(t, reg, "hyperrr_outbox_relay_errors_total"); got < 5 {
				t.Fatalf("relay_errors_total %v, want at least 5", got)
			}
		})

		t.Run("TwoRelays", func(t *testing.T) {
			const subjects, each = 5, 40
			// A slow publish widens the window in which the relays race.
			bus := &recordingBus{delay: 200 * time.Microsecond}
			reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
			r1 := MustRelay(t, db, bus, nil, outbox.Options{Registerer: reg1, BatchSize: 7, PollInterval: 5 * time.Millisecond})
			r2 := MustRelay(t, db, bus, nil, outbox.Options{Registerer: reg2, BatchSize: 7, PollInterval: 5 * time.Millisecond})
			// Writes to one subject serialize, as they do on an entity's
			// row. The first half is waiting when the relays start; the
			// second half is written while they run.
			write := func(from, to int) {
				var wg sync.WaitGroup
				errs := make(chan error, subjects)
				for s := range subjects {
					w := []*outbox.Writer{r1.Writer(schema), r2.Writer(schema)}[s%2]
					subject := "s" + strconv.Itoa(s)
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := from; i < to; i += 2 {
							if err := emit(t, db, w, nil, event(subject, i), event(subject, i+1)); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
			}
			write(0, each/2)
			serve(t, r1)
			serve(t, r2)
			write(each/2, each)
			checkOnceInOrder(t, bus.WaitFor(t, subjects*each), subjects*each)
			waitEmpty(t, db)
			t.Logf("relay 1 published %v events, relay 2 %v",
				metric(t, reg1, "hyperrr_outbox_relayed_total"), metric(t, reg2, "hyperrr_outbox_relayed_total"))
		})

		t.Run("ErrEmit", func(t *testing.T) {
			r := MustRelay(t, db, &recordingBus{}, nil, outbox.Options{})
			w := r.Writer(schema)
			if err := emit(t, db, w, nil, mdk.Event{ID: "no-type"}); mdk.ErrorCode(err) != mdk.CodeInvalid {
				t.Fatalf("event without a type: got %v, want invalid", err)
			}
			e := event("dup", 0)
			if err := emit(t, db, w, nil, e, e); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("duplicate event ID: got %v, want conflict", err)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM "order".outbox WHERE event_id IN ($1, $2)`, "no-type", e.ID); n != 0 {
				t.Fatalf("%d rows of a failed transaction in the outbox", n)
			}
		})
	})
}

// logCounter is a slog.Handler that counts records by message.
type logCounter struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCounter) WithGroup(string) slog.Handler            { return l }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs = map[string]int{}
	}
	l.msgs[r.Message]++
	return nil
}

func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs[msg]
}

// metric returns the sum of a metric's values across labels.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
