// Package natsbus is the NATS JetStream mdk.Bus, for Hyperrr running as
// several instances.
//
// Every event is stored in one stream (HYPERRR_EVENTS by default, subjects
// hyperrr.events.<type>), kept for MaxAge whether or not it was consumed,
// so a consumer can be replayed and an outage of a consumer loses nothing.
// The event ID is the message ID, so the stream drops a copy the outbox
// relay publishes again within the duplicate window.
//
// A subscription is a durable pull consumer with explicit acks:
//
//   - Shared delivery: one consumer named after the subscription, bound by
//     every instance, so the server hands each event to one of them (work
//     queue).
//   - Broadcast delivery: one consumer per instance (the subscription name
//     plus the instance ID), so every instance gets every event; the server
//     deletes the consumer of an instance gone for InactiveThreshold.
//
// A consumer has one event in flight at a time (MaxAckPending 1): events
// reach the subscription in stream order even when several instances share
// it and across retries, at the cost of one round trip per event. A failed
// or panicking handler is retried after a doubling backoff (a delayed
// negative ack, so the retry may land on another instance). The attempt
// count is the server's delivery count, so it survives instance deaths;
// after MaxAttempts the event is dead-lettered through OnDeadLetter and
// terminated. The server's own MaxDeliver is left unlimited on purpose:
// when it runs out the server drops the event with only an advisory, and
// the dead letter would be lost.
//
// The connection reconnects forever. While NATS is unreachable Publish
// fails at once (publishes are not buffered in the client), so the outbox
// relay keeps the events in SQL until NATS is back.
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
)

// Options configures a Bus. Only URL is required.
type Options struct {
	// URL is the NATS server URL; several, comma-separated, for a cluster.
	URL string
	// Instance names this process in Broadcast consumer names and in the
	// connection name; default hostname-pid.
	Instance string
	// Stream and Subjects name the event stream; defaults HYPERRR_EVENTS and
	// hyperrr.events (events go to <Subjects>.<type>).
	Stream   string
	Subjects string
	// MaxAge is how long the stream keeps an event (default 72h).
	MaxAge time.Duration
	// Replicas is the stream's replica count: 1 for a single server, 3 for
	// a three-node cluster (default 1).
	Replicas int
	// Logger receives handler failures, panics, dead letters and
	// connection changes; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the bus metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// MaxAttempts is the default number of handler attempts before an
	// event is dead-lettered (default 5).
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles per attempt up
	// to MaxBackoff (defaults 100ms and 5s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// AckWait is how long the server waits for an ack before it hands the
	// event to another instance. A running handler keeps extending it, so it
	// only bounds how long a subscription stalls when the instance holding
	// its event dies (default 5s).
	AckWait time.Duration
	// InactiveThreshold is how long a Broadcast consumer of a vanished
	// instance is kept (default 1h).
	InactiveThreshold time.Duration
	// ConnectTimeout bounds how long New waits for NATS (default 10s).
	ConnectTimeout time.Duration
	// OnDeadLetter receives each event given up on. If it fails, the event
	// is retried later rather than dropped. Nil only logs and counts.
	OnDeadLetter func(ctx context.Context, d mdk.DeadLetter) error
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Instance == "" {
		host, _ := os.Hostname() // an empty host still leaves a unique pid
		o.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.Stream == "" {
		o.Stream = "HYPERRR_EVENTS"
	}
	if o.Subjects == "" {
		o.Subjects = "hyperrr.events"
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 72 * time.Hour
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(5*time.Second, o.Backoff)
	}
	if o.AckWait <= 0 {
		o.AckWait = 5 * time.Second
	}
	if o.InactiveThreshold <= 0 {
		o.InactiveThreshold = time.Hour
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
}

// Bus is the JetStream mdk.Bus. Create it with New.
type Bus struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream

	handlerCtx context.Context
	cancel     context.CancelFunc

	mu      sync.Mutex
	closing bool
	subs    map[string]*subscriber

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

var _ mdk.Bus = (*Bus)(nil)

// New connects to NATS, waiting up to ConnectTimeout for it, and creates or
// updates the event stream.
func New(ctx context.Context, opts Options) (*Bus, error) {
	opts.setDefaults()
	if opts.URL == "" {
		return nil, mdk.Invalid("url", "a NATS URL is required (nats://host:4222)")
	}
	b := &Bus{opts: opts, log: opts.Logger.With("bus", "nats"), subs: map[string]*subscriber{}, closed: make(chan struct{})}
	var err error
	b.nc, err = nats.Connect(opts.URL,
		nats.Name("hyperrr "+opts.Instance),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(250*time.Millisecond),
		// No client-side buffer while disconnected: a publish fails at
		// once and its events stay in the outbox, instead of living only
		// in this process's memory.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("NATS connection lost; reconnecting", "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			b.log.Info("NATS connection restored", "server", c.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", opts.URL, err)
	}
	if err := b.init(ctx); err != nil {
		b.nc.Close()
		return nil, err
	}
	b.handlerCtx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

func (b *Bus) init(ctx context.Context) error {
	var err error
	if b.metrics, err = newMetrics(b.opts.Registerer, b.nc); err != nil {
		return fmt.Errorf("new NATS bus: %w", err)
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	return b.ensureStream(ctx)
}

// ensureStream creates or updates the stream, retrying until the server
// answers or ConnectTimeout passes.
func (b *Bus) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.ConnectTimeout)
	defer cancel()
	cfg := jetstream.StreamConfig{
		Name:        b.opts.Stream,
		Description: "Hyperrr domain events",
		Subjects:    []string{b.opts.Subjects + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      b.opts.MaxAge,
		Replicas:    b.opts.Replicas,
		Storage:     jetstream.FileStorage,
		Duplicates:  2 * time.Minute,
	}
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := b.js.CreateOrUpdateStream(actx, cfg)
		acancel()
		if err == nil {
			b.stream = s
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create JetStream stream %s on %s (is NATS running with JetStream enabled?): %w", cfg.Name, b.opts.URL, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func errClosed() error {
	return &mdk.Error{Code: mdk.CodeUnavailable, Message: "the event bus is shut down"}
}

func errUnavailable(err error) error {
	return &mdk.Error{Code: mdk.CodeUnavailable, Message: "NATS is unreachable; events wait in the outbox until it is back", Cause: err}
}

func (b *Bus) isClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closing
}

// Publish stores events in the stream, in order, and returns once the
// server has acknowledged every one. It returns an invalid error for an
// event type that is not a valid NATS subject, and an unavailable error
// when NATS is unreachable or Close has started; events before the failing
// one may already be stored, which at-least-once delivery allows.
func (b *Bus) Publish(ctx context.Context, events ...mdk.Event) error {
	if b.isClosing() {
		return errClosed()
	}
	futures := make([]jetstream.PubAckFuture, 0, len(events))
	for i, e := range events {
		if err := validType(e.Type); err != nil {
			return mdk.Invalid(fmt.Sprintf("events[%d].type", i), "%v", err)
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		msg := &nats.Msg{Subject: b.opts.Subjects + "." + e.Type, Data: data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, e.ID)
		f, err := b.js.PublishMsgAsync(msg, jetstream.WithExpectStream(b.opts.Stream))
		if err != nil {
			b.metrics.publishErrors.Inc()
			return errUnavailable(fmt.Errorf("publish %s: %w", e.ID, err))
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
			b.metrics.published.Inc()
		case err := <-f.Err():
			b.metrics.publishErrors.Inc()
			return errUnavailable(fmt.Errorf("publish %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err))
		case <-ctx.Done():
			b.metrics.publishErrors.Inc()
			return errUnavailable(ctx.Err())
		}
	}
	return nil
}

// Subscribe creates (or binds to) the subscription's durable consumer and
// starts delivering to h. It returns an invalid error for a missing or
// duplicate name, a missing handler, no patterns, a malformed pattern or a
// negative MaxAttempts, and an unavailable error when NATS does not answer
// or Close has started.
func (b *Bus) Subscribe(sub mdk.Subscription, h mdk.Handler) error {
	if h == nil && sub.Name != "" {
		return mdk.Invalid("handler", "subscription %q needs a handler", sub.Name)
	}
	if err := sub.Validate(); err != nil {
		return err
	}
	if sub.MaxAttempts == 0 {
		sub.MaxAttempts = b.opts.MaxAttempts
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return errClosed()
	}
	if _, taken := b.subs[sub.Name]; taken {
		return mdk.Invalid("name", "a subscription named %q already exists", sub.Name)
	}
	s := b.newSubscriber(sub, h)
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.ConnectTimeout)
	defer cancel()
	if err := s.start(ctx); err != nil {
		return err
	}
	b.subs[sub.Name] = s
	return nil
}

// Ping reports whether NATS is connected and the stream answers.
func (b *Bus) Ping(ctx context.Context) error {
	if b.isClosing() {
		return errClosed()
	}
	if !b.nc.IsConnected() {
		return errUnavailable(fmt.Errorf("connection %s", b.nc.Status()))
	}
	if _, err := b.stream.Info(ctx); err != nil {
		return errUnavailable(fmt.Errorf("stream %s: %w", b.opts.Stream, err))
	}
	return nil
}

// Close stops taking events, then keeps handling until every subscription
// has handled the events stored before Close began, or ctx ends. Events
// left are not lost: a Shared consumer keeps them for the other instances
// or the next start. Broadcast consumers are deleted, since no one else
// reads them. Later calls wait for the first and return its result.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		go b.close(ctx)
	})
	select {
	case <-b.closed:
		return b.closeErr
	case <-ctx.Done():
		// The first call's context bounds the drain; a later caller
		// giving up earlier only stops waiting.
		return fmt.Errorf("close NATS bus: %w", ctx.Err())
	}
}

func (b *Bus) close(ctx context.Context) {
	defer close(b.closed)
	b.mu.Lock()
	b.closing = true
	subs := make([]*subscriber, 0, len(b.subs))
	for _, s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	var errs []error
	if err := b.drain(ctx, subs); err != nil {
		errs = append(errs, err)
	}
	b.cancel()
	for _, s := range subs {
		if err := s.halt(); err != nil {
			errs = append(errs, err)
		}
	}
	b.nc.Close()
	if len(errs) > 0 {
		b.closeErr = fmt.Errorf("close NATS bus: %w", errors.Join(errs...))
	}
}

// drain waits until every subscription has handled what the stream held
// when it was called.
func (b *Bus) drain(ctx context.Context, subs []*subscriber) error {
	if len(subs) == 0 || !b.nc.IsConnected() {
		return nil
	}
	info, err := b.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream state: %w", err)
	}
	last := info.State.LastSeq
	for _, s := range subs {
		for {
			done, err := s.drained(ctx, last)
			if err != nil {
				return fmt.Errorf("subscription %s: %w", s.sub.Name, err)
			}
			if done {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("subscription %s: events stored before shutdown not yet handled (they stay in the stream): %w", s.sub.Name, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return nil
}
