package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/graph"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

const (
	shop = "https://shop.example.com"
	evil = "https://evil.example.net"
)

func withCORS(origins ...string) func(*gateway.Config) {
	return func(c *gateway.Config) { c.GraphQLCORSOrigins = origins }
}

// send makes one request to target (/graphql...) from a browser page at
// origin.
func (e *env) send(t *testing.T, method, target, origin, key, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.base+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *env) preflight(t *testing.T, origin string) *http.Response {
	return e.send(t, http.MethodOptions, "/graphql", origin, "", "", map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization,content-type",
	})
}

const catalogQuery = `{"query":"{ products(first: 1) { totalCount } }"}`

func (e *env) postFrom(t *testing.T, origin, key string) *http.Response {
	t.Helper()
	resp := e.send(t, http.MethodPost, "/graphql", origin, key, catalogQuery, map[string]string{"Content-Type": "application/json"})
	var out response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 || !strings.Contains(string(out.Data), "totalCount") {
		t.Fatalf("POST from %s: %v %+v %s", origin, err, out.Errors, out.Data)
	}
	return resp
}

func noCORS(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("%s: got %s: %q, want no CORS headers", what, k, h.Get(k))
		}
	}
}

func wantHeader(t *testing.T, what string, h http.Header, name, want string) {
	t.Helper()
	if got := strings.Join(h.Values(name), ", "); got != want {
		t.Errorf("%s: %s = %q, want %q", what, name, got, want)
	}
}

// wsFrom opens a graphql-transport-ws connection from a page at origin
// and waits for connection_ack.
func (e *env) wsFrom(t *testing.T, origin string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: hdr})
	if err != nil {
		if resp == nil {
			return 0, err
		}
		return resp.StatusCode, err
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`)); err != nil {
		t.Fatal(err)
	}
	_, msg, err := conn.Read(ctx)
	if err != nil || !strings.Contains(string(msg), `"connection_ack"`) {
		t.Fatalf("from %s: %s %v, want connection_ack", origin, msg, err)
	}
	return resp.StatusCode, nil
}

// TestCORS: a storefront on a listed origin may call /graphql from the
// browser (preflight, POST, GET, SSE, WebSocket); other origins get no
// CORS headers and no WebSocket; credentials are never allowed.
func TestCORS(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t, sqldb.SQLite, withCORS(shop, "http://localhost:3000"))

		pre := e.preflight(t, shop)
		if pre.StatusCode != http.StatusNoContent {
			t.Fatalf("preflight: %d, want 204", pre.StatusCode)
		}
		wantHeader(t, "preflight", pre.Header, "Access-Control-Allow-Origin", shop)
		wantHeader(t, "preflight", pre.Header, "Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		wantHeader(t, "preflight", pre.Header, "Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-ID")
		wantHeader(t, "preflight", pre.Header, "Access-Control-Max-Age", "600")
		wantHeader(t, "preflight", pre.Header, "Vary", "Origin")
		wantHeader(t, "preflight", pre.Header, "Access-Control-Allow-Credentials", "")

		for _, key := range []string{"", e.alice} {
			post := e.postFrom(t, shop, key)
			wantHeader(t, "POST", post.Header, "Access-Control-Allow-Origin", shop)
			wantHeader(t, "POST", post.Header, "Vary", "Origin")
			wantHeader(t, "POST", post.Header, "Access-Control-Allow-Credentials", "")
			if !strings.Contains(post.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
				t.Errorf("POST: Access-Control-Expose-Headers = %q, want X-Request-ID in it", post.Header.Get("Access-Control-Expose-Headers"))
			}
		}
		// A refused key's 401 must reach the page too.
		bad := e.send(t, http.MethodPost, "/graphql", shop, "hyr_not_a_key", catalogQuery, map[string]string{"Content-Type": "application/json"})
		if bad.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad key: %d, want 401", bad.StatusCode)
		}
		wantHeader(t, "401", bad.Header, "Access-Control-Allow-Origin", shop)

		for _, target := range []string{"/graphql", "/graphql?query=" + url.QueryEscape("{ products(first: 1) { totalCount } }"), "/graphql/schema.graphql"} {
			get := e.send(t, http.MethodGet, target, "http://localhost:3000", "", "", nil)
			if get.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d", target, get.StatusCode)
			}
			wantHeader(t, "GET "+target, get.Header, "Access-Control-Allow-Origin", "http://localhost:3000")
		}
		sse := e.send(t, http.MethodPost, "/graphql", shop, "", `{"query":"subscription { orderStatusChanged(id: \"ord_x\") { id } }"}`,
			map[string]string{"Content-Type": "application/json", "Accept": "text/event-stream"})
		if !strings.HasPrefix(sse.Header.Get("Content-Type"), "text/event-stream") {
			t.Errorf("SSE: Content-Type %q", sse.Header.Get("Content-Type"))
		}
		wantHeader(t, "SSE", sse.Header, "Access-Control-Allow-Origin", shop)

		if code, err := e.wsFrom(t, shop); err != nil || code != http.StatusSwitchingProtocols {
			t.Errorf("WebSocket from %s: %d %v, want accepted", shop, code, err)
		}
		if code, err := e.wsFrom(t, ""); err != nil {
			t.Errorf("WebSocket without Origin (not a browser): %d %v, want accepted", code, err)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		e := newEnv(t, sqldb.SQLite, withCORS(shop))
		pre := e.preflight(t, evil)
		noCORS(t, "preflight from "+evil, pre.Header)
		wantHeader(t, "preflight from "+evil, pre.Header, "Vary", "Origin")
		noCORS(t, "POST from "+evil, e.postFrom(t, evil, "").Header)
		noCORS(t, "POST from nowhere", e.postFrom(t, "", "").Header)
		code, err := e.wsFrom(t, evil)
		if err == nil || code != http.StatusForbidden {
			t.Errorf("WebSocket from %s: %d %v, want 403", evil, code, err)
		}
	})

	t.Run("Any", func(t *testing.T) {
		e := newEnv(t, sqldb.SQLite, withCORS("*"))
		pre := e.preflight(t, evil)
		if pre.StatusCode != http.StatusNoContent {
			t.Fatalf("preflight: %d, want 204", pre.StatusCode)
		}
		wantHeader(t, "preflight", pre.Header, "Access-Control-Allow-Origin", "*")
		wantHeader(t, "preflight", pre.Header, "Access-Control-Allow-Credentials", "")
		post := e.postFrom(t, evil, "")
		wantHeader(t, "POST", post.Header, "Access-Control-Allow-Origin", "*")
		wantHeader(t, "POST", post.Header, "Access-Control-Allow-Credentials", "")
		if code, err := e.wsFrom(t, evil); err != nil {
			t.Errorf("WebSocket with *: %d %v, want accepted", code, err)
		}
	})

	t.Run("SameOriginOnlyByDefault", func(t *testing.T) {
		e := newEnv(t, sqldb.SQLite, nil)
		noCORS(t, "preflight by default", e.preflight(t, shop).Header)
		noCORS(t, "POST by default", e.postFrom(t, shop, "").Header)
		if code, err := e.wsFrom(t, shop); err == nil || code != http.StatusForbidden {
			t.Errorf("WebSocket from %s by default: %d %v, want 403", shop, code, err)
		}
		if code, err := e.wsFrom(t, e.base); err != nil {
			t.Errorf("WebSocket from its own origin: %d %v, want accepted", code, err)
		}
	})
}

// TestCORSOriginsSetting: bad values are refused with what to write.
func TestCORSOriginsSetting(t *testing.T) {
	for _, bad := range [][]string{{"shop.example.com"}, {"https://shop.example.com/app"}, {"*", shop}, {"ftp://x"}} {
		if _, err := graph.NewOrigins(bad); err == nil {
			t.Errorf("%q: accepted, want an error", bad)
		}
	}
	if _, err := graph.NewOrigins([]string{shop, "http://localhost:3000", "https://shop.example.com/"}); err != nil {
		t.Errorf("good origins refused: %v", err)
	}
}
