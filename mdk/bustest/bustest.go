// Package bustest is the contract every mdk.Bus implementation must meet,
// written once and run against each of them (the in-memory bus and NATS
// JetStream), so they stay interchangeable:
//
//	func TestBus(t *testing.T) {
//		bustest.Run(t, func(t *testing.T) mdk.Bus { return newTestBus(t) })
//	}
//
// newBus must return a fresh, empty bus whose retry backoff is short (a few
// milliseconds), since the suite waits for retries and dead letters. The
// suite closes every bus it gets, so Close must be safe to call twice.
//
// Waits poll with a deadline rather than sleeping a fixed time, so a slow
// machine makes the suite slower, not flaky.
package bustest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// Timeout bounds every wait of the suite.
var Timeout = 15 * time.Second

// Run runs the contract suite; each subtest gets its own bus and runs in
// parallel with the others.
func Run(t *testing.T, newBus func(t *testing.T) mdk.Bus) {
	open := func(t *testing.T) mdk.Bus {
		t.Helper()
		bus := newBus(t)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), Timeout)
			defer cancel()
			if err := bus.Close(ctx); err != nil {
				t.Errorf("close bus: %v", err)
			}
		})
		return bus
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, bus mdk.Bus)
	}{
		{"Ping", testPing},
		{"ErrSubscribeInvalid", testSubscribeInvalid},
		{"MatchingSubscriptionsOnly", testPatterns},
		{"NothingFromBeforeSubscribe", testNothingBefore},
		{"OrderUnderConcurrentPublish", testOrder},
		{"EverySubscriptionGetsEveryEvent", testFanOut},
		{"FailingHandlerRetried", testRetry},
		{"PanickingHandlerSurvived", testPanic},
		{"DeadLetterDoesNotBlock", testDeadLetter},
		{"CloseDrainsQueued", testCloseDrains},
		{"ErrPublishAfterClose", testPublishAfterClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// Event returns a test event; seq goes in the data so order can be checked.
func Event(typ, subject string, seq int) mdk.Event {
	return mdk.Event{
		ID:      fmt.Sprintf("%s/%s/%d", typ, subject, seq),
		Type:    typ,
		Subject: subject,
		Time:    time.Now().UTC(),
		Data:    []byte(strconv.Itoa(seq)),
	}
}

// Recorder is a handler that records the events it receives.
type Recorder struct {
	mu     sync.Mutex
	events []mdk.Event
}

// Handle records e.
func (r *Recorder) Handle(_ context.Context, e mdk.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

// Events returns what was received so far, in order.
func (r *Recorder) Events() []mdk.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mdk.Event(nil), r.events...)
}

// WaitFor waits until n events have arrived and returns them; it fails t
// after Timeout.
func (r *Recorder) WaitFor(t testing.TB, n int) []mdk.Event {
	t.Helper()
	Eventually(t, fmt.Sprintf("%d events", n), func() bool { return len(r.Events()) >= n })
	return r.Events()
}

// Eventually polls cond until it holds, failing t after Timeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", Timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func publish(t *testing.T, bus mdk.Bus, events ...mdk.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := bus.Publish(ctx, events...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func subscribe(t *testing.T, bus mdk.Bus, sub mdk.Subscription, h mdk.Handler) {
	t.Helper()
	if err := bus.Subscribe(sub, h); err != nil {
		t.Fatalf("subscribe %s: %v", sub.Name, err)
	}
}

func ids(events []mdk.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func testPing(t *testing.T, bus mdk.Bus) {
	if err := bus.Ping(context.Background()); err != nil {
		t.Fatalf("ping open bus: %v", err)
	}
}

func testSubscribeInvalid(t *testing.T, bus mdk.Bus) {
	var rec Recorder
	subscribe(t, bus, mdk.Subscription{Name: "taken", Types: []string{"a.*"}}, rec.Handle)
	for _, tc := range []struct {
		name string
		sub  mdk.Subscription
	}{
		{"NameRequired", mdk.Subscription{Types: []string{"a.*"}}},
		{"NameTaken", mdk.Subscription{Name: "taken", Types: []string{"b.*"}}},
		{"TypesRequired", mdk.Subscription{Name: "none"}},
		{"BadPattern", mdk.Subscription{Name: "bad", Types: []string{"a.[x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := bus.Subscribe(tc.sub, rec.Handle)
			if code := mdk.ErrorCode(err); code != mdk.CodeInvalid {
				t.Fatalf("got %v (code %q), want an invalid error", err, code)
			}
		})
	}
}

func testPatterns(t *testing.T, bus mdk.Bus) {
	var products, orders Recorder
	subscribe(t, bus, mdk.Subscription{Name: "products", Types: []string{"product.*"}}, products.Handle)
	subscribe(t, bus, mdk.Subscription{Name: "orders", Types: []string{"order.placed", "order.shipped"}}, orders.Handle)
	publish(t, bus,
		Event("product.created", "p1", 1),
		Event("order.placed", "o1", 2),
		Event("cart.updated", "c1", 3),
		Event("order.cancelled", "o1", 4),
		Event("product.updated", "p1", 5),
		Event("order.shipped", "o1", 6),
	)
	// Delivery is ordered, so once the last matching event is in, nothing
	// earlier is still on its way.
	gotProducts := ids(products.WaitFor(t, 2))
	gotOrders := ids(orders.WaitFor(t, 2))
	want := func(name string, got []string, want ...string) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s got %v, want %v", name, got, want)
		}
	}
	want("products", gotProducts, "product.created/p1/1", "product.updated/p1/5")
	want("orders", gotOrders, "order.placed/o1/2", "order.shipped/o1/6")
}

// testNothingBefore: a new subscription starts with the events published
// after Subscribe returns, not with older ones the bus may still hold.
func testNothingBefore(t *testing.T, bus mdk.Bus) {
	var early, late Recorder
	subscribe(t, bus, mdk.Subscription{Name: "early", Types: []string{"seq.*"}}, early.Handle)
	publish(t, bus, Event("seq.first", "s", 1))
	early.WaitFor(t, 1)
	subscribe(t, bus, mdk.Subscription{Name: "late", Types: []string{"seq.*"}}, late.Handle)
	publish(t, bus, Event("seq.second", "s", 2))
	early.WaitFor(t, 2)
	if got := ids(late.WaitFor(t, 1)); fmt.Sprint(got) != "[seq.second/s/2]" {
		t.Fatalf("late subscription got %v, want only the event published after it", got)
	}
}

// testOrder publishes 1,000 events from 10 concurrent publishers; every
// publisher's events must arrive in the order it published them.
func testOrder(t *testing.T, bus mdk.Bus) {
	const publishers, each = 10, 100
	var rec Recorder
	subscribe(t, bus, mdk.Subscription{Name: "ordered", Types: []string{"seq.*"}}, rec.Handle)
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := bus.Publish(context.Background(), Event("seq.next", strconv.Itoa(p), i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("publish: %v", err)
	}
	got := rec.WaitFor(t, publishers*each)
	if len(got) != publishers*each {
		t.Fatalf("got %d events, want %d", len(got), publishers*each)
	}
	next := map[string]int{}
	for _, e := range got {
		seq, err := strconv.Atoi(string(e.Data))
		if err != nil {
			t.Fatalf("event %s: data %q", e.ID, e.Data)
		}
		if seq != next[e.Subject] {
			t.Fatalf("publisher %s: got event %d, want %d", e.Subject, seq, next[e.Subject])
		}
		next[e.Subject]++
	}
}

func testFanOut(t *testing.T, bus mdk.Bus) {
	const n = 200
	var a, b Recorder
	subscribe(t, bus, mdk.Subscription{Name: "a", Types: []string{"*.*"}}, a.Handle)
	subscribe(t, bus, mdk.Subscription{Name: "b", Types: []string{"fan.*"}, Delivery: mdk.Broadcast}, b.Handle)
	events := make([]mdk.Event, n)
	for i := range events {
		events[i] = Event("fan.out", "s", i)
	}
	publish(t, bus, events...)
	gotA, gotB := ids(a.WaitFor(t, n)), ids(b.WaitFor(t, n))
	if fmt.Sprint(gotA) != fmt.Sprint(ids(events)) || fmt.Sprint(gotB) != fmt.Sprint(ids(events)) {
		t.Fatalf("each subscription must get every event once, in publish order:\na=%v\nb=%v", gotA, gotB)
	}
}

// flaky fails the first failures attempts at each event, counting attempts.
type flaky struct {
	Recorder
	failures int
	mu       sync.Mutex
	attempts map[string]int
}

func (f *flaky) Handle(ctx context.Context, e mdk.Event) error {
	f.mu.Lock()
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	f.attempts[e.ID]++
	n := f.attempts[e.ID]
	f.mu.Unlock()
	if n <= f.failures {
		return fmt.Errorf("attempt %d of %s fails on purpose", n, e.ID)
	}
	return f.Recorder.Handle(ctx, e)
}

func (f *flaky) Attempts(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[id]
}

func testRetry(t *testing.T, bus mdk.Bus) {
	h := &flaky{failures: 2}
	subscribe(t, bus, mdk.Subscription{Name: "flaky", Types: []string{"retry.*"}, MaxAttempts: 5}, h.Handle)
	first, second := Event("retry.me", "s", 1), Event("retry.me", "s", 2)
	publish(t, bus, first, second)
	got := ids(h.WaitFor(t, 2))
	if fmt.Sprint(got) != fmt.Sprint([]string{first.ID, second.ID}) {
		t.Fatalf("got %v, want both events once, in order", got)
	}
	if n := h.Attempts(first.ID); n != 3 {
		t.Fatalf("first event took %d attempts, want 3 (two failures, then success)", n)
	}
}

func testPanic(t *testing.T, bus mdk.Bus) {
	var rec Recorder
	boom := Event("panic.now", "s", 1)
	subscribe(t, bus, mdk.Subscription{Name: "panicky", Types: []string{"panic.*"}, MaxAttempts: 2}, func(ctx context.Context, e mdk.Event) error {
		if e.ID == boom.ID {
			panic("handler bug")
		}
		return rec.Handle(ctx, e)
	})
	next := Event("panic.now", "s", 2)
	publish(t, bus, boom, next)
	if got := ids(rec.WaitFor(t, 1)); got[0] != next.ID {
		t.Fatalf("got %v, want %s after the panicking event", got, next.ID)
	}
	if err := bus.Ping(context.Background()); err != nil {
		t.Fatalf("ping after panic: %v", err)
	}
	later := Event("panic.now", "s", 3)
	publish(t, bus, later)
	rec.WaitFor(t, 2)
}

func testDeadLetter(t *testing.T, bus mdk.Bus) {
	var rec Recorder
	var mu sync.Mutex
	attempts := 0
	poison := Event("dead.letter", "s", 1)
	subscribe(t, bus, mdk.Subscription{Name: "poisoned", Types: []string{"dead.*"}, MaxAttempts: 3}, func(ctx context.Context, e mdk.Event) error {
		if e.ID == poison.ID {
			mu.Lock()
			attempts++
			mu.Unlock()
			return errors.New("always fails")
		}
		return rec.Handle(ctx, e)
	})
	publish(t, bus, poison, Event("dead.letter", "s", 2), Event("dead.letter", "s", 3))
	rec.WaitFor(t, 2)
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Fatalf("poison event attempted %d times, want MaxAttempts=3", attempts)
	}
}

func testCloseDrains(t *testing.T, bus mdk.Bus) {
	const n = 50
	var rec Recorder
	gate := make(chan struct{})
	subscribe(t, bus, mdk.Subscription{Name: "slow", Types: []string{"drain.*"}}, func(ctx context.Context, e mdk.Event) error {
		<-gate
		return rec.Handle(ctx, e)
	})
	events := make([]mdk.Event, n)
	for i := range events {
		events[i] = Event("drain.me", "s", i)
	}
	publish(t, bus, events...)
	// The handler is held until Close is under way, so the events are
	// queued, not delivered, when it starts.
	time.AfterFunc(20*time.Millisecond, func() { close(gate) })
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := bus.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := len(rec.Events()); got != n {
		t.Fatalf("Close returned with %d of %d queued events delivered", got, n)
	}
}

func testPublishAfterClose(t *testing.T, bus mdk.Bus) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := bus.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	err := bus.Publish(ctx, Event("late.event", "s", 1))
	if code := mdk.ErrorCode(err); code != mdk.CodeUnavailable {
		t.Fatalf("publish after close: got %v (code %q), want an unavailable error", err, code)
	}
	if err := bus.Ping(ctx); mdk.ErrorCode(err) != mdk.CodeUnavailable {
		t.Fatalf("ping after close: got %v, want an unavailable error", err)
	}
}
