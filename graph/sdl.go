package graph

import (
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/hyperrr/hyperrr/graph/generated"
)

// SDL is the schema in GraphQL's schema language, as served at
// /graphql/schema.graphql and committed as graph/schema.graphql (a test
// keeps the snapshot current; .ci/graphql.sh checks changes to it).
func SDL() string { return sdl() }

var sdl = sync.OnceValue(func() string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(generated.NewExecutableSchema(generated.Config{}).Schema())
	return b.String()
})
