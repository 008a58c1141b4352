package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/migrations"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// noteModule is a small module with a table, an operation that writes
// through the outbox, and a subscriber; it exercises what a real module
// gets from its runtime.
type noteModule struct {
	rt       *mdk.Runtime
	mu       sync.Mutex
	received []mdk.Event
	release  chan struct{} // when set, add_note blocks until closed
}

func (m *noteModule) ID() string         { return "test.notes" }
func (m *noteModule) Requires() []string { return nil }

type addNoteIn struct {
	Text string `json:"text" jsonschema:"the note"`
}
type noteOut struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

func (m *noteModule) Init(ctx context.Context, rt *mdk.Runtime) error {
	m.rt = rt
	if err := rt.Bus.Subscribe(mdk.Subscription{Name: "notes-test", Types: []string{"note.*"}}, func(ctx context.Context, e mdk.Event) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.received = append(m.received, e)
		return nil
	}); err != nil {
		return err
	}
	if err := mdk.Register(rt.Ops, mdk.Operation[addNoteIn, noteOut]{
		Name: "add_note", Description: "Add a note.", Access: mdk.AccessMerchant, Effect: mdk.EffectWrite,
		Handle: func(ctx context.Context, in addNoteIn) (noteOut, error) {
			if m.release != nil {
				<-m.release
			}
			out := noteOut{ID: fmt.Sprintf("n_%d", time.Now().UnixNano()), Text: in.Text}
			err := rt.DB.Tx(ctx, func(tx *sqldb.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO notes.notes (id, text) VALUES ($1, $2)`, out.ID, out.Text); err != nil {
					return err
				}
				ev, err := mdk.NewEvent("note.added", out.ID, out)
				if err != nil {
					return err
				}
				return rt.Outbox.Emit(ctx, tx, ev)
			})
			return out, err
		},
	}); err != nil {
		return err
	}
	return mdk.Register(rt.Ops, mdk.Operation[struct{}, []noteOut]{
		Name: "list_notes", Description: "List notes.", Access: mdk.AccessPublic, Effect: mdk.EffectRead,
		Handle: func(ctx context.Context, _ struct{}) ([]noteOut, error) {
			rows, err := rt.DB.QueryContext(ctx, `SELECT id, text FROM notes.notes ORDER BY id`)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			out := []noteOut{}
			for rows.Next() {
				var n noteOut
				if err := rows.Scan(&n.ID, &n.Text); err != nil {
					return nil, err
				}
				out = append(out, n)
			}
			return out, rows.Err()
		},
	})
}

func (m *noteModule) events() []mdk.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mdk.Event(nil), m.received...)
}

func testMigrations() fstest.MapFS {
	fsys := fstest.MapFS{"notes/0001_init.sql": {Data: []byte(`CREATE TABLE notes.notes (id TEXT PRIMARY KEY, text TEXT NOT NULL)`)}}
	mdkFiles, _ := migrations.FS.ReadDir("mdk") // embedded: cannot fail
	for _, f := range mdkFiles {
		body, _ := migrations.FS.ReadFile("mdk/" + f.Name())
		fsys["mdk/"+f.Name()] = &fstest.MapFile{Data: body}
	}
	return fsys
}

type server struct {
	url    string
	g      *gateway.Gateway
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, cfg gateway.Config, mods ...mdk.Module) *server {
	t.Helper()
	g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Modules: mods, Migrations: testMigrations(), Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{url: "http://" + ln.Addr().String(), g: g, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t *testing.T) {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("Serve did not return after shutdown")
	}
}

func call(t *testing.T, method, url, key string, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func eachEngine(t *testing.T, fn func(t *testing.T, cfg gateway.Config)) {
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			fn(t, gatewaytest.Config(t, e))
		})
	}
}

func TestServer(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg gateway.Config) {
		mod := &noteModule{}
		s := startServer(t, cfg, mod)
		ctx := context.Background()
		merchantKey, _, err := s.g.Keys().Create(ctx, mdk.RoleMerchant, "", "test")
		if err != nil {
			t.Fatal(err)
		}
		shopperKey, _, err := s.g.Keys().Create(ctx, mdk.RoleShopper, "c1", "")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("Health", func(t *testing.T) {
			if code, _, _ := call(t, "GET", s.url+"/healthz", "", ""); code != 200 {
				t.Fatalf("healthz %d", code)
			}
			code, _, body := call(t, "GET", s.url+"/readyz", "", "")
			if code != 200 || !strings.Contains(string(body), `"database":"ok"`) || !strings.Contains(string(body), `"bus":"ok"`) {
				t.Fatalf("readyz %d %s", code, body)
			}
		})
		t.Run("WriteEmitsEvent", func(t *testing.T) {
			code, _, body := call(t, "POST", s.url+"/v1/operations/add_note", merchantKey, `{"text":"hello"}`)
			if code != 200 {
				t.Fatalf("add_note %d %s", code, body)
			}
			var out noteOut
			if err := json.Unmarshal(body, &out); err != nil || out.Text != "hello" {
				t.Fatalf("out=%s err=%v", body, err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(mod.events()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			evs := mod.events()
			if len(evs) != 1 || evs[0].Type != "note.added" || evs[0].Subject != out.ID {
				t.Fatalf("events %+v", evs)
			}
			code, _, body = call(t, "POST", s.url+"/v1/operations/list_notes", "", "")
			if code != 200 || !strings.Contains(string(body), "hello") {
				t.Fatalf("list_notes %d %s", code, body)
			}
		})
		t.Run("Auth", func(t *testing.T) {
			code, _, body := call(t, "POST", s.url+"/v1/operations/add_note", "", `{"text":"x"}`)
			if code != 401 || !strings.Contains(string(body), `"unauthorized"`) {
				t.Fatalf("anonymous write: %d %s", code, body)
			}
			code, hdr, _ := call(t, "GET", s.url+"/v1/operations", "hyr_bogus_key", "")
			if code != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), "invalid_token") {
				t.Fatalf("bad key: %d %v", code, hdr)
			}
			code, _, body = call(t, "POST", s.url+"/v1/operations/add_note", shopperKey, `{"text":"x"}`)
			if code != 403 {
				t.Fatalf("shopper on merchant op: %d %s", code, body)
			}
			_, _, body = call(t, "GET", s.url+"/v1/operations", "", "")
			if strings.Contains(string(body), "add_note") || !strings.Contains(string(body), "list_notes") {
				t.Fatalf("anonymous listing shows merchant ops or hides public ones: %s", body)
			}
			_, _, body = call(t, "GET", s.url+"/v1/operations", merchantKey, "")
			if !strings.Contains(string(body), "add_note") {
				t.Fatalf("merchant listing: %s", body)
			}
		})
		t.Run("Revoked", func(t *testing.T) {
			key, k, err := s.g.Keys().Create(ctx, mdk.RoleMerchant, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.g.Keys().Revoke(ctx, k.Prefix); err != nil {
				t.Fatal(err)
			}
			if code, _, _ := call(t, "GET", s.url+"/v1/operations", key, ""); code != 401 {
				t.Fatalf("revoked key: %d", code)
			}
		})
		t.Run("BadInput", func(t *testing.T) {
			code, _, body := call(t, "POST", s.url+"/v1/operations/add_note", merchantKey, `{"text":5,"extra":true}`)
			var resp struct {
				Error  mdk.Error   `json:"error"`
				Errors []mdk.Error `json:"errors"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatal(err)
			}
			if code != 400 || len(resp.Errors) != 2 || resp.Error.Code != mdk.CodeInvalid {
				t.Fatalf("bad input: %d %s", code, body)
			}
			big := `{"text":"` + strings.Repeat("x", 9<<20) + `"}`
			if code, _, _ := call(t, "POST", s.url+"/v1/operations/add_note", merchantKey, big); code != 400 {
				t.Fatalf("oversized body: %d", code)
			}
			if code, _, _ := call(t, "POST", s.url+"/v1/operations/nope", merchantKey, `{}`); code != 404 {
				t.Fatalf("unknown op: %d", code)
			}
		})
		t.Run("Metrics", func(t *testing.T) {
			_, _, body := call(t, "GET", s.url+"/metrics", "", "")
			for _, want := range []string{
				`hyperrr_http_requests_total{code="200",method="POST",route="POST /v1/operations/{name}"}`,
				`hyperrr_operation_calls_total{code="ok",operation="add_note"}`,
				`hyperrr_operation_calls_total{code="forbidden",operation="add_note"}`,
			} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	})
}

func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.DataDir = t.TempDir()
	mod := &noteModule{release: make(chan struct{})}
	s := startServer(t, cfg, mod)
	key, _, err := s.g.Keys().Create(context.Background(), mdk.RoleMerchant, "", "")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		code int
		body []byte
	}
	res := make(chan result, 1)
	go func() {
		code, _, body := call(t, "POST", s.url+"/v1/operations/add_note", key, `{"text":"in flight"}`)
		res <- result{code, body}
	}()
	time.Sleep(200 * time.Millisecond) // the request is now blocked inside the operation
	s.cancel()
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Error("server still accepts connections while shutting down")
	}
	close(mod.release)
	r := <-res
	if r.code != 200 {
		t.Fatalf("in-flight request cut off: %d %s", r.code, r.body)
	}
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	s.cancel = nil
	// The event of the drained request was relayed before the bus closed.
	if evs := mod.events(); len(evs) != 1 {
		t.Fatalf("events after shutdown: %d, want 1", len(evs))
	}
}
