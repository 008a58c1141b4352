package graph_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/hyperrr/hyperrr/graph"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// TestParity: every registered operation is reachable from GraphQL (a
// field with @op naming it) and from MCP (a tool of that name), every
// @op names a registered operation, and every root field is either an
// operation (@op) or the catalog agent (@agent). It reads the schema and the tools the
// way clients do, over HTTP.
func TestParity(t *testing.T) {
	e := newEnv(t, sqldb.SQLite, nil)
	resp, err := http.Get(e.base + "/graphql/schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /graphql/schema.graphql: %d %v", resp.StatusCode, err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(sdl)})
	if gerr != nil {
		t.Fatalf("served schema does not parse: %v", gerr)
	}
	fieldsOf := map[string][]string{} // operation → fields calling it
	for _, def := range schema.Types {
		for _, f := range def.Fields {
			if d := f.Directives.ForName("op"); d != nil {
				name := d.Arguments.ForName("name").Value.Raw
				fieldsOf[name] = append(fieldsOf[name], def.Name+"."+f.Name)
			}
		}
	}
	// A root field either calls an operation (@op) or runs the catalog
	// agent (@agent), which is no operation of its own: it calls the @op
	// operations. A root field with neither would escape this test.
	var unmarked []string
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range root.Fields {
			op, agent := f.Directives.ForName("op") != nil, f.Directives.ForName("agent") != nil
			if op == agent && !strings.HasPrefix(f.Name, "__") {
				unmarked = append(unmarked, root.Name+"."+f.Name)
			}
		}
	}
	if len(unmarked) > 0 {
		t.Errorf("root fields need exactly one of @op(name:) or @agent: %s", strings.Join(unmarked, ", "))
	}
	tools := e.mcpTools(t)
	ops := e.g.Ops().List()
	registered := map[string]bool{}
	for _, op := range ops {
		registered[op.Name] = true
		t.Run(op.Name, func(t *testing.T) {
			if len(fieldsOf[op.Name]) == 0 {
				t.Errorf("operation %s has no GraphQL field: add one with @op(name: %q) to graph/*.graphqls", op.Name, op.Name)
			}
			if !tools[op.Name] {
				t.Errorf("operation %s has no MCP tool", op.Name)
			}
			if op.Description == "" || op.InputSchema == nil || op.OutputSchema == nil {
				t.Errorf("operation %s lacks a description or a schema", op.Name)
			}
		})
	}
	var unknown []string
	for name, fields := range fieldsOf {
		if !registered[name] {
			unknown = append(unknown, name+" (by "+strings.Join(fields, ", ")+")")
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("@op names operations that are not registered: %s", strings.Join(unknown, "; "))
	}
	if len(ops) < 30 {
		t.Errorf("only %d operations registered; the modules did not start?", len(ops))
	}
}

// mcpTools lists the MCP tools a merchant sees (every tool), over the
// server's /mcp endpoint.
func (e *env) mcpTools(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	c, err := client.NewStreamableHttpClient(e.base+"/mcp",
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + e.merchant}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "graph-parity", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, tool := range res.Tools {
		out[tool.Name] = true
	}
	return out
}

// TestSchemaSnapshot: graph/schema.graphql, the committed schema that CI
// compares for breaking changes, is the schema the server serves.
// UPDATE_SCHEMA=1 rewrites it.
func TestSchemaSnapshot(t *testing.T) {
	const path = "schema.graphql"
	if os.Getenv("UPDATE_SCHEMA") == "1" {
		if err := os.WriteFile(path, []byte(graph.SDL()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the committed schema: %v (UPDATE_SCHEMA=1 go test ./graph -run TestSchemaSnapshot writes it)", err)
	}
	if string(committed) != graph.SDL() {
		t.Fatal("graph/schema.graphql is stale: run UPDATE_SCHEMA=1 go test ./graph -run TestSchemaSnapshot, and record breaking changes in CHANGELOG.md")
	}
}
