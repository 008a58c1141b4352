package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Options configures a Relay. The zero value is usable.
type Options struct {
	// Logger receives outages and recoveries; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the relay metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// BatchSize is the most rows published in one transaction
	// (default 100, at most 1000).
	BatchSize int
	// PollInterval is how often the outboxes are checked when nothing
	// wakes the relay: for events written by other processes, or without
	// a Writer from this relay (default 250ms).
	PollInterval time.Duration
	// PublishTimeout bounds one Publish. The batch's rows stay locked
	// meanwhile (on SQLite the whole database's write lock is held), so it
	// must stay well below SQLite's 10s busy timeout (default 5s).
	PublishTimeout time.Duration
	// Backoff is the first wait after a failed pass; it doubles up to
	// MaxBackoff while the failure lasts (defaults 100ms and 10s).
	Backoff    time.Duration
	MaxBackoff time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	o.BatchSize = min(o.BatchSize, 1000)
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 5 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(10*time.Second, o.Backoff)
	}
}

// Relay moves committed events from the outboxes to the bus.
//
// Each batch is claimed, published and deleted in one transaction. The
// claim locks the rows (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
// immediate transactions hold the write lock), so relays in several
// processes take turns and events reach the bus in id order. One subject's
// events therefore keep their order whenever the transactions writing them
// serialize, as they do when each updates the subject's row. Unrelated
// concurrent transactions carry no order: on PostgreSQL ids are handed out
// at insert, not at commit, so a lower id may be published after a higher
// one.
type Relay struct {
	db      *sqldb.DB
	bus     mdk.Bus
	opts    Options
	log     *slog.Logger
	metrics *metrics
	wake    chan struct{}

	mu      sync.Mutex
	schemas []string
	writers map[string]*Writer
}

// NewRelay returns a relay for the outboxes of schemas; it fails only when
// the metrics cannot be registered.
func NewRelay(db *sqldb.DB, bus mdk.Bus, schemas []string, opts Options) (*Relay, error) {
	opts.setDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new outbox relay: %w", err)
	}
	r := &Relay{
		db:      db,
		bus:     bus,
		opts:    opts,
		log:     opts.Logger.With("component", "outbox.relay"),
		metrics: m,
		wake:    make(chan struct{}, 1),
		writers: map[string]*Writer{},
	}
	for _, s := range schemas {
		r.Writer(s)
	}
	return r, nil
}

// Writer returns the writer for schema's outbox, whose committed events
// wake the relay. A schema not given to NewRelay is relayed from now on.
func (r *Relay) Writer(schema string) *Writer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.writers[schema]; ok {
		return w
	}
	w := newWriter(schema, r.notify)
	r.writers[schema] = w
	r.schemas = append(r.schemas, schema)
	return w
}

// notify wakes Serve without blocking the committing transaction; one
// pending wake-up covers any number of commits.
func (r *Relay) notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Relay) schemaList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.schemas)
}

// Serve relays until ctx ends, then returns nil. It wakes on every commit
// through a Writer of this relay and at least every PollInterval. When a
// pass fails (the bus or the database is down), the rows stay in the
// outbox and Serve backs off; the outage is logged when it starts and when
// it ends, not per attempt.
func (r *Relay) Serve(ctx context.Context) error {
	var (
		failures    int
		outageStart time.Time
		wait        = r.opts.Backoff
	)
	for {
		err := r.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wake := r.wake
		pause := r.opts.PollInterval
		switch {
		case err != nil:
			if failures == 0 {
				outageStart = time.Now()
				wait = r.opts.Backoff
				r.log.Warn("outbox relay failing; events stay in the outbox until it recovers", "error", err)
			}
			failures++
			pause = wait
			wait = min(2*wait, r.opts.MaxBackoff)
			// Commits must not cut the backoff short while the bus is down.
			wake = nil
		case failures > 0:
			r.log.Info("outbox relay recovered", "outage", time.Since(outageStart).Round(time.Millisecond), "failed_passes", failures)
			failures = 0
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// Flush relays until every outbox is empty, for tests and shutdown. Unlike
// Serve it does not retry: the first failure is returned.
func (r *Relay) Flush(ctx context.Context) error {
	return r.pass(ctx)
}

// pass drains every outbox once. A failing schema does not hold up the
// others; the failures are joined.
func (r *Relay) pass(ctx context.Context) error {
	var errs []error
	for _, schema := range r.schemaList() {
		for {
			n, err := r.relayBatch(ctx, schema)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if n < r.opts.BatchSize {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// relayBatch relays one batch of schema's outbox and reports how many
// events it published.
func (r *Relay) relayBatch(ctx context.Context, schema string) (int, error) {
	n, err := r.publishBatch(ctx, schema)
	if err != nil {
		r.metrics.errors.WithLabelValues(schema).Inc()
		return 0, fmt.Errorf("relay %s: %w", schema, err)
	}
	r.metrics.relayed.WithLabelValues(schema).Add(float64(n))
	return n, nil
}

// publishBatch claims the oldest rows, publishes them and deletes them, in
// one transaction. If Publish fails the transaction rolls back and the rows
// stay; if the commit fails after Publish succeeded, the rows are published
// again later (at least once).
//
// A plain read first skips the transaction when the outbox is empty, so
// idle polling never takes SQLite's write lock.
func (r *Relay) publishBatch(ctx context.Context, schema string) (int, error) {
	var oldest int64
	err := r.db.QueryRowContext(ctx, "SELECT occurred_at FROM "+table(schema)+" ORDER BY id LIMIT 1").Scan(&oldest)
	if errors.Is(err, sql.ErrNoRows) {
		r.metrics.lag.WithLabelValues(schema).Set(0)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read oldest event: %w", err)
	}
	r.metrics.lag.WithLabelValues(schema).Set(time.Since(time.UnixMilli(oldest)).Seconds())
	// Once the bus has the events, the delete must commit even if ctx is
	// cancelled (shutdown), or every shutdown would publish a batch twice.
	// database/sql rolls a transaction back when its context ends, so the
	// transaction runs on a detached, bounded context and only the claim
	// and the publish follow ctx.
	txCtx, cancelTx := context.WithTimeout(context.WithoutCancel(ctx), r.opts.PublishTimeout+30*time.Second)
	defer cancelTx()
	var relayed int
	err = r.db.Tx(txCtx, func(tx *sqldb.Tx) error {
		relayed = 0
		ids, events, err := r.claim(ctx, tx, schema)
		if err != nil || len(events) == 0 {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, r.opts.PublishTimeout)
		defer cancel()
		if err := r.bus.Publish(pctx, events...); err != nil {
			return fmt.Errorf("publish %d events: %w", len(events), err)
		}
		q := "DELETE FROM " + table(schema) + " WHERE id IN (" + placeholders(1, len(ids)) + ")"
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		if _, err := tx.ExecContext(txCtx, q, args...); err != nil {
			return fmt.Errorf("delete %d published events: %w", len(ids), err)
		}
		relayed = len(events)
		return nil
	})
	return relayed, err
}

// claim reads and locks the oldest batch of rows. Rows are deleted by id
// rather than by range: on PostgreSQL a row with a lower id can commit
// after the claim and must not be deleted unpublished.
func (r *Relay) claim(ctx context.Context, tx *sqldb.Tx, schema string) ([]int64, []mdk.Event, error) {
	rows, err := tx.QueryContext(ctx,
		"SELECT id, event_id, type, subject, data, occurred_at FROM "+table(schema)+" ORDER BY id LIMIT $1"+r.db.ForUpdate(),
		r.opts.BatchSize)
	if err != nil {
		return nil, nil, fmt.Errorf("claim events: %w", err)
	}
	defer rows.Close()
	var (
		ids    []int64
		events []mdk.Event
	)
	for rows.Next() {
		var (
			id   int64
			e    mdk.Event
			data string
			at   int64
		)
		if err := rows.Scan(&id, &e.ID, &e.Type, &e.Subject, &data, &at); err != nil {
			return nil, nil, fmt.Errorf("read claimed event: %w", err)
		}
		if data != "" {
			e.Data = []byte(data)
		}
		e.Time = time.UnixMilli(at).UTC()
		ids = append(ids, id)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("claim events: %w", err)
	}
	return ids, events, nil
}
