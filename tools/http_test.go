package tools_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/hyperrr/hyperrr/internal/ucptest"
	"github.com/hyperrr/hyperrr/tools"
)

// post sends one JSON-RPC message to /mcp as a stateless client would.
func post(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestHTTPEdge checks the transport guards: origins, Host, API keys, and
// that a lone stateless request works (any instance can serve it).
func TestHTTPEdge(t *testing.T) {
	e := newEnv(t, "sqlite")
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"OKNoOrigin", nil, http.StatusOK},
		{"OKLoopbackOrigin", map[string]string{"Origin": "http://localhost:6274"}, http.StatusOK},
		{"OKConfiguredOrigin", map[string]string{"Origin": "https://app.example.com"}, http.StatusOK},
		{"ErrForeignOrigin", map[string]string{"Origin": "http://evil.example.com"}, http.StatusForbidden},
		{"ErrRebindingHost", map[string]string{"Host": "evil.example.com"}, http.StatusForbidden},
		{"ErrBadKey", map[string]string{"Authorization": "Bearer hyp_not_a_key"}, http.StatusUnauthorized},
		{"ErrNotBearer", map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(t, e.url, tc.header)
			if res.StatusCode != tc.status {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer WWW-Authenticate: %q", res.Header.Get("WWW-Authenticate"))
			}
			if tc.status == http.StatusOK && res.Header.Get("Mcp-Session-Id") != "" {
				t.Errorf("stateless server handed out session %q", res.Header.Get("Mcp-Session-Id"))
			}
		})
	}
}

// TestProfile validates /.well-known/ucp against the UCP business profile
// schema and checks it advertises this server's MCP endpoint.
func TestProfile(t *testing.T) {
	e := newEnv(t, "sqlite")
	schema := ucptest.Compile(t, "https://ucp.dev/schemas/profile.json#/$defs/business_schema")[0]
	res, err := http.Get(strings.TrimSuffix(e.url, "/mcp") + "/.well-known/ucp")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(any(doc)); err != nil {
		t.Errorf("profile is not a UCP business profile: %v", err)
	}
	ucp := doc["ucp"].(map[string]any)
	svc := ucp["services"].(map[string]any)["dev.ucp.shopping"].([]any)[0].(map[string]any)
	if svc["transport"] != "mcp" || svc["endpoint"] != e.url {
		t.Errorf("service %v, want mcp at %s", svc, e.url)
	}
	caps := ucp["capabilities"].(map[string]any)
	for _, c := range []string{"dev.ucp.shopping.checkout", "dev.ucp.shopping.cart", "dev.ucp.shopping.order", "dev.ucp.shopping.catalog.search", "dev.ucp.shopping.catalog.lookup"} {
		if caps[c] == nil {
			t.Errorf("profile lacks capability %s", c)
		}
	}
	delete(ucp, "payment_handlers")
	if err := schema.Validate(any(doc)); err == nil {
		t.Error("a profile without payment_handlers validated: the check is vacuous")
	}
}

// TestResourcesAndPrompts reads the resource templates (access-checked as
// the tools) and renders the prompts.
func TestResourcesAndPrompts(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	shopper := connect(t, e.url, e.shopperKey)
	anon := connect(t, e.url, "")
	read := func(c interface {
		ReadResource(context.Context, mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error)
	}, uri string) (string, error) {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = uri
		res, err := c.ReadResource(ctx, req)
		if err != nil {
			return "", err
		}
		return res.Contents[0].(mcp.TextResourceContents).Text, nil
	}
	t.Run("OKTemplates", func(t *testing.T) {
		list, err := anon.ListResourceTemplates(ctx, mcp.ListResourceTemplatesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var uris []string
		for _, tmpl := range list.ResourceTemplates {
			uris = append(uris, tmpl.URITemplate.Raw())
		}
		for _, want := range []string{"hyperrr://products/{id}", "hyperrr://carts/{id}", "hyperrr://checkouts/{id}", "hyperrr://orders/{id}"} {
			if !strings.Contains(strings.Join(uris, " "), want) {
				t.Errorf("templates %v lack %s", uris, want)
			}
		}
	})
	t.Run("OKProduct", func(t *testing.T) {
		body, err := read(anon, "hyperrr://products/"+e.scarfProduct)
		if err != nil || !strings.Contains(body, "Red Wool Scarf") {
			t.Fatalf("got %s, %v", body, err)
		}
	})
	cart := ok(t, shopper, "create_cart", obj{})
	t.Run("OKOwnCart", func(t *testing.T) {
		if body, err := read(shopper, "hyperrr://carts/"+str(cart["id"])); err != nil || !strings.Contains(body, str(cart["id"])) {
			t.Fatalf("got %s, %v", body, err)
		}
	})
	t.Run("ErrOthersCart", func(t *testing.T) {
		other, _, err := e.g.Keys().Create(ctx, "shopper", "cust_z", "z")
		if err != nil {
			t.Fatal(err)
		}
		if body, err := read(connect(t, e.url, other), "hyperrr://carts/"+str(cart["id"])); err == nil {
			t.Fatalf("another shopper read the cart: %s", body)
		}
	})
	t.Run("OKPrompts", func(t *testing.T) {
		req := mcp.GetPromptRequest{}
		req.Params.Name = "shopping_assistant"
		req.Params.Arguments = map[string]string{"request": "a warm scarf", "budget": "$40"}
		res, err := anon.GetPrompt(ctx, req)
		if err != nil || !strings.Contains(res.Messages[0].Content.(mcp.TextContent).Text, "a warm scarf") {
			t.Fatalf("shopping_assistant: %+v, %v", res, err)
		}
		req.Params.Name = "catalog_review"
		req.Params.Arguments = map[string]string{"focus": "pricing"}
		if res, err = anon.GetPrompt(ctx, req); err != nil || !strings.Contains(res.Messages[0].Content.(mcp.TextContent).Text, "pricing") {
			t.Fatalf("catalog_review: %+v, %v", res, err)
		}
		req.Params.Name = "shopping_assistant"
		req.Params.Arguments = nil
		if _, err := anon.GetPrompt(ctx, req); err == nil {
			t.Error("shopping_assistant without its required request argument answered")
		}
	})
}

// TestBoundedResults checks that a result over the size bound is cut to
// fit, says so in its messages, and is still valid UCP.
func TestBoundedResults(t *testing.T) {
	e := newEnv(t, "sqlite")
	search := ucptest.Compile(t, "https://ucp.dev/schemas/shopping/catalog_search.json#/$defs/search_response")[0]
	full := ok(t, connect(t, e.url, ""), "search_catalog", obj{"catalog": obj{}})
	if n := len(full["products"].([]any)); n < 2 {
		t.Fatalf("want at least 2 products to cut, have %d", n)
	}
	raw, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	max := len(raw) - 1
	srv, err := tools.New(e.g.Ops(), tools.Options{MaxResultBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.HTTPHandler())
	t.Cleanup(hs.Close)
	res := callTool(t, connect(t, hs.URL, ""), "search_catalog", obj{"catalog": obj{}})
	cut := structured(t, res)
	got, _ := json.Marshal(cut)
	if len(got) > max || len(cut["products"].([]any)) >= len(full["products"].([]any)) {
		t.Fatalf("result of %d bytes with %d products, want at most %d bytes and fewer products", len(got), len(cut["products"].([]any)), max)
	}
	if !strings.Contains(string(got), `"code":"truncated"`) {
		t.Errorf("the cut is not reported: %s", got)
	}
	if err := search.Validate(any(cut)); err != nil {
		t.Errorf("cut result is not UCP: %v", err)
	}
}
