package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools"
)

// Handler returns the HTTP API: health, readiness, metrics and the
// operations endpoint. Later edges (GraphQL, MCP) mount beside them.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n") //nolint:errcheck // a failed write means the client left
	})
	mux.HandleFunc("GET /readyz", g.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.promReg, promhttp.HandlerOpts{Registry: g.promReg}))
	mux.Handle("GET /v1/operations", g.authenticated(http.HandlerFunc(g.listOperations)))
	mux.Handle("POST /v1/operations/{name}", g.authenticated(http.HandlerFunc(g.callOperation)))
	mux.Handle("POST /agent/chat", g.authenticated(g.agentChat()))
	g.mountMCP(mux)
	g.mountGraphQL(mux)
	return g.observe(mux)
}

// mountMCP serves the MCP server at /mcp (origin check, then the API key)
// and the UCP business profile that advertises it at /.well-known/ucp.
func (g *Gateway) mountMCP(mux *http.ServeMux) {
	srv, err := tools.New(g.ops, tools.Options{Logger: g.log.With("component", "mcp")})
	if err != nil {
		// Only a schema that cannot be encoded gets here: a programming
		// error that every MCP test catches; the rest of the API still runs.
		g.log.Error("MCP server not available", "err", err)
		return
	}
	origins := g.cfg.MCPAllowedOrigins
	if u, err := url.Parse(g.cfg.PublicURL); err == nil && u.Host != "" {
		origins = append(slices.Clip(origins), u.Scheme+"://"+u.Host)
	}
	limit := g.cfg.MaxBodyBytes
	mcpHandler := srv.HTTPHandler()
	mux.Handle("/mcp", tools.OriginGuard(origins, g.authenticated(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		mcpHandler.ServeHTTP(w, r)
	}))))
	mux.Handle("GET /.well-known/ucp", srv.ProfileHandler(g.cfg.PublicURL))
}

// ready reports whether this instance should get traffic: the database,
// the bus (in-process or NATS) and Milvus, when used, answer, and it is not
// shutting down.
func (g *Gateway) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok"}
	status := http.StatusOK
	select {
	case <-g.draining:
		checks["shutdown"] = "draining"
		status = http.StatusServiceUnavailable
	default:
	}
	if err := g.db.PingContext(ctx); err != nil {
		checks["database"] = err.Error()
		status = http.StatusServiceUnavailable
	}
	if !g.checkDependencies(ctx, checks) {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}

type opView struct {
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	Access       mdk.Access         `json:"access"`
	Effect       mdk.Effect         `json:"effect"`
	Idempotent   bool               `json:"idempotent"`
	InputSchema  *jsonschema.Schema `json:"input_schema"`
	OutputSchema *jsonschema.Schema `json:"output_schema"`
}

// listOperations shows the caller the operations its role may call.
func (g *Gateway) listOperations(w http.ResponseWriter, r *http.Request) {
	ops := g.ops.ListFor(mdk.PrincipalFrom(r.Context()))
	out := make([]opView, 0, len(ops))
	for _, op := range ops {
		out = append(out, opView{op.Name, op.Description, op.Access, op.Effect, op.Idempotent, op.InputSchema, op.OutputSchema})
	}
	writeJSON(w, http.StatusOK, map[string][]opView{"operations": out})
}

// callOperation runs one operation with the JSON body as its input.
func (g *Gateway) callOperation(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, mdk.Invalid("", "request body is larger than %d bytes", tooBig.Limit))
			return
		}
		writeError(w, mdk.Invalid("", "read request body: %v", err))
		return
	}
	out, err := g.ops.CallJSON(r.Context(), r.PathValue("name"), body)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// authenticated turns `Authorization: Bearer KEY` into the request's
// principal. No header is anonymous; a bad or revoked key is 401, never
// anonymous, so a typo cannot silently downgrade a merchant.
func (g *Gateway) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r.WithContext(mdk.WithPrincipal(r.Context(), mdk.Anonymous)))
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hyperrr", error="invalid_request", error_description="use Authorization: Bearer <API key>"`)
			writeError(w, &mdk.Error{Code: mdk.CodeUnauthorized, Message: "use Authorization: Bearer <API key>"})
			return
		}
		p, err := g.keys.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if mdk.ErrorCode(err) == mdk.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hyperrr", error="invalid_token", error_description="the API key is invalid or revoked"`)
			}
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(mdk.WithPrincipal(r.Context(), p)))
	})
}

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the ID of the HTTP request in ctx ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// statusWriter records what a handler wrote, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines (SSE).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an ID, recovers panics into a 500, logs the
// request and records metrics.
func (g *Gateway) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux; a zero ID is harmless
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				g.log.ErrorContext(r.Context(), "HTTP handler panicked", "request_id", id, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, mdk.Internal(fmt.Errorf("panic: %v", p)))
				}
			}
			d := time.Since(start)
			g.metrics.observeHTTP(r, sw.status, d)
			g.log.LogAttrs(r.Context(), levelFor(sw.status), "http request",
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes), slog.Duration("duration", d))
		}()
		next.ServeHTTP(sw, r)
	})
}
