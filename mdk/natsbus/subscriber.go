package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/internal/metricset"
)

// subscriber is one subscription: its consumer and the fetch loop that
// feeds the handler.
type subscriber struct {
	bus *Bus
	sub mdk.Subscription
	h   mdk.Handler
	cfg jetstream.ConsumerConfig

	mu   sync.Mutex
	cons jetstream.Consumer
	stop chan struct{} // closed to end the fetch loop
	done chan struct{} // closed when the fetch loop has ended

	metricset.HandlingOf
}

func (b *Bus) newSubscriber(sub mdk.Subscription, h mdk.Handler) *subscriber {
	cfg := jetstream.ConsumerConfig{
		Durable:        consumerName(sub.Name),
		Description:    "hyperrr subscription " + sub.Name,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        b.opts.AckWait,
		MaxDeliver:     -1,
		MaxAckPending:  1,
		FilterSubjects: filterSubjects(b.opts.Subjects, sub.Types),
	}
	if sub.Delivery == mdk.Broadcast {
		cfg.Durable = consumerName(sub.Name, b.opts.Instance)
		cfg.Description += " on " + b.opts.Instance
		cfg.InactiveThreshold = b.opts.InactiveThreshold
	}
	return &subscriber{
		bus: b, sub: sub, h: h, cfg: cfg,
		stop: make(chan struct{}), done: make(chan struct{}),
		HandlingOf: b.metrics.handling.For(sub.Name),
	}
}

// start creates or binds the consumer and starts the fetch loop.
func (s *subscriber) start(ctx context.Context) error {
	if err := s.ensure(ctx); err != nil {
		return err
	}
	go s.run()
	return nil
}

// ensure creates the consumer, or updates it to this configuration; it is
// idempotent, so every instance calls it on start and after errors.
func (s *subscriber) ensure(ctx context.Context) error {
	cons, err := s.bus.js.CreateOrUpdateConsumer(ctx, s.bus.opts.Stream, s.cfg)
	if err != nil {
		return errUnavailable(fmt.Errorf("create consumer %s for subscription %s: %w", s.cfg.Durable, s.sub.Name, err))
	}
	s.mu.Lock()
	s.cons = cons
	s.mu.Unlock()
	return nil
}

func (s *subscriber) consumer() jetstream.Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cons
}

// fetchBatch and fetchWait shape the pull requests: the server hands out
// one event at a time (MaxAckPending 1) within a request, and an idle
// request ends after fetchWait, when stop is checked.
const (
	fetchBatch = 64
	fetchWait  = time.Second
	// checkEvery is how often an idle loop checks that its consumer still
	// exists: a pull request to a deleted consumer just times out, like an
	// idle one.
	checkEvery = 5 * time.Second
)

// run pulls and handles events until stop is closed. A failed pull (NATS
// unreachable, the consumer deleted under us by an operator or by the
// inactive threshold during a long outage) is retried after a pause, and
// the consumer is created again once NATS answers.
//
// It uses plain pull requests rather than the client's Consume helper:
// with one event in flight, Consume was seen to stop asking for more while
// events waited (no pull request left on the server) until its heartbeat
// check fired 30s later.
func (s *subscriber) run() {
	defer close(s.done)
	broken := false
	checked := time.Now()
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		if broken && s.bus.nc.IsConnected() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.ensure(ctx); err == nil {
				broken = false
			} else {
				s.bus.log.Debug("recreate consumer", "subscription", s.sub.Name, "error", err)
			}
			cancel()
		}
		batch, err := s.consumer().Fetch(fetchBatch, jetstream.FetchMaxWait(fetchWait))
		got := 0
		if err == nil {
			for msg := range batch.Messages() {
				got++
				s.handle(msg)
			}
			err = batch.Error()
		}
		if got == 0 && time.Since(checked) > checkEvery {
			checked = time.Now()
			err = s.check(err)
		}
		if err == nil || errors.Is(err, nats.ErrTimeout) {
			continue
		}
		if !broken {
			s.bus.log.Debug("pull events", "subscription", s.sub.Name, "error", err)
		}
		broken = true
		select {
		case <-s.stop:
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// handle runs the handler on one message and acks, retries or
// dead-letters it.
func (s *subscriber) handle(msg jetstream.Msg) {
	b := s.bus
	var e mdk.Event
	if err := json.Unmarshal(msg.Data(), &e); err != nil {
		e = mdk.Event{ID: msg.Headers().Get(jetstream.MsgIDHeader), Type: strings.TrimPrefix(msg.Subject(), b.opts.Subjects+"."), Data: msg.Data()}
		s.giveUp(msg, e, 1, fmt.Errorf("unreadable event: %w", err))
		return
	}
	if !s.sub.Matches(e.Type) {
		// The filter is wider than the patterns (see filterSubjects).
		s.ack(msg)
		return
	}
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	err := s.call(msg, e)
	if err == nil {
		s.ack(msg)
		s.Delivered.Inc()
		return
	}
	s.Failures.Inc()
	if attempt >= s.sub.MaxAttempts {
		s.giveUp(msg, e, attempt, err)
		return
	}
	wait := s.backoff(attempt)
	b.log.Warn("event handler failed; retrying",
		"subscription", s.sub.Name, "event_id", e.ID, "event_type", e.Type, "subject", e.Subject,
		"attempt", attempt, "max_attempts", s.sub.MaxAttempts, "retry_in", wait, "error", err)
	s.Retries.Inc()
	s.nak(msg, wait)
}

func (s *subscriber) backoff(attempt int) time.Duration {
	wait := s.bus.opts.Backoff
	for i := 1; i < attempt && wait < s.bus.opts.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, s.bus.opts.MaxBackoff)
}

// call runs the handler once, telling the server the event is still being
// worked on while it runs, so a slow handler is not handed to another
// instance. A panic is logged with its stack and becomes the attempt's
// error.
func (s *subscriber) call(msg jetstream.Msg, e mdk.Event) (err error) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(s.bus.opts.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = msg.InProgress() // a lost extension only risks a duplicate, which handlers dedupe
			}
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			s.Panics.Inc()
			s.bus.log.Error("event handler panicked",
				"subscription", s.sub.Name, "event_id", e.ID, "event_type", e.Type, "subject", e.Subject,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return s.h(s.bus.handlerCtx, e)
}

// giveUp dead-letters e and terminates its message; if the dead letter
// cannot be stored, the message is retried later instead.
func (s *subscriber) giveUp(msg jetstream.Msg, e mdk.Event, attempts int, cause error) {
	b := s.bus
	b.log.Error("event dead-lettered: handler gave up",
		"subscription", s.sub.Name, "event_id", e.ID, "event_type", e.Type, "subject", e.Subject,
		"attempts", attempts, "error", cause)
	if b.opts.OnDeadLetter != nil {
		d := mdk.DeadLetter{Subscription: s.sub.Name, Event: e, Attempts: attempts, Error: cause.Error(), Instance: b.opts.Instance, At: time.Now().UTC()}
		ctx, cancel := context.WithTimeout(b.handlerCtx, 10*time.Second)
		err := b.opts.OnDeadLetter(ctx, d)
		cancel()
		if err != nil {
			b.log.Error("store dead letter; the event is retried instead", "subscription", s.sub.Name, "event_id", e.ID, "error", err)
			s.nak(msg, b.opts.MaxBackoff)
			return
		}
	}
	s.DeadLettered.Inc()
	if err := msg.Term(); err != nil {
		b.log.Warn("terminate dead-lettered event", "subscription", s.sub.Name, "event_id", e.ID, "error", err)
	}
}

func (s *subscriber) ack(msg jetstream.Msg) {
	if err := msg.Ack(); err != nil {
		// The server redelivers after AckWait; handlers dedupe by ID.
		s.bus.log.Debug("ack event", "subscription", s.sub.Name, "error", err)
	}
}

func (s *subscriber) nak(msg jetstream.Msg, delay time.Duration) {
	if err := msg.NakWithDelay(delay); err != nil {
		s.bus.log.Debug("nak event", "subscription", s.sub.Name, "error", err)
	}
}

// check asks the server about the consumer after an idle pull, turning a
// deleted consumer into an error that makes run create it again.
func (s *subscriber) check(fetchErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), fetchWait)
	defer cancel()
	if _, err := s.consumer().Info(ctx); errors.Is(err, jetstream.ErrConsumerNotFound) {
		s.bus.log.Warn("NATS consumer vanished; creating it again", "subscription", s.sub.Name, "consumer", s.cfg.Durable)
		return err
	}
	return fetchErr
}

// drained reports whether the consumer has handled every event the stream
// held up to sequence last.
func (s *subscriber) drained(ctx context.Context, last uint64) (bool, error) {
	info, err := s.consumer().Info(ctx)
	if err != nil {
		return false, fmt.Errorf("read consumer state: %w", err)
	}
	if info.NumAckPending > 0 || info.NumRedelivered > 0 {
		return false, nil
	}
	return info.NumPending == 0 || info.Delivered.Stream >= last, nil
}

// halt ends the fetch loop, waiting at most for the pull request in
// flight; a Broadcast consumer is then deleted, since it belongs to this
// instance alone.
func (s *subscriber) halt() error {
	close(s.stop)
	select {
	case <-s.done:
	case <-time.After(2 * fetchWait):
		s.bus.log.Warn("event handler still running at shutdown", "subscription", s.sub.Name)
	}
	if s.sub.Delivery != mdk.Broadcast || !s.bus.nc.IsConnected() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.bus.js.DeleteConsumer(ctx, s.bus.opts.Stream, s.cfg.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s: %w", s.cfg.Durable, err)
	}
	return nil
}
