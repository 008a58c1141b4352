package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/bustest"
	"github.com/hyperrr/hyperrr/mdk/natsbus"
	"github.com/hyperrr/hyperrr/mdk/natsbus/natstest"
)

// quiet keeps the expected handler failures and panics out of test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var streams atomic.Int64

// MustOpen returns a bus on srv with short backoff, closed when t ends.
// Buses of one test share a stream when opts names it; otherwise each gets
// its own, so tests sharing a server stay apart.
func MustOpen(t *testing.T, srv *natstest.Server, opts natsbus.Options) *natsbus.Bus {
	t.Helper()
	opts.URL = srv.URL()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.Stream == "" {
		n := streams.Add(1)
		opts.Stream, opts.Subjects = fmt.Sprintf("T%d", n), fmt.Sprintf("t%d.events", n)
	}
	if opts.Backoff == 0 {
		opts.Backoff, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
	bus, err := natsbus.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := bus.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return bus
}

func TestBus(t *testing.T) {
	srv := natstest.Start(t)
	bustest.Run(t, func(t *testing.T) mdk.Bus { return MustOpen(t, srv, natsbus.Options{}) })
}

// pair opens two buses as two instances sharing one stream.
func pair(t *testing.T, srv *natstest.Server, opts natsbus.Options) (a, b *natsbus.Bus) {
	n := streams.Add(1)
	opts.Stream, opts.Subjects = fmt.Sprintf("P%d", n), fmt.Sprintf("p%d.events", n)
	optsA, optsB := opts, opts
	optsA.Instance, optsB.Instance = "a", "b"
	return MustOpen(t, srv, optsA), MustOpen(t, srv, optsB)
}

func TestInstances(t *testing.T) {
	srv := natstest.Start(t)
	t.Run("SharedHandledByOne", func(t *testing.T) {
		a, b := pair(t, srv, natsbus.Options{})
		var recA, recB bustest.Recorder
		sub := mdk.Subscription{Name: "orders.confirm", Types: []string{"order.*"}, Delivery: mdk.Shared}
		if err := a.Subscribe(sub, recA.Handle); err != nil {
			t.Fatal(err)
		}
		if err := b.Subscribe(sub, recB.Handle); err != nil {
			t.Fatal(err)
		}
		const n = 200
		for i := range n {
			bus := a
			if i%2 == 1 {
				bus = b
			}
			if err := bus.Publish(context.Background(), bustest.Event("order.placed", "o", i)); err != nil {
				t.Fatal(err)
			}
		}
		bustest.Eventually(t, "every event handled", func() bool { return len(recA.Events())+len(recB.Events()) >= n })
		time.Sleep(50 * time.Millisecond) // room for a wrong second delivery to show
		seen := map[string]int{}
		for _, e := range append(recA.Events(), recB.Events()...) {
			seen[e.ID]++
		}
		if len(seen) != n {
			t.Fatalf("%d distinct events handled, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("event %s handled %d times by the shared subscription", id, c)
			}
		}
		if len(recA.Events()) == 0 || len(recB.Events()) == 0 {
			t.Logf("work went to one instance only (a=%d b=%d); allowed, the server picks", len(recA.Events()), len(recB.Events()))
		}
	})
	t.Run("BroadcastReachesEvery", func(t *testing.T) {
		a, b := pair(t, srv, natsbus.Options{})
		var recA, recB bustest.Recorder
		sub := mdk.Subscription{Name: "search.index", Types: []string{"product.*"}, Delivery: mdk.Broadcast}
		if err := a.Subscribe(sub, recA.Handle); err != nil {
			t.Fatal(err)
		}
		if err := b.Subscribe(sub, recB.Handle); err != nil {
			t.Fatal(err)
		}
		if err := a.Publish(context.Background(), bustest.Event("product.created", "p", 1), bustest.Event("product.updated", "p", 2)); err != nil {
			t.Fatal(err)
		}
		for name, rec := range map[string]*bustest.Recorder{"a": &recA, "b": &recB} {
			if got := rec.WaitFor(t, 2); len(got) != 2 || got[0].Type != "product.created" || got[1].Type != "product.updated" {
				t.Fatalf("instance %s got %v", name, got)
			}
		}
	})
}

func TestDeadLetters(t *testing.T) {
	srv := natstest.Start(t)
	t.Run("Stored", func(t *testing.T) {
		var mu sync.Mutex
		var dead []mdk.DeadLetter
		bus := MustOpen(t, srv, natsbus.Options{Instance: "i1", OnDeadLetter: func(_ context.Context, d mdk.DeadLetter) error {
			mu.Lock()
			defer mu.Unlock()
			dead = append(dead, d)
			return nil
		}})
		var rec bustest.Recorder
		poison := bustest.Event("dead.letter", "s", 1)
		err := bus.Subscribe(mdk.Subscription{Name: "poisoned", Types: []string{"dead.*"}, MaxAttempts: 3}, func(ctx context.Context, e mdk.Event) error {
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
		mu.Lock()
		defer mu.Unlock()
		if len(dead) != 1 {
			t.Fatalf("got %d dead letters, want 1", len(dead))
		}
		d := dead[0]
		if d.Subscription != "poisoned" || d.Event.ID != poison.ID || d.Attempts != 3 || d.Error != "no such product" || d.Instance != "i1" || d.At.IsZero() {
			t.Fatalf("dead letter %+v", d)
		}
	})
	t.Run("RetriedWhileSinkFails", func(t *testing.T) {
		var calls atomic.Int64
		bus := MustOpen(t, srv, natsbus.Options{MaxBackoff: 5 * time.Millisecond, OnDeadLetter: func(context.Context, mdk.DeadLetter) error {
			if calls.Add(1) < 3 {
				return errors.New("database down")
			}
			return nil
		}})
		err := bus.Subscribe(mdk.Subscription{Name: "doomed", Types: []string{"dead.*"}, MaxAttempts: 1}, func(context.Context, mdk.Event) error {
			return errors.New("always fails")
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(context.Background(), bustest.Event("dead.letter", "s", 1)); err != nil {
			t.Fatal(err)
		}
		bustest.Eventually(t, "the dead letter stored on the third try", func() bool { return calls.Load() >= 3 })
	})
}

func TestOutage(t *testing.T) {
	srv := natstest.Start(t)
	bus := MustOpen(t, srv, natsbus.Options{})
	var rec bustest.Recorder
	if err := bus.Subscribe(mdk.Subscription{Name: "durable", Types: []string{"x.*"}}, rec.Handle); err != nil {
		t.Fatal(err)
	}
	if err := bus.Publish(context.Background(), bustest.Event("x.before", "s", 1)); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, 1)
	srv.Stop()
	t.Run("ErrPublishWhileDown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := bus.Publish(ctx, bustest.Event("x.during", "s", 2))
		if mdk.ErrorCode(err) != mdk.CodeUnavailable {
			t.Fatalf("publish with NATS down: got %v, want an unavailable error", err)
		}
		if err := bus.Ping(ctx); mdk.ErrorCode(err) != mdk.CodeUnavailable {
			t.Fatalf("ping with NATS down: got %v, want an unavailable error", err)
		}
	})
	srv.Restart()
	t.Run("OKAfterRestart", func(t *testing.T) {
		bustest.Eventually(t, "ping after restart", func() bool { return bus.Ping(context.Background()) == nil })
		if err := bus.Publish(context.Background(), bustest.Event("x.after", "s", 3)); err != nil {
			t.Fatal(err)
		}
		got := rec.WaitFor(t, 2)
		if got[1].Type != "x.after" {
			t.Fatalf("got %v after restart", got)
		}
	})
}

// TestConsumerDeleted: a consumer removed under a running subscription (by
// an operator, or by the inactive threshold during a long outage) is
// created again and delivery goes on.
func TestConsumerDeleted(t *testing.T) {
	srv := natstest.Start(t)
	bus := MustOpen(t, srv, natsbus.Options{Stream: "DEL", Subjects: "del.events", Instance: "i1"})
	var rec bustest.Recorder
	sub := mdk.Subscription{Name: "index", Types: []string{"x.*"}, Delivery: mdk.Broadcast}
	if err := bus.Subscribe(sub, rec.Handle); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stream, err := js.Stream(ctx, "DEL")
	if err != nil {
		t.Fatal(err)
	}
	names := stream.ConsumerNames(ctx)
	var deleted int
	for name := range names.Name() {
		if err := js.DeleteConsumer(ctx, "DEL", name); err != nil {
			t.Fatal(err)
		}
		deleted++
	}
	if deleted != 1 {
		t.Fatalf("deleted %d consumers, want the subscription's one", deleted)
	}
	seq := 0
	bustest.Eventually(t, "an event delivered after the consumer came back", func() bool {
		seq++ // a new ID each time: the stream drops a repeated one
		if err := bus.Publish(ctx, bustest.Event("x.after", "s", seq)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		return len(rec.Events()) > 0
	})
}

func TestErrPublishBadType(t *testing.T) {
	srv := natstest.Start(t)
	bus := MustOpen(t, srv, natsbus.Options{})
	for _, typ := range []string{"", "product created", "product.*", "product..created", "a.>"} {
		err := bus.Publish(context.Background(), mdk.Event{ID: "e1", Type: typ})
		if mdk.ErrorCode(err) != mdk.CodeInvalid {
			t.Errorf("type %q: got %v, want an invalid error", typ, err)
		}
	}
}
