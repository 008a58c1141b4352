package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hyperrr/hyperrr/graph/generated"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools/agent"
)

// Config assembles the GraphQL edge. Ops and Bus are required.
type Config struct {
	Ops *mdk.Registry
	Bus mdk.Bus
	Log *slog.Logger
	// Authenticate turns an API key into a principal, for WebSocket
	// clients that send `Authorization: Bearer <key>` in connection_init
	// (browsers cannot set headers on a WebSocket).
	Authenticate func(ctx context.Context, key string) (mdk.Principal, error)
	// MaxComplexity bounds a query's cost (fields, lists counted by their
	// page size); 0 means 5000.
	MaxComplexity int
	// MaxDepth bounds field nesting; 0 means 12.
	MaxDepth int
	// MaxInputList bounds every input list; 0 means 100.
	MaxInputList int
	// MaxBodyBytes bounds a request body; 0 means 1 MiB.
	MaxBodyBytes int64
	// CacheEntries is the size of the public response cache; 0 means 1000,
	// negative turns it off.
	CacheEntries int
	// Agent returns the catalog agent behind the @agent fields (the
	// gateway's Agent); nil, or an error, makes them answer unavailable.
	Agent func() (*agent.Service, error)
	// CORSOrigins are the browser origins (https://shop.example.com, or
	// "*" alone) allowed to call from another site and to open
	// WebSockets; empty means same-origin only.
	CORSOrigins []string
}

// Server is the GraphQL HTTP handler: POST (JSON), GET (GraphiQL in a
// browser, or a query), WebSocket (graphql-transport-ws) and SSE.
type Server struct {
	gql     *handler.Server
	cache   *responses
	log     *slog.Logger
	maxBody int64
	origins Origins
}

// subscriptionEvents are the events that wake subscriptions.
var subscriptionEvents = []string{"checkout.*", "order.*", "payment.*"}

// cacheableRoots are the root fields whose answers are the same for every
// anonymous caller and change only with catalog events.
var cacheableRoots = map[string]bool{"products": true, "product": true, "variants": true, "__typename": true}

// New builds the server and subscribes to the bus: order, checkout and
// payment events wake subscriptions; product and inventory events empty
// the response cache. Broadcast delivery, so every instance hears them.
func New(cfg Config) (*Server, error) {
	if cfg.Ops == nil || cfg.Bus == nil {
		return nil, errors.New("graph: Ops and Bus are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.MaxComplexity = orDefault(cfg.MaxComplexity, 5000)
	cfg.MaxDepth = orDefault(cfg.MaxDepth, 12)
	cfg.MaxInputList = orDefault(cfg.MaxInputList, 100)
	cfg.MaxBodyBytes = orDefault(cfg.MaxBodyBytes, 1<<20)
	cfg.CacheEntries = orDefault(cfg.CacheEntries, 1000)

	origins, err := NewOrigins(cfg.CORSOrigins)
	if err != nil {
		return nil, fmt.Errorf("graph: CORS origins: %w", err)
	}
	res := &Resolver{ops: cfg.Ops, hub: newHub(), log: cfg.Log, agent: cfg.Agent}
	s := &Server{log: cfg.Log, maxBody: cfg.MaxBodyBytes, origins: origins}
	if err := cfg.Bus.Subscribe(mdk.Subscription{
		Name: "graph.subscriptions", Types: subscriptionEvents, Delivery: mdk.Broadcast,
	}, res.hub.handle); err != nil {
		return nil, fmt.Errorf("graph: subscribe to order events: %w", err)
	}
	if cfg.CacheEntries > 0 {
		s.cache = newResponses(cfg.CacheEntries)
		if err := cfg.Bus.Subscribe(mdk.Subscription{
			Name: "graph.cache", Types: []string{"product.*", "inventory.*"}, Delivery: mdk.Broadcast,
		}, s.cache.invalidate); err != nil {
			return nil, fmt.Errorf("graph: subscribe to catalog events: %w", err)
		}
	}

	gql := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers: res, Directives: generated.DirectiveRoot{Op: opDirective}, Complexity: complexity(),
	}))
	gql.AddTransport(&transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		Implementation:        originChecked{origins},
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			return s.authenticateInit(ctx, cfg.Authenticate, p)
		},
	})
	gql.AddTransport(transport.SSE{})
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(newLRU[*ast.QueryDocument](1000))
	gql.Use(extension.Introspection{})
	gql.Use(extension.AutomaticPersistedQuery{Cache: newLRU[string](1000)})
	gql.Use(limits{maxDepth: cfg.MaxDepth, maxList: cfg.MaxInputList})
	gql.Use(extension.FixedComplexityLimit(cfg.MaxComplexity))
	gql.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		ge := presentError(ctx, err)
		if ge.Extensions["code"] == string(mdk.CodeInternal) {
			s.log.ErrorContext(ctx, "GraphQL request failed", "path", ge.Path.String(), "err", err)
		}
		return ge
	})
	gql.SetRecoverFunc(func(ctx context.Context, p any) error {
		s.log.ErrorContext(ctx, "GraphQL resolver panicked", "panic", p, "stack", string(debug.Stack()))
		return mdk.Internal(fmt.Errorf("panic: %v", p))
	})
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, res.newLoaders()))
	})
	gql.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if m, ok := ctx.Value(cacheMarkKey{}).(*cacheMark); ok && resp != nil && len(resp.Errors) == 0 {
			m.ok = publicQuery(graphql.GetOperationContext(ctx))
		}
		return resp
	})
	s.gql = gql
	return s, nil
}

func orDefault[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// authenticateInit accepts an API key in connection_init's payload
// ({"Authorization": "Bearer <key>"}), for clients that cannot set headers.
// A connection authenticated by header keeps that principal.
func (s *Server) authenticateInit(ctx context.Context, auth func(context.Context, string) (mdk.Principal, error), p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	h := p.Authorization()
	if h == "" || auth == nil {
		return ctx, nil, nil
	}
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return ctx, nil, errors.New("use Authorization: Bearer <API key> in the connection_init payload")
	}
	principal, err := auth(ctx, strings.TrimSpace(key))
	if err != nil {
		return ctx, nil, errors.New(mdk.AsError(err).Message)
	}
	return mdk.WithPrincipal(ctx, principal), nil, nil
}

// publicQuery reports whether an operation's answer may be shared: a
// query whose root fields are all public catalog reads.
func publicQuery(op *graphql.OperationContext) bool {
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Query {
		return false
	}
	for _, sel := range op.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !cacheableRoots[f.Name] {
			return false
		}
	}
	return true
}

// ServeHTTP routes /graphql and /graphql/schema.graphql.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.refuseForeignWebSocket(w, r) {
		return
	}
	switch {
	case r.URL.Path == "/graphql/schema.graphql":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, SDL()) //nolint:errcheck // a failed write means the client left
	case r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" && r.URL.Query().Get("query") == "" && r.URL.Query().Get("extensions") == "":
		graphiql(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") &&
		!strings.Contains(r.Header.Get("Accept"), "text/event-stream"):
		s.post(w, r)
	default:
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		s.gql.ServeHTTP(flusher{w}, r)
	}
}

var graphiql = playground.Handler("Hyperrr GraphQL", "/graphql")

// flusher lets gqlgen's SSE transport flush through wrapping writers
// (the gateway's logging writer) that expose Unwrap.
type flusher struct{ http.ResponseWriter }

func (f flusher) Flush() {
	_ = http.NewResponseController(f.ResponseWriter).Flush() // a writer that cannot flush still gets the data at the end
}

func (f flusher) Unwrap() http.ResponseWriter { return f.ResponseWriter }

type cacheMarkKey struct{}

// cacheMark is set by the response middleware when the answer may be
// cached.
type cacheMark struct{ ok bool }

// request is the part of a POST body the response cache keys on.
type request struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// post serves a JSON POST, answering public catalog queries of anonymous
// callers from the response cache.
func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		writeErrors(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", s.maxBody), "BAD_REQUEST")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if s.cache == nil || mdk.PrincipalFrom(r.Context()).Role != mdk.RoleAnonymous {
		s.gql.ServeHTTP(w, r)
		return
	}
	// The exact bytes are looked up first: a storefront sends the same
	// body again and again, and hashing it is cheaper than parsing it.
	raw := sha256.Sum256(body)
	exact := "raw:" + hex.EncodeToString(raw[:])
	if cached, ok := s.cache.get(exact); ok {
		writeCached(w, cached)
		return
	}
	gen := s.cache.gen.Load()
	key, ok := cacheKey(body)
	if !ok {
		s.gql.ServeHTTP(w, r)
		return
	}
	if cached, ok := s.cache.get(key); ok {
		s.cache.put(exact, gen, cached)
		writeCached(w, cached)
		return
	}
	mark := &cacheMark{}
	rec := &recorder{ResponseWriter: w}
	s.gql.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), cacheMarkKey{}, mark)))
	if mark.ok && (rec.status == 0 || rec.status == http.StatusOK) {
		s.cache.put(key, gen, rec.body.Bytes())
		s.cache.put(exact, gen, rec.body.Bytes())
	}
}

func writeCached(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Cache", "hit")
	w.Write(body) //nolint:errcheck // a failed write means the client left
}

// cacheKey is the request with the query's white space collapsed (or the
// persisted query's hash when only that is sent).
func cacheKey(body []byte) (string, bool) {
	var req request
	if json.Unmarshal(body, &req) != nil {
		return "", false
	}
	q := strings.Join(strings.Fields(req.Query), " ")
	if q == "" {
		q = string(req.Extensions)
	}
	h := sha256.New()
	for _, part := range []string{q, req.OperationName, string(bytes.TrimSpace(req.Variables))} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// recorder copies what it writes, for the response cache.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func writeErrors(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": code}}}}) //nolint:errcheck // the client left
}
