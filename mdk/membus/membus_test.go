package membus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/bustest"
	"github.com/hyperrr/hyperrr/mdk/membus"
)

// quiet keeps the expected handler failures and panics out of test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// MustOpen returns a bus with short backoff, closed when t ends.
func MustOpen(t *testing.T, opts membus.Options) *membus.Bus {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.Backoff == 0 {
		opts.Backoff, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
	bus, err := membus.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		// Tests that abandon events on purpose have checked Close already.
		if err := bus.Close(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Errorf("close: %v", err)
		}
	})
	return bus
}

func TestBus(t *testing.T) {
	bustest.Run(t, func(t *testing.T) mdk.Bus { return MustOpen(t, membus.Options{}) })
}

func TestDeadLetters(t *testing.T) {
	t.Run("Kept", func(t *testing.T) {
		bus := MustOpen(t, membus.Options{MaxAttempts: 2})
		var rec bustest.Recorder
		poison := bustest.Event("dead.letter", "s", 1)
		err := bus.Subscribe(mdk.Subscription{Name: "poisoned", Types: []string{"dead.*"}}, func(ctx context.Context, e mdk.Event) error {
			if e.ID == poison.ID {
				return errors.New("no such product")
			}
			return rec.Handle(ctx, e)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(context.Background(), poison, bustest.Event("dead.letter", "s", 2)); err != nil {
			t.Fatal(err)
		}
		rec.WaitFor(t, 1)
		dead := bus.DeadLetters()
		if len(dead) != 1 {
			t.Fatalf("got %d dead letters, want 1", len(dead))
		}
		d := dead[0]
		if d.Subscription != "poisoned" || d.Event.ID != poison.ID || d.Attempts != 2 || d.Error != "no such product" || d.At.IsZero() {
			t.Fatalf("dead letter %+v", d)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		bus := MustOpen(t, membus.Options{MaxAttempts: 1, DeadLetterLimit: 3})
		var rec bustest.Recorder
		err := bus.Subscribe(mdk.Subscription{Name: "failing", Types: []string{"*"}}, func(ctx context.Context, e mdk.Event) error {
			if e.Type == "end" {
				return rec.Handle(ctx, e)
			}
			return errors.New("fails")
		})
		if err != nil {
			t.Fatal(err)
		}
		var events []mdk.Event
		for i := range 5 {
			events = append(events, bustest.Event("fail", "s", i))
		}
		if err := bus.Publish(context.Background(), append(events, bustest.Event("end", "s", 0))...); err != nil {
			t.Fatal(err)
		}
		rec.WaitFor(t, 1)
		var got []string
		for _, d := range bus.DeadLetters() {
			got = append(got, d.Event.ID)
		}
		if want := []string{events[2].ID, events[3].ID, events[4].ID}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want the newest three, oldest first: %v", got, want)
		}
	})
}

func TestBackpressure(t *testing.T) {
	bus := MustOpen(t, membus.Options{QueueSize: 2})
	gate := make(chan struct{})
	var rec bustest.Recorder
	err := bus.Subscribe(mdk.Subscription{Name: "held", Types: []string{"*"}}, func(ctx context.Context, e mdk.Event) error {
		<-gate
		return rec.Handle(ctx, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	// One event is being handled and two wait in the queue; the fourth
	// must wait for room.
	for i := range 3 {
		if err := bus.Publish(context.Background(), bustest.Event("e", "s", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := bus.Publish(ctx, bustest.Event("e", "s", 3)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("publish to a full queue: got %v, want the context's deadline", err)
	}
	close(gate)
	if err := bus.Publish(context.Background(), bustest.Event("e", "s", 4)); err != nil {
		t.Fatalf("publish after the queue drained: %v", err)
	}
	got := rec.WaitFor(t, 4)
	if got[3].ID != bustest.Event("e", "s", 4).ID {
		t.Fatalf("timed-out event was delivered: %v", got)
	}
}

func TestCloseAbandons(t *testing.T) {
	t.Run("BlockedHandler", func(t *testing.T) {
		bus := MustOpen(t, membus.Options{})
		release := make(chan struct{})
		defer close(release)
		err := bus.Subscribe(mdk.Subscription{Name: "stuck", Types: []string{"*"}}, func(ctx context.Context, e mdk.Event) error {
			select {
			case <-ctx.Done():
			case <-release:
			}
			return ctx.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(context.Background(), bustest.Event("e", "s", 1), bustest.Event("e", "s", 2)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		err = bus.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "abandoned 2 undelivered events") {
			t.Fatalf("close: got %v, want the deadline and the count of abandoned events", err)
		}
	})
	t.Run("RetryBackoff", func(t *testing.T) {
		// A backoff of an hour must not hold Close past its context.
		bus := MustOpen(t, membus.Options{Backoff: time.Hour, MaxBackoff: time.Hour})
		failed := make(chan struct{}, 1)
		err := bus.Subscribe(mdk.Subscription{Name: "failing", Types: []string{"*"}}, func(context.Context, mdk.Event) error {
			select {
			case failed <- struct{}{}:
			default:
			}
			return errors.New("fails")
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(context.Background(), bustest.Event("e", "s", 1)); err != nil {
			t.Fatal(err)
		}
		<-failed
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := bus.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("close: got %v, want the deadline", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("close took %s", d)
		}
	})
}

func TestErrSubscribeAfterClose(t *testing.T) {
	bus := MustOpen(t, membus.Options{})
	if err := bus.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rec bustest.Recorder
	err := bus.Subscribe(mdk.Subscription{Name: "late", Types: []string{"*"}}, rec.Handle)
	if mdk.ErrorCode(err) != mdk.CodeUnavailable {
		t.Fatalf("got %v, want an unavailable error", err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	bus := MustOpen(t, membus.Options{Registerer: reg, MaxAttempts: 2})
	var rec bustest.Recorder
	err := bus.Subscribe(mdk.Subscription{Name: "m", Types: []string{"*"}}, func(ctx context.Context, e mdk.Event) error {
		switch e.Type {
		case "fail":
			return errors.New("fails")
		case "panic":
			panic("boom")
		}
		return rec.Handle(ctx, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	events := []mdk.Event{bustest.Event("fail", "s", 1), bustest.Event("panic", "s", 2), bustest.Event("ok", "s", 3)}
	if err := bus.Publish(context.Background(), events...); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, 1)
	want := map[string]float64{
		"hyperrr_membus_published_total":      3,
		"hyperrr_membus_delivered_total":      1,
		"hyperrr_membus_handler_errors_total": 4,
		"hyperrr_membus_retries_total":        2,
		"hyperrr_membus_handler_panics_total": 2,
		"hyperrr_membus_dead_lettered_total":  2,
		"hyperrr_membus_queue_depth":          0,
	}
	bustest.Eventually(t, "the last delivery to be counted", func() bool {
		return gauge(t, reg, "hyperrr_membus_queue_depth") == 0
	})
	for name, v := range want {
		if got := gauge(t, reg, name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if _, err := membus.New(membus.Options{Registerer: reg}); err == nil {
		t.Fatal("a second bus on the same registry: want a registration error")
	}
}

// gauge returns the sum of a metric's values across labels.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
