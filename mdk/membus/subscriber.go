package membus

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/internal/metricset"
)

// subscriber is one subscription: its queue and the goroutine that drains it.
type subscriber struct {
	bus   *Bus
	sub   mdk.Subscription
	h     mdk.Handler
	queue chan mdk.Event
	// pending counts events queued or being handled; it feeds the queue
	// depth gauge and the count of events abandoned at shutdown.
	pending atomic.Int64

	depth prometheus.Gauge
	metricset.HandlingOf
}

func (b *Bus) newSubscriber(sub mdk.Subscription, h mdk.Handler) *subscriber {
	name := sub.Name
	return &subscriber{
		bus:        b,
		sub:        sub,
		h:          h,
		queue:      make(chan mdk.Event, b.opts.QueueSize),
		depth:      b.metrics.depth.WithLabelValues(name),
		HandlingOf: b.metrics.handling.For(name),
	}
}

// enqueue waits for room in the queue unless ctx ends or the bus closes.
func (s *subscriber) enqueue(ctx context.Context, e mdk.Event, closing <-chan struct{}) error {
	s.pending.Add(1)
	s.depth.Inc()
	select {
	case s.queue <- e:
		return nil
	case <-ctx.Done():
		s.done()
		return ctx.Err()
	case <-closing:
		s.done()
		return errClosed()
	}
}

func (s *subscriber) done() {
	s.pending.Add(-1)
	s.depth.Dec()
}

// run delivers queued events one at a time until the queue is closed and
// empty, or the bus stops.
func (s *subscriber) run() {
	for {
		select {
		case <-s.bus.stop:
			return
		case e, ok := <-s.queue:
			if !ok {
				return
			}
			if !s.deliver(e) {
				return
			}
			s.done()
		}
	}
}

// deliver calls the handler until it succeeds or the attempts run out, in
// which case the event is dead-lettered. It reports false when the bus
// stopped during a backoff, leaving the event undelivered.
func (s *subscriber) deliver(e mdk.Event) bool {
	b := s.bus
	wait := b.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := s.call(e)
		if err == nil {
			s.Delivered.Inc()
			return true
		}
		s.Failures.Inc()
		if attempt >= s.sub.MaxAttempts {
			s.deadLetter(e, attempt, err)
			return true
		}
		b.log.Warn("event handler failed; retrying",
			"subscription", s.sub.Name, "event_id", e.ID, "event_type", e.Type, "subject", e.Subject,
			"attempt", attempt, "max_attempts", s.sub.MaxAttempts, "retry_in", wait, "error", err)
		s.Retries.Inc()
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-b.stop:
			timer.Stop()
			return false
		}
		wait = min(2*wait, b.opts.MaxBackoff)
	}
}

// call runs the handler once; a panic is logged with its stack and becomes
// the attempt's error, so it is retried like any failure.
func (s *subscriber) call(e mdk.Event) (err error) {
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

func (s *subscriber) deadLetter(e mdk.Event, attempts int, err error) {
	s.DeadLettered.Inc()
	s.bus.log.Error("event dead-lettered: handler gave up",
		"subscription", s.sub.Name, "event_id", e.ID, "event_type", e.Type, "subject", e.Subject,
		"attempts", attempts, "error", err)
	d := DeadLetter{
		Subscription: s.sub.Name,
		Event:        e,
		Attempts:     attempts,
		Error:        err.Error(),
		At:           time.Now().UTC(),
	}
	s.bus.addDeadLetter(d)
	if s.bus.opts.OnDeadLetter != nil {
		ctx, cancel := context.WithTimeout(s.bus.handlerCtx, 10*time.Second)
		defer cancel()
		if err := s.bus.opts.OnDeadLetter(ctx, d); err != nil {
			s.bus.log.Error("dead letter not stored", "subscription", s.sub.Name, "event_id", e.ID, "error", err)
		}
	}
}
