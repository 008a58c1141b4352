package graph

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
)

// Origins is the allow-list of browser origins that may call /graphql
// from another site (a storefront at https://shop.example.com calling
// https://api.example.com/graphql). The zero value allows same-origin
// callers only. Keys travel in the Authorization header, never in
// cookies, so credentials are never allowed and "*" is safe for
// anonymous catalog reads.
type Origins struct {
	any   bool
	exact map[string]bool
}

// corsMaxAge is how long (seconds) a browser may reuse a preflight answer;
// short enough that a changed allow-list takes effect within minutes.
const corsMaxAge = "600"

// NewOrigins checks and builds an allow-list: exact origins
// (scheme://host[:port], no path) or "*" alone for any origin.
func NewOrigins(list []string) (Origins, error) {
	o := Origins{exact: map[string]bool{}}
	for _, s := range list {
		if s == "*" {
			o.any = true
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return Origins{}, fmt.Errorf("origin %q: want scheme://host[:port] such as https://shop.example.com, or *", s)
		}
		o.exact[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	if o.any && len(o.exact) > 0 {
		return Origins{}, errors.New("use * alone (any origin) or a list of exact origins, not both")
	}
	return o, nil
}

// allowed reports whether a cross-origin caller from origin may use the
// API (an empty origin is not a browser's cross-origin request).
func (o Origins) allowed(origin string) bool {
	return origin != "" && (o.any || o.exact[strings.ToLower(origin)])
}

// Handler adds CORS headers for allowed origins and answers their
// preflight requests; other origins get no CORS headers, so browsers keep
// their answers from the page.
func (o Origins) Handler(next http.Handler) http.Handler {
	if !o.any && len(o.exact) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !o.any {
			h.Add("Vary", "Origin") // answers differ by origin: shared caches must key on it
		}
		origin := r.Header.Get("Origin")
		if !o.allowed(origin) {
			next.ServeHTTP(w, r)
			return
		}
		if o.any {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-ID")
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, X-Cache")
		next.ServeHTTP(w, r)
	})
}

// AllowWebSocket reports whether a WebSocket upgrade may proceed: no
// Origin (not a browser), the server's own host, or an allowed origin.
// Browsers send no preflight for WebSockets, so this check is what stops
// a foreign page from opening one.
func (o Origins) AllowWebSocket(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || o.allowed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// originChecked is gqlgen's WebSocket implementation with its origin
// check replaced by the allow-list (coder/websocket alone allows only the
// same host).
type originChecked struct{ origins Origins }

func (c originChecked) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	if !c.origins.AllowWebSocket(r) {
		return nil, fmt.Errorf("origin %q is not allowed (HYPERRR_GRAPHQL_CORS_ORIGINS)", r.Header.Get("Origin"))
	}
	impl := transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{InsecureSkipVerify: true}}
	return impl.Accept(w, r, opts)
}

// CORS wraps next (the authenticated /graphql handler) with the CORS
// headers of Config.CORSOrigins, outside authentication so that a refused
// key's error still reaches the page.
func (s *Server) CORS(next http.Handler) http.Handler { return s.origins.Handler(next) }

// refuseForeignWebSocket answers 403 to a WebSocket upgrade from an origin
// the allow-list refuses, before gqlgen (which would answer a bare 400).
func (s *Server) refuseForeignWebSocket(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Upgrade") == "" || s.origins.AllowWebSocket(r) {
		return false
	}
	writeErrors(w, http.StatusForbidden, fmt.Sprintf("WebSocket from origin %q is not allowed; add it to HYPERRR_GRAPHQL_CORS_ORIGINS", r.Header.Get("Origin")), "FORBIDDEN")
	return true
}
