package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/idempotency"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustOpen migrates db and returns a store on a fake clock with a 1h TTL
// and a 5m stale timeout.
func MustOpen(t *testing.T, db *sqldb.DB) (*idempotency.Store, *clock) {
	t.Helper()
	dbtest.MigrateMDK(t, db)
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return idempotency.New(db, idempotency.Options{TTL: time.Hour, StaleAfter: 5 * time.Minute, Now: c.Now}), c
}

const scope = "checkout.complete/cust_1"

func begin(t *testing.T, s *idempotency.Store, key, hash string) (idempotency.Outcome, error) {
	t.Helper()
	return s.Begin(context.Background(), scope, key, hash)
}

func mustNew(t *testing.T, s *idempotency.Store, key, hash string) {
	t.Helper()
	out, err := begin(t, s, key, hash)
	if err != nil || out.Replay {
		t.Fatalf("begin %s: got %+v, %v; want a new request", key, out, err)
	}
}

func mustComplete(t *testing.T, s *idempotency.Store, key, response string) {
	t.Helper()
	if err := s.Complete(context.Background(), scope, key, []byte(response)); err != nil {
		t.Fatalf("complete %s: %v", key, err)
	}
}

func wantConflict(t *testing.T, err error, retryable bool) {
	t.Helper()
	var e *mdk.Error
	if !errors.As(err, &e) || e.Code != mdk.CodeConflict || e.Retryable != retryable {
		t.Fatalf("got %v, want a conflict with Retryable=%v", err, retryable)
	}
}

func TestStore(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		s, clk := MustOpen(t, db)
		ctx := context.Background()

		t.Run("NewThenReplay", func(t *testing.T) {
			mustNew(t, s, "k-replay", "h1")
			mustComplete(t, s, "k-replay", `{"order_id":"ord_1"}`)
			out, err := begin(t, s, "k-replay", "h1")
			if err != nil || !out.Replay || string(out.Response) != `{"order_id":"ord_1"}` {
				t.Fatalf("got %+v, %v; want a replay of the stored response", out, err)
			}
		})

		t.Run("ErrDifferentRequest", func(t *testing.T) {
			mustNew(t, s, "k-diff", "h1")
			mustComplete(t, s, "k-diff", `{}`)
			_, err := begin(t, s, "k-diff", "h2")
			wantConflict(t, err, false)
			if e := mdk.AsError(err); e.Message != "idempotency key was used with a different request" {
				t.Fatalf("message %q", e.Message)
			}
		})

		t.Run("ErrInProgress", func(t *testing.T) {
			mustNew(t, s, "k-busy", "h1")
			_, err := begin(t, s, "k-busy", "h1")
			wantConflict(t, err, true)
			if e := mdk.AsError(err); e.Message != "a request with this idempotency key is still in progress; retry shortly" {
				t.Fatalf("message %q", e.Message)
			}
			// A different request on a busy key is refused outright.
			_, err = begin(t, s, "k-busy", "h2")
			wantConflict(t, err, false)
		})

		t.Run("ScopesAreSeparate", func(t *testing.T) {
			mustNew(t, s, "k-scope", "h1")
			out, err := s.Begin(ctx, "checkout.complete/cust_2", "k-scope", "h9")
			if err != nil || out.Replay {
				t.Fatalf("same key in another scope: got %+v, %v; want new", out, err)
			}
		})

		t.Run("AbandonLetsRetryRun", func(t *testing.T) {
			mustNew(t, s, "k-abandon", "h1")
			if err := s.Abandon(ctx, scope, "k-abandon"); err != nil {
				t.Fatal(err)
			}
			mustNew(t, s, "k-abandon", "h1")
			mustComplete(t, s, "k-abandon", `"done"`)
			// A completed key survives Abandon: its response stays replayable.
			if err := s.Abandon(ctx, scope, "k-abandon"); err != nil {
				t.Fatal(err)
			}
			if out, err := begin(t, s, "k-abandon", "h1"); err != nil || !out.Replay {
				t.Fatalf("got %+v, %v; want a replay", out, err)
			}
		})

		t.Run("StaleInProgressTakenOver", func(t *testing.T) {
			mustNew(t, s, "k-stale", "h1")
			clk.Advance(4 * time.Minute)
			_, err := begin(t, s, "k-stale", "h1")
			wantConflict(t, err, true)
			clk.Advance(time.Minute)
			mustNew(t, s, "k-stale", "h1")
			// The new claim is fresh: the key is busy again.
			_, err = begin(t, s, "k-stale", "h1")
			wantConflict(t, err, true)
		})

		t.Run("ExpiredIsNew", func(t *testing.T) {
			mustNew(t, s, "k-expired", "h1")
			mustComplete(t, s, "k-expired", `{}`)
			clk.Advance(time.Hour)
			mustNew(t, s, "k-expired", "h2")
			out, err := begin(t, s, "k-expired", "h2")
			wantConflict(t, err, true)
			if out.Replay {
				t.Fatal("replayed the expired response")
			}
		})

		t.Run("ErrComplete", func(t *testing.T) {
			if err := s.Complete(ctx, scope, "k-never", []byte(`{}`)); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("complete without begin: got %v, want conflict", err)
			}
			mustNew(t, s, "k-twice", "h1")
			mustComplete(t, s, "k-twice", `1`)
			if err := s.Complete(ctx, scope, "k-twice", []byte(`2`)); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("second complete: got %v, want conflict", err)
			}
			mustNew(t, s, "k-binary", "h1")
			if err := s.Complete(ctx, scope, "k-binary", []byte{0xff, 0}); err == nil {
				t.Fatal("binary response: want an error")
			}
		})

		t.Run("ErrKeyInvalid", func(t *testing.T) {
			for _, key := range []string{"", string(make([]byte, 256)), "a\x00b"} {
				if _, err := begin(t, s, key, "h1"); mdk.ErrorCode(err) != mdk.CodeInvalid {
					t.Errorf("key %q: got %v, want invalid", key, err)
				}
			}
		})

		t.Run("Purge", func(t *testing.T) {
			mustNew(t, s, "k-purge-old", "h1")
			clk.Advance(30 * time.Minute)
			mustNew(t, s, "k-purge-new", "h1")
			n, err := s.Purge(ctx, clk.Now().Add(30*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("purged nothing")
			}
			// The younger key survived and is still busy.
			_, err = begin(t, s, "k-purge-new", "h1")
			wantConflict(t, err, true)
		})

		t.Run("ConcurrentBegin", func(t *testing.T) {
			race(t, s, "k-race")
		})

		t.Run("ConcurrentTakeover", func(t *testing.T) {
			mustNew(t, s, "k-race-expired", "h0")
			mustComplete(t, s, "k-race-expired", `{}`)
			clk.Advance(time.Hour)
			race(t, s, "k-race-expired")
		})
	})
}

// race runs 10 concurrent Begin calls with key; exactly one may win.
func race(t *testing.T, s *idempotency.Store, key string) {
	t.Helper()
	const racers = 10
	var wg sync.WaitGroup
	results := make([]error, racers)
	replays := make([]bool, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := s.Begin(context.Background(), scope, key, "h1")
			results[i], replays[i] = err, out.Replay
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range results {
		switch {
		case err == nil && !replays[i]:
			won++
		case mdk.ErrorCode(err) == mdk.CodeConflict && mdk.AsError(err).Retryable:
		default:
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racers got a new request, want exactly 1", won)
	}
}

func TestShouldAbandon(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection reset"), true},
		{mdk.Unavailable(errors.New("down"), "payments are down"), true},
		{&mdk.Error{Code: mdk.CodeConflict, Retryable: true, Message: "busy"}, true},
		{mdk.Errorf("payment_declined", "the card was declined"), false},
		{mdk.Invalid("email", "not an address"), false},
	} {
		if got := idempotency.ShouldAbandon(tc.err); got != tc.want {
			t.Errorf("ShouldAbandon(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestHashRequest(t *testing.T) {
	type line struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	type request struct {
		CartID string          `json:"cart_id"`
		Lines  []line          `json:"lines"`
		Extra  json.RawMessage `json:"extra"`
	}
	a := request{CartID: "c1", Lines: []line{{"sku-1", 2}}, Extra: json.RawMessage(`{"b": 1, "a": [1.50, "x<y"]}`)}
	b := a
	b.Extra = json.RawMessage(`{"a":[1.50,"x<y"],"b":1}`)
	ha, err := idempotency.HashRequest(a)
	if err != nil {
		t.Fatal(err)
	}
	hb, err := idempotency.HashRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if ha != hb || len(ha) != 64 {
		t.Fatalf("equal requests spelled differently: %s vs %s", ha, hb)
	}
	c := a
	c.Lines = []line{{"sku-1", 3}}
	if hc, err := idempotency.HashRequest(c); err != nil || hc == ha {
		t.Fatalf("different requests hash equally (%v)", err)
	}
	if _, err := idempotency.HashRequest(func() {}); err == nil {
		t.Fatal("unencodable request: want an error")
	}
}
