package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a gateway with the built-in modules served over real HTTP, two
// products, and an API key per role.
type env struct {
	db  sqldb.Config
	g   *gateway.Gateway
	url string // .../mcp
	// scarf: 2500, 50 in stock; table: 19900, 3 in stock.
	scarfProduct, scarf, table string
	merchantKey, shopperKey    string
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) { fn(t, newEnv(t, engine)) })
	}
}

func newEnv(t testing.TB, engine sqldb.Engine) *env {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Config(t, engine)
	e := &env{db: db}
	g := e.open(t, "first")
	e.g = g
	// The products exist before Start, which builds the search index from
	// SQL (no event relay runs in these tests).
	merchant := mdk.WithPrincipal(ctx, mdk.Principal{Role: mdk.RoleMerchant, KeyID: "setup"})
	e.scarfProduct, e.scarf = e.product(t, merchant, "Red Wool Scarf", "SCARF-1", 2500, 50)
	_, e.table = e.product(t, merchant, "Oak Dining Table", "TABLE-1", 19900, 3)
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.url = serve(t, g)
	var err error
	if e.merchantKey, _, err = g.Keys().Create(ctx, mdk.RoleMerchant, "", "test merchant"); err != nil {
		t.Fatal(err)
	}
	if e.shopperKey, _, err = g.Keys().Create(ctx, mdk.RoleShopper, "cust_a", "test shopper"); err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens an instance on e's database.
func (e *env) open(t testing.TB, instance string) *gateway.Gateway {
	t.Helper()
	cfg := gateway.DefaultConfig()
	cfg.DataDir, cfg.DatabaseURL = e.db.DataDir, e.db.URL
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.MCPAllowedOrigins = []string{"https://app.example.com"}
	cfg.InstanceID = instance
	g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Environ: []string{"HYPERRR_PRODUCT_EMBEDDER=none"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// sibling starts a second instance on e's database and returns its /mcp
// URL.
func (e *env) sibling(t testing.TB) string {
	t.Helper()
	g := e.open(t, "second")
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return serve(t, g)
}

// serve serves g's HTTP API on a loopback port and returns its /mcp URL.
func serve(t testing.TB, g *gateway.Gateway) string {
	t.Helper()
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

func (e *env) product(t testing.TB, ctx context.Context, title, sku string, price, stock int64) (productID, variantID string) {
	t.Helper()
	p, err := mdk.Call[product.ProductInput, product.Product](ctx, e.g.Ops(), "create_product", product.ProductInput{
		Title: title, Description: "A " + strings.ToLower(title) + " for the home.", Status: product.StatusActive,
		Variants: []product.VariantInput{{SKU: sku, Price: price, Stock: &stock}},
	})
	if err != nil {
		t.Fatalf("create %s: %v", title, err)
	}
	return p.ID, p.Variants[0].ID
}

// connect returns an initialized MCP client over streamable HTTP; key ""
// is anonymous.
func connect(t testing.TB, url, key string) *client.Client {
	t.Helper()
	var opts []transport.StreamableHTTPCOption
	if key != "" {
		opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	}
	c, err := client.NewStreamableHttpClient(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "hyperrr-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// callTool calls a tool and returns its result; a protocol error fails t.
func callTool(t testing.TB, c *client.Client, name string, args any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// structured returns a result's structured content as a JSON document.
func structured(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		t.Fatalf("structured content %s is not an object: %v", raw, err)
	}
	return doc
}

// ok returns the structured content of a successful call, failing t with
// the error text otherwise.
func ok(t testing.TB, c *client.Client, name string, args any) map[string]any {
	t.Helper()
	res := callTool(t, c, name, args)
	if res.IsError {
		t.Fatalf("%s(%v) failed: %s", name, args, text(res))
	}
	doc := structured(t, res)
	// The text fallback's last block is the same document.
	var fallback map[string]any
	if tc, isText := res.Content[len(res.Content)-1].(mcp.TextContent); !isText || json.Unmarshal([]byte(tc.Text), &fallback) != nil || !reflect.DeepEqual(fallback, doc) {
		t.Errorf("%s: the text fallback's JSON is not the structured content:\n%s\n%v", name, text(res), doc)
	}
	return doc
}

// text joins a result's text blocks.
func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// errorMessage returns the first error message of an isError result.
func errorMessage(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	if !res.IsError {
		t.Fatalf("want an isError result, got %s", text(res))
	}
	msgs, _ := structured(t, res)["messages"].([]any)
	if len(msgs) == 0 {
		t.Fatalf("error result without messages: %s", text(res))
	}
	return msgs[0].(map[string]any)
}

// obj builds a JSON object literal for arguments.
type obj = map[string]any

func meta(key string) obj { return obj{"idempotency-key": key} }

func str(v any) string { return fmt.Sprint(v) }
