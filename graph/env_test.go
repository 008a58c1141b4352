package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a whole server (modules, outbox relay, workflows, HTTP) serving on
// a real port, with an API key per role.
type env struct {
	g                    *gateway.Gateway
	base                 string // http://127.0.0.1:port
	merchant, alice, bob string // API keys
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) { fn(t, newEnv(t, engine, nil)) })
	}
}

func newEnv(t testing.TB, engine sqldb.Engine, tune func(*gateway.Config)) *env {
	t.Helper()
	cfg := gatewaytest.Config(t, engine)
	if tune != nil {
		tune(&cfg)
	}
	g := gatewaytest.New(t, gateway.Options{Config: cfg, Environ: []string{"HYPERRR_PRODUCT_EMBEDDER=none"}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	e := &env{g: g, base: "http://" + ln.Addr().String()}
	kctx := context.Background()
	if e.merchant, _, err = g.Keys().Create(kctx, mdk.RoleMerchant, "", "merchant"); err != nil {
		t.Fatal(err)
	}
	if e.alice, _, err = g.Keys().Create(kctx, mdk.RoleShopper, "cust_alice", "alice"); err != nil {
		t.Fatal(err)
	}
	if e.bob, _, err = g.Keys().Create(kctx, mdk.RoleShopper, "cust_bob", "bob"); err != nil {
		t.Fatal(err)
	}
	e.waitReady(t)
	return e
}

func (e *env) waitReady(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(e.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("server not ready after 10s")
}

// gqlError is a top-level GraphQL error.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (g gqlError) code() string { c, _ := g.Extensions["code"].(string); return c }

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	header http.Header
	status int
}

// post sends one GraphQL request as a client would; key "" is anonymous.
func (e *env) post(t testing.TB, key, query string, vars map[string]any) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out response
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %s: %v", resp.StatusCode, raw, err)
	}
	out.header, out.status = resp.Header, resp.StatusCode
	return out
}

// do sends a request that must succeed and decodes data into out.
func (e *env) do(t testing.TB, key, query string, vars map[string]any, out any) {
	t.Helper()
	r := e.post(t, key, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("GraphQL errors: %+v\nquery: %s", r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

type userError struct {
	Field   *string `json:"field"`
	Code    string  `json:"code"`
	Message string  `json:"message"`
}

const productCreate = `mutation($in: ProductCreateInput!) {
  productCreate(input: $in) { product { id handle variants { id sku } } errors { field code message } }
}`

// createProduct adds an active product with one variant per (sku, price,
// stock) and returns the product ID and variant IDs.
func (e *env) createProduct(t testing.TB, title string, variants ...variantSpec) (string, []string) {
	t.Helper()
	in := map[string]any{"title": title, "description": "A " + strings.ToLower(title) + " for the home.", "status": "ACTIVE",
		"vendor": "Acme", "category": "Home / Decor"}
	var vs []map[string]any
	for i, v := range variants {
		vm := map[string]any{"sku": v.sku, "price": v.price, "stock": v.stock}
		if len(variants) > 1 {
			vm["selectedOptions"] = []map[string]any{{"name": "Size", "label": fmt.Sprintf("S%d", i)}}
		}
		vs = append(vs, vm)
	}
	if len(variants) > 1 {
		var labels []string
		for i := range variants {
			labels = append(labels, fmt.Sprintf("S%d", i))
		}
		in["options"] = []map[string]any{{"name": "Size", "values": labels}}
	}
	in["variants"] = vs
	var out struct {
		ProductCreate struct {
			Product *struct {
				ID       string `json:"id"`
				Variants []struct {
					ID string `json:"id"`
				} `json:"variants"`
			} `json:"product"`
			Errors []userError `json:"errors"`
		} `json:"productCreate"`
	}
	e.do(t, e.merchant, productCreate, map[string]any{"in": in}, &out)
	if p := out.ProductCreate.Product; p == nil || len(out.ProductCreate.Errors) > 0 {
		t.Fatalf("productCreate: %+v", out.ProductCreate.Errors)
	}
	p := out.ProductCreate.Product
	ids := make([]string, len(p.Variants))
	for i, v := range p.Variants {
		ids[i] = v.ID
	}
	return p.ID, ids
}

type variantSpec struct {
	sku          string
	price, stock int64
}

// eventually retries check until it passes or 10 s go by (events reach
// the search index through the outbox relay).
func eventually(t testing.TB, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if check() {
			return
		}
	}
	t.Fatalf("%s: not after 10s", what)
}
