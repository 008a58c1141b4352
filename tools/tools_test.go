package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hyperrr/hyperrr/internal/ucptest"
)

// schemaChecker validates results against the output schemas a client sees
// in tools/list and remembers which tools were called.
type schemaChecker struct {
	schemas map[string]*jsonschema.Schema
	tools   map[string]mcp.Tool
	called  map[string]bool
}

func newChecker(t *testing.T, c *client.Client) *schemaChecker {
	t.Helper()
	list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sc := &schemaChecker{schemas: map[string]*jsonschema.Schema{}, tools: map[string]mcp.Tool{}, called: map[string]bool{}}
	comp := jsonschema.NewCompiler()
	for _, tool := range list.Tools {
		raw, err := json.Marshal(tool.OutputSchema)
		if tool.RawOutputSchema != nil {
			raw = tool.RawOutputSchema
		}
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: output schema: %v", tool.Name, err)
		}
		url := "mem:///" + tool.Name + ".json"
		if err := comp.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		if sc.schemas[tool.Name], err = comp.Compile(url); err != nil {
			t.Fatalf("%s: output schema does not compile: %v", tool.Name, err)
		}
		sc.tools[tool.Name] = tool
	}
	return sc
}

// ok calls a tool that must succeed and validates its structured content.
func (sc *schemaChecker) ok(t *testing.T, c *client.Client, name string, args any) map[string]any {
	t.Helper()
	doc := ok(t, c, name, args)
	sc.called[name] = true
	if s := sc.schemas[name]; s == nil {
		t.Errorf("%s is not in tools/list", name)
	} else if err := s.Validate(any(doc)); err != nil {
		t.Errorf("%s: structured content does not match its output schema: %v", name, err)
	}
	return doc
}

// TestEveryToolOutputSchema calls every tool a merchant sees at least
// once and validates each result against the tool's own outputSchema.
func TestEveryToolOutputSchema(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		m := connect(t, e.url, e.merchantKey)
		s := connect(t, e.url, e.shopperKey)
		sc := newChecker(t, m)

		// Merchant catalog work.
		p := sc.ok(t, m, "create_product", obj{"title": "Linen Throw", "options": []any{obj{"name": "Size", "values": []any{"S", "L"}}},
			"variants": []any{obj{"sku": "THROW-1", "options": obj{"Size": "S"}, "price": 4500, "stock": 2}}})
		pid := p["id"]
		v := sc.ok(t, m, "add_variant", obj{"product_id": pid, "sku": "THROW-2", "options": obj{"Size": "L"}, "price": 4700, "stock": 10})
		vid := v["id"]
		sc.ok(t, m, "update_variant", obj{"id": vid, "price": 4800})
		sc.ok(t, m, "set_stock", obj{"sku": "THROW-1", "on_hand": 1})
		sc.ok(t, m, "list_low_stock", obj{})
		sc.ok(t, m, "get_product_admin", obj{"id": pid})
		sc.ok(t, m, "list_products", obj{"limit": 5})
		sc.ok(t, m, "update_product", obj{"id": pid, "title": "Linen Throw Blanket"})
		sc.ok(t, m, "import_products", obj{"format": "jsonl", "content": `{"title":"Cotton Pillow","variants":[{"sku":"PILLOW-1","price":1900}]}` + "\n"})
		sc.ok(t, m, "remove_variant", obj{"id": vid})
		sc.ok(t, m, "archive_product", obj{"id": pid})
		sc.ok(t, m, "list_dead_letters", obj{})

		// Shopper catalog, cart and checkout work.
		sc.ok(t, s, "search_catalog", obj{"catalog": obj{"query": "scarf"}})
		sc.ok(t, s, "lookup_catalog", obj{"catalog": obj{"ids": []any{e.scarf, "SCARF-1"}}})
		sc.ok(t, s, "get_product", obj{"catalog": obj{"id": e.scarfProduct}})
		cart := sc.ok(t, s, "create_cart", obj{"cart": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}})
		cart = sc.ok(t, s, "add_cart_line", obj{"cart_id": cart["id"], "item_id": e.table, "quantity": 1})
		line := cart["line_items"].([]any)[1].(map[string]any)["id"]
		sc.ok(t, s, "change_cart_line_quantity", obj{"cart_id": cart["id"], "line_id": line, "quantity": 2})
		sc.ok(t, s, "remove_cart_line", obj{"cart_id": cart["id"], "line_id": line})
		sc.ok(t, s, "update_cart", obj{"id": cart["id"], "cart": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 3}}}})
		sc.ok(t, s, "get_cart", obj{"id": cart["id"]})
		chk := sc.ok(t, s, "create_checkout", obj{"checkout": obj{"cart_id": cart["id"]}})
		sc.ok(t, s, "get_checkout", obj{"id": chk["id"]})
		sc.ok(t, s, "update_checkout", obj{"id": chk["id"], "checkout": readyCheckout("standard")})
		done := sc.ok(t, s, "complete_checkout", obj{"meta": meta("11111111-2222-4333-8444-555555555555"), "id": chk["id"]})
		orderID := done["order"].(map[string]any)["id"]
		sc.ok(t, s, "get_order", obj{"id": orderID})
		sc.ok(t, s, "list_my_orders", obj{})
		other := sc.ok(t, s, "create_cart", obj{})
		sc.ok(t, s, "cancel_cart", obj{"id": other["id"]})
		drop := sc.ok(t, s, "create_checkout", obj{"checkout": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}})
		sc.ok(t, s, "cancel_checkout", obj{"meta": meta("21111111-2222-4333-8444-555555555555"), "id": drop["id"]})

		// Merchant order work; a second order is canceled.
		sc.ok(t, m, "list_orders", obj{"limit": 5})
		sc.ok(t, m, "fulfill_order", obj{"id": orderID, "tracking_number": "1Z999"})
		sc.ok(t, m, "mark_delivered", obj{"id": orderID})
		sc.ok(t, m, "refund_order", obj{"id": orderID})
		chk2 := sc.ok(t, s, "create_checkout", obj{"checkout": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}})
		sc.ok(t, s, "update_checkout", obj{"id": chk2["id"], "checkout": readyCheckout("express")})
		done2 := sc.ok(t, s, "complete_checkout", obj{"meta": meta("31111111-2222-4333-8444-555555555555"), "id": chk2["id"]})
		sc.ok(t, s, "cancel_order", obj{"id": done2["order"].(map[string]any)["id"]})

		var missed []string
		for name := range sc.tools {
			if !sc.called[name] {
				missed = append(missed, name)
			}
		}
		sort.Strings(missed)
		if len(missed) > 0 {
			t.Errorf("tools never called (add them to this test): %v", missed)
		}
	})
}

// TestToolDefinitions checks what an agent reads in tools/list.
func TestToolDefinitions(t *testing.T) {
	e := newEnv(t, "sqlite")
	sc := newChecker(t, connect(t, e.url, e.merchantKey))
	for name, tool := range sc.tools {
		a := tool.Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s: every hint must be set, openWorld false: %+v", name, a)
		}
		if tool.Description == "" || tool.RawOutputSchema == nil && tool.OutputSchema.Type == "" {
			t.Errorf("%s: no description or output schema", name)
		}
	}
	hint := func(b *bool) bool { return b != nil && *b }
	if a := sc.tools["search_catalog"].Annotations; !hint(a.ReadOnlyHint) || hint(a.DestructiveHint) || !hint(a.IdempotentHint) {
		t.Errorf("search_catalog annotations: %+v", a)
	}
	if a := sc.tools["archive_product"].Annotations; hint(a.ReadOnlyHint) || !hint(a.DestructiveHint) {
		t.Errorf("archive_product annotations: %+v", a)
	}
	if a := sc.tools["create_cart"].Annotations; hint(a.ReadOnlyHint) || hint(a.DestructiveHint) || hint(a.IdempotentHint) {
		t.Errorf("create_cart annotations: %+v", a)
	}
	// UCP tools take {meta, id?, object}; complete_checkout needs the key.
	raw, err := json.Marshal(sc.tools["complete_checkout"])
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	var in struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(def.InputSchema, &in); err != nil {
		t.Fatal(err)
	}
	if in.Properties["meta"] == nil || in.Properties["id"] == nil || in.Properties["checkout"] == nil || !slices.Contains(in.Required, "meta") {
		t.Errorf("complete_checkout input schema is not UCP-shaped: %s", raw)
	}
	if bytes.Contains(def.InputSchema, []byte("idempotency_key")) {
		t.Error("complete_checkout exposes the flat idempotency_key beside meta")
	}
}

// TestRoles checks that tools/list shows each role only what it may call
// and that calls outside the role are refused with an actionable error.
func TestRoles(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		names := func(c *client.Client) []string {
			list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tool := range list.Tools {
				out = append(out, tool.Name)
			}
			return out
		}
		anon, shopper, merchant := connect(t, e.url, ""), connect(t, e.url, e.shopperKey), connect(t, e.url, e.merchantKey)
		a, s, m := names(anon), names(shopper), names(merchant)
		t.Run("OKList", func(t *testing.T) {
			for _, want := range []string{"search_catalog", "get_product", "lookup_catalog"} {
				if !slices.Contains(a, want) {
					t.Errorf("anonymous list lacks %s", want)
				}
			}
			for _, want := range []string{"create_cart", "complete_checkout", "get_order"} {
				if !slices.Contains(s, want) {
					t.Errorf("shopper list lacks %s", want)
				}
			}
			for _, hidden := range []string{"create_product", "list_orders", "list_my_orders", "set_stock", "create_cart", "get_cart", "create_checkout", "complete_checkout", "get_order"} {
				if slices.Contains(a, hidden) {
					t.Errorf("anonymous list shows %s", hidden)
				}
			}
			if !slices.Contains(s, "list_my_orders") || slices.Contains(s, "create_product") || slices.Contains(s, "refund_order") {
				t.Errorf("shopper list: %v", s)
			}
			if len(m) <= len(s) || len(s) <= len(a) || !slices.Contains(m, "create_product") {
				t.Errorf("merchant %d tools, shopper %d, anonymous %d", len(m), len(s), len(a))
			}
		})
		for _, tc := range []struct {
			name string
			c    *client.Client
			code string
		}{{"ErrAnonymousCreateProduct", anon, "unauthorized"}, {"ErrShopperCreateProduct", shopper, "forbidden"}} {
			t.Run(tc.name, func(t *testing.T) {
				res := callTool(t, tc.c, "create_product", obj{"title": "Sneaky", "variants": []any{obj{"sku": "SNEAK-" + tc.code, "price": 1}}})
				msg := errorMessage(t, res)
				if msg["code"] != tc.code || msg["hint"] == "" {
					t.Errorf("got %v", msg)
				}
				found := ok(t, merchant, "lookup_catalog", obj{"catalog": obj{"ids": []any{"SNEAK-" + tc.code}}})
				if n := len(found["products"].([]any)); n != 0 {
					t.Errorf("a refused call created %d products", n)
				}
			})
		}
		t.Run("ErrOtherShoppersCart", func(t *testing.T) {
			cart := ok(t, shopper, "create_cart", obj{})
			other, _, err := e.g.Keys().Create(context.Background(), "shopper", "cust_b", "b")
			if err != nil {
				t.Fatal(err)
			}
			msg := errorMessage(t, callTool(t, connect(t, e.url, other), "get_cart", obj{"id": cart["id"]}))
			if msg["code"] != "not_found" {
				t.Errorf("another shopper's cart: %v", msg)
			}
		})
	})
}

// TestErrors checks that fixable mistakes come back as isError results with
// the code, the argument's JSONPath and a hint, and that protocol errors
// stay protocol errors.
func TestErrors(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := connect(t, e.url, e.shopperKey)
	errSchema := ucptest.Compile(t, "https://ucp.dev/schemas/common/types/error_response.json")[0]
	for _, tc := range []struct {
		name, tool string
		args       any
		code, path string
	}{
		{"ErrFlatArguments", "search_catalog", obj{"query": "scarf"}, "invalid", "$.query"},
		{"ErrFieldPath", "create_cart", obj{"cart": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 0}}}}, "invalid", "$.cart.line_items[0].quantity"},
		{"ErrMissingIdempotencyKey", "complete_checkout", obj{"id": "chk_nope"}, "invalid", "$.meta.idempotency-key"},
		{"ErrNotFound", "get_checkout", obj{"id": "chk_nope"}, "not_found", ""},
		{"ErrArgumentsNotObject", "get_cart", "cart_1", "invalid", "$"},
		{"ErrOutOfStock", "complete_checkout", nil, "out_of_stock", ""},
		{"ErrPaymentDeclined", "complete_checkout", nil, "payment_declined", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil { // more tables than the store holds, or a declined card
				qty, token := 1, "tok_decline"
				if tc.code == "out_of_stock" {
					qty, token = 9, "tok_success"
				}
				chk := ok(t, c, "create_checkout", obj{"checkout": obj{"line_items": []any{obj{"item": obj{"id": e.table}, "quantity": qty}}}})
				ready := readyCheckout("standard")
				ready["payment_token"] = token
				ok(t, c, "update_checkout", obj{"id": chk["id"], "checkout": ready})
				args = obj{"meta": meta("41111111-2222-4333-8444-" + tc.code[:4] + "55555555"), "id": chk["id"]}
			}
			res := callTool(t, c, tc.tool, args)
			msg := errorMessage(t, res)
			if msg["code"] != tc.code || (tc.path != "" && msg["path"] != tc.path) || msg["hint"] == "" || msg["severity"] == "" {
				t.Errorf("got %v, want code %s at %s", msg, tc.code, tc.path)
			}
			if err := errSchema.Validate(any(structured(t, res))); err != nil {
				t.Errorf("error result is not a UCP error_response: %v", err)
			}
		})
	}
	t.Run("OKUnknownUCPFieldsIgnored", func(t *testing.T) {
		doc := ok(t, c, "search_catalog", obj{"catalog": obj{"query": "scarf", "filters": obj{"brand_new_filter": true}}})
		msgs := fmt.Sprint(doc["messages"])
		if !bytes.Contains([]byte(msgs), []byte("$.catalog.filters.brand_new_filter")) || len(doc["products"].([]any)) == 0 {
			t.Errorf("unknown filter not reported or search failed: %v", doc)
		}
	})
	t.Run("ErrUnknownToolIsProtocolError", func(t *testing.T) {
		req := mcp.CallToolRequest{}
		req.Params.Name = "no_such_tool"
		if _, err := c.CallTool(context.Background(), req); err == nil {
			t.Error("an unknown tool answered without a protocol error")
		}
	})
}
