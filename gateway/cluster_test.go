package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/deadletter"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/bustest"
	"github.com/hyperrr/hyperrr/mdk/natsbus/natstest"
)

// poisonModule subscribes a handler that always fails, so every event it
// gets is dead-lettered after two attempts.
type poisonModule struct{}

func (poisonModule) ID() string         { return "test.poison" }
func (poisonModule) Requires() []string { return nil }
func (poisonModule) Init(_ context.Context, rt *mdk.Runtime) error {
	return rt.Bus.Subscribe(mdk.Subscription{Name: "poison.always-fails", Types: []string{"poison.*"}, MaxAttempts: 2},
		func(context.Context, mdk.Event) error { return errors.New("the warehouse API rejected the request") })
}

var merchantCtx = mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant, KeyID: "m1"})

func TestDeadLetters(t *testing.T) {
	check := func(t *testing.T, s *server) {
		t.Helper()
		events := []mdk.Event{bustest.Event("poison.pill", "p1", 1), bustest.Event("poison.pill", "p2", 2), bustest.Event("poison.pill", "p3", 3)}
		if err := s.g.Bus().Publish(context.Background(), events...); err != nil {
			t.Fatal(err)
		}
		var page deadletter.ListOutput
		bustest.Eventually(t, "three dead letters listed", func() bool {
			var err error
			page, err = mdk.Call[deadletter.ListInput, deadletter.ListOutput](merchantCtx, s.g.Ops(), "list_dead_letters", deadletter.ListInput{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			return len(page.DeadLetters) == 2 && page.NextCursor != ""
		})
		d := page.DeadLetters[0]
		if d.Subscription != "poison.always-fails" || d.Attempts != 2 || d.Error != "the warehouse API rejected the request" || d.EventType != "poison.pill" || string(d.Data) == "" {
			t.Fatalf("dead letter %+v", d)
		}
		rest, err := mdk.Call[deadletter.ListInput, deadletter.ListOutput](merchantCtx, s.g.Ops(), "list_dead_letters", deadletter.ListInput{Cursor: page.NextCursor})
		if err != nil || len(rest.DeadLetters) != 1 || rest.NextCursor != "" {
			t.Fatalf("second page %+v %v", rest, err)
		}
		seen := map[string]bool{}
		for _, l := range append(page.DeadLetters, rest.DeadLetters...) {
			seen[l.EventID] = true
		}
		if len(seen) != 3 {
			t.Fatalf("pages hold %d distinct events, want 3", len(seen))
		}
		_, err = mdk.Call[deadletter.ListInput, deadletter.ListOutput](merchantCtx, s.g.Ops(), "list_dead_letters", deadletter.ListInput{Cursor: "nonsense"})
		if mdk.ErrorCode(err) != mdk.CodeInvalid {
			t.Fatalf("bad cursor: %v", err)
		}
		shopper := mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleShopper, CustomerID: "c1"})
		_, err = mdk.Call[deadletter.ListInput, deadletter.ListOutput](shopper, s.g.Ops(), "list_dead_letters", deadletter.ListInput{})
		if code := mdk.ErrorCode(err); code != mdk.CodeForbidden && code != mdk.CodeUnauthorized {
			t.Fatalf("shopper listed dead letters: %v", err)
		}
	}
	t.Run("MemoryBus", func(t *testing.T) {
		eachEngine(t, func(t *testing.T, cfg gateway.Config) {
			check(t, startServer(t, cfg, poisonModule{}))
		})
	})
	t.Run("NATS", func(t *testing.T) {
		eachEngine(t, func(t *testing.T, cfg gateway.Config) {
			cfg.NATSURL = natstest.Start(t).URL()
			check(t, startServer(t, cfg, poisonModule{}))
		})
	})
}

func readyz(t *testing.T, s *server) (int, map[string]string) {
	t.Helper()
	code, _, body := call(t, "GET", s.url+"/readyz", "", "")
	var checks map[string]string
	if err := json.Unmarshal(body, &checks); err != nil {
		t.Fatalf("readyz body %q: %v", body, err)
	}
	return code, checks
}

func TestReadyzPerDependency(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg gateway.Config) {
		nats := natstest.Start(t)
		cfg.NATSURL = nats.URL()
		milvus, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer milvus.Close()
		cfg.MilvusAddr = milvus.Addr().String()
		s := startServer(t, cfg, &noteModule{})
		t.Run("OK", func(t *testing.T) {
			code, checks := readyz(t, s)
			if code != http.StatusOK || checks["nats"] != "ok" || checks["milvus"] != "ok" || checks["database"] != "ok" {
				t.Fatalf("readyz %d %v", code, checks)
			}
		})
		t.Run("MilvusDown", func(t *testing.T) {
			milvus.Close()
			code, checks := readyz(t, s)
			if code != http.StatusServiceUnavailable || checks["milvus"] == "ok" || checks["nats"] != "ok" {
				t.Fatalf("readyz %d %v", code, checks)
			}
		})
		t.Run("NATSDown", func(t *testing.T) {
			nats.Stop()
			code, checks := readyz(t, s)
			if code != http.StatusServiceUnavailable || checks["nats"] == "ok" || checks["database"] != "ok" {
				t.Fatalf("readyz %d %v", code, checks)
			}
			nats.Restart()
			bustest.Eventually(t, "nats ok again", func() bool {
				_, checks := readyz(t, s)
				return checks["nats"] == "ok"
			})
		})
	})
}
