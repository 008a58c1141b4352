package gateway

import (
	"net/http"

	"github.com/hyperrr/hyperrr/graph"
)

// openGraph builds the GraphQL edge once per gateway (it subscribes to the
// bus, which takes each subscription name once).
func (g *Gateway) openGraph() error {
	srv, err := graph.New(graph.Config{
		Ops: g.ops, Bus: g.bus, Log: g.log.With("component", "graphql"),
		Authenticate:  g.keys.Authenticate,
		MaxComplexity: g.cfg.GraphQLMaxComplexity, MaxDepth: g.cfg.GraphQLMaxDepth,
		CacheEntries: g.cfg.GraphQLCacheEntries, MaxBodyBytes: g.cfg.MaxBodyBytes,
		Agent: g.Agent, CORSOrigins: g.cfg.GraphQLCORSOrigins,
	})
	if err != nil {
		return err
	}
	g.graph = srv
	return nil
}

// mountGraphQL serves GraphQL at /graphql (GraphiQL on GET in a browser,
// WebSocket and SSE subscriptions) behind the API key, and the schema at
// /graphql/schema.graphql; both answer the CORS origins of
// HYPERRR_GRAPHQL_CORS_ORIGINS.
func (g *Gateway) mountGraphQL(mux *http.ServeMux) {
	if g.graph == nil {
		return
	}
	mux.Handle("/graphql", g.graph.CORS(g.authenticated(g.graph)))
	mux.Handle("/graphql/schema.graphql", g.graph.CORS(g.graph))
}
