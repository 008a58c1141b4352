// Package membus is the in-memory mdk.Bus, the embedded default of a single
// Hyperrr process.
//
// Every subscription owns a bounded queue and one goroutine, so it sees
// events in publish order and a slow or failing subscriber delays only
// itself, until its queue fills. Then Publish waits for room: the events
// it has not handed over yet are still in the outbox, so backpressure loses
// nothing, whereas a growing queue would hold them only in memory. Size
// QueueSize for the bursts a subscriber must absorb without slowing the
// others.
//
// Events live only in memory once Publish has returned: what is still queued
// when Close gives up is lost, and the outbox relay has already deleted it.
// Stop the relay first and give Close time to drain.
package membus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
)

// Options configures a Bus. The zero value is usable.
type Options struct {
	// Logger receives handler failures, panics and dead letters;
	// nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the bus metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// MaxAttempts is the default number of handler attempts before an
	// event is dead-lettered, for subscriptions that do not set their own
	// (default 5).
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles on every
	// further retry up to MaxBackoff (defaults 100ms and 5s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// QueueSize bounds the events waiting for each subscription
	// (default 1024).
	QueueSize int
	// DeadLetterLimit bounds the dead letters kept for DeadLetters; older
	// ones are dropped first (default 1000).
	DeadLetterLimit int
	// OnDeadLetter, if set, also receives every dead letter, for example
	// to persist it where operators can list it (the gateway does); its
	// error is logged.
	OnDeadLetter func(ctx context.Context, d mdk.DeadLetter) error
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
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
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.DeadLetterLimit <= 0 {
		o.DeadLetterLimit = 1000
	}
}

// DeadLetter is an event a subscription gave up on after its last attempt.
type DeadLetter = mdk.DeadLetter

// Bus is the in-memory mdk.Bus. Create it with New.
type Bus struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics

	// publishing admits one Publish at a time, so all subscriptions see
	// concurrent publishers' events in the same order. It is a channel,
	// not a mutex, so a waiting Publish still honours its context.
	publishing chan struct{}
	// closing is closed when Close starts: Publish and Subscribe refuse.
	closing chan struct{}
	// stop is closed when Close gives up draining: workers abandon their
	// queues and handler contexts are cancelled.
	stop       chan struct{}
	handlerCtx context.Context
	cancel     context.CancelFunc
	// drained is closed once every worker has finished its queue.
	drained   chan struct{}
	workers   sync.WaitGroup
	closeOnce sync.Once
	stopOnce  sync.Once

	mu       sync.RWMutex
	subs     []*subscriber
	closeErr error

	deadMu sync.Mutex
	dead   []DeadLetter // ring buffer of at most DeadLetterLimit
	deadAt int          // next slot to overwrite once dead is full
}

var _ mdk.Bus = (*Bus)(nil)

// New returns a running bus. It fails only when the metrics cannot be
// registered (for example twice on one Registerer).
func New(opts Options) (*Bus, error) {
	opts.setDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new memory bus: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bus{
		opts:       opts,
		log:        opts.Logger.With("bus", "memory"),
		metrics:    m,
		publishing: make(chan struct{}, 1),
		closing:    make(chan struct{}),
		stop:       make(chan struct{}),
		handlerCtx: ctx,
		cancel:     cancel,
		drained:    make(chan struct{}),
	}, nil
}

func errClosed() error {
	return &mdk.Error{Code: mdk.CodeUnavailable, Message: "the event bus is shut down"}
}

// Publish queues each event for every subscription whose patterns match its
// type, in order. It blocks while a queue is full, until there is room or
// ctx ends. It returns ctx's error, or an unavailable error once Close has
// started; events before the failing one may already be queued, which the
// outbox's at-least-once delivery allows.
func (b *Bus) Publish(ctx context.Context, events ...mdk.Event) error {
	select {
	case b.publishing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closing:
		return errClosed()
	}
	defer func() { <-b.publishing }()
	select {
	case <-b.closing:
		return errClosed()
	default:
	}
	b.mu.RLock()
	subs := b.subs
	b.mu.RUnlock()
	for _, e := range events {
		for _, s := range subs {
			if !s.sub.Matches(e.Type) {
				continue
			}
			if err := s.enqueue(ctx, e, b.closing); err != nil {
				return err
			}
		}
		b.metrics.published.Inc()
	}
	return nil
}

// Subscribe starts delivering events whose type matches sub.Types to h.
// All events go to this process, so Shared and Broadcast delivery are the
// same here. It returns an invalid error for a missing or duplicate name, a
// missing handler, no patterns, a malformed pattern or a negative
// MaxAttempts, and an unavailable error once Close has started.
func (b *Bus) Subscribe(sub mdk.Subscription, h mdk.Handler) error {
	if err := validate(sub, h); err != nil {
		return err
	}
	if sub.MaxAttempts == 0 {
		sub.MaxAttempts = b.opts.MaxAttempts
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.closing:
		return errClosed()
	default:
	}
	for _, s := range b.subs {
		if s.sub.Name == sub.Name {
			return mdk.Invalid("name", "a subscription named %q already exists", sub.Name)
		}
	}
	s := b.newSubscriber(sub, h)
	// Copy on write: Publish reads the slice without holding the lock.
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], s)
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		s.run()
	}()
	return nil
}

func validate(sub mdk.Subscription, h mdk.Handler) error {
	if h == nil && sub.Name != "" {
		return mdk.Invalid("handler", "subscription %q needs a handler", sub.Name)
	}
	return sub.Validate()
}

// Ping reports an unavailable error once Close has started.
func (b *Bus) Ping(ctx context.Context) error {
	select {
	case <-b.closing:
		return errClosed()
	default:
		return ctx.Err()
	}
}

// Close stops taking events, then delivers what is queued (retries
// included) until every queue is empty or ctx ends. If ctx ends first, the
// workers abandon their queues, handler contexts are cancelled, and Close
// returns an error wrapping ctx's that counts the abandoned events; a
// handler that ignores its context keeps its goroutine until it returns.
// Later calls wait the same way and return the first call's result once it
// is known.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		close(b.closing)
		// A Publish in flight sees closing and returns promptly; once the
		// slot is ours no Publish can send on a queue, so closing the queues
		// is safe. The slot is never given back.
		b.publishing <- struct{}{}
		b.mu.Lock()
		subs := b.subs
		b.mu.Unlock()
		for _, s := range subs {
			close(s.queue)
		}
		go func() {
			b.workers.Wait()
			b.cancel()
			close(b.drained)
		}()
	})
	select {
	case <-b.drained:
		b.mu.RLock()
		defer b.mu.RUnlock()
		return b.closeErr
	case <-ctx.Done():
		return b.abandon(ctx.Err())
	}
}

// abandon stops the workers and records how many events they leave behind.
func (b *Bus) abandon(cause error) error {
	b.stopOnce.Do(func() {
		close(b.stop)
		b.cancel()
		b.mu.Lock()
		defer b.mu.Unlock()
		total := 0
		for _, s := range b.subs {
			if n := int(s.pending.Load()); n > 0 {
				total += n
				b.log.Error("abandoned queued events at shutdown", "subscription", s.sub.Name, "events", n)
			}
		}
		if total > 0 {
			b.closeErr = fmt.Errorf("close memory bus: abandoned %d undelivered events: %w", total, cause)
		}
	})
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closeErr
}

// DeadLetters returns the most recent dead letters, oldest first.
func (b *Bus) DeadLetters() []DeadLetter {
	b.deadMu.Lock()
	defer b.deadMu.Unlock()
	out := make([]DeadLetter, 0, len(b.dead))
	out = append(out, b.dead[b.deadAt:]...)
	return append(out, b.dead[:b.deadAt]...)
}

func (b *Bus) addDeadLetter(d DeadLetter) {
	b.deadMu.Lock()
	defer b.deadMu.Unlock()
	if len(b.dead) < b.opts.DeadLetterLimit {
		b.dead = append(b.dead, d)
		return
	}
	b.dead[b.deadAt] = d
	b.deadAt = (b.deadAt + 1) % len(b.dead)
}
