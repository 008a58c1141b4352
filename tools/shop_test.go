package tools_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hyperrr/hyperrr/internal/ucptest"
)

// counter counts the tool calls a scripted agent makes.
type counter struct {
	c *client.Client
	n int
}

func (a *counter) ok(t *testing.T, name string, args any) map[string]any {
	t.Helper()
	a.n++
	return ok(t, a.c, name, args)
}

// shopperAddress is what update_checkout needs to make a checkout ready.
func readyCheckout(fulfillment string) obj {
	return obj{
		"buyer": obj{"email": "ann@example.com", "first_name": "Ann"},
		"shipping_address": obj{"street_address": "1 Main St", "address_locality": "Springfield", "address_region": "IL",
			"postal_code": "62701", "address_country": "US"},
		"fulfillment_option_id": fulfillment,
		"payment_token":         "tok_success",
	}
}

// TestScriptedAgent shops as an agent would, over real HTTP with mcp-go's
// client: search → create cart → update cart → create checkout → update
// checkout → complete checkout → get order, in at most 8 calls, and every
// shopper result validates against the UCP schema of its method. Without a
// key an agent sees only the three catalog tools and can't start a cart.
func TestScriptedAgent(t *testing.T) {
	s := ucptest.Compile(t,
		"https://ucp.dev/schemas/shopping/catalog_search.json#/$defs/search_response",
		"openrpc:#/components/schemas/cart_result",
		"openrpc:#/components/schemas/checkout_result",
		"openrpc:#/components/schemas/order_result",
	)
	searchSchema, cartSchema, checkoutSchema, orderSchema := s[0], s[1], s[2], s[3]
	valid := func(t *testing.T, schema *jsonschema.Schema, name string, doc map[string]any) {
		t.Helper()
		if err := schema.Validate(any(doc)); err != nil {
			t.Errorf("%s result is not UCP: %v\n%v", name, err, doc)
		}
	}
	each(t, func(t *testing.T, e *env) {
		t.Run("OKAnonymousCatalogOnly", func(t *testing.T) {
			c := connect(t, e.url, "")
			list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tool := range list.Tools {
				got = append(got, tool.Name)
			}
			slices.Sort(got)
			if want := []string{"get_product", "lookup_catalog", "search_catalog"}; !slices.Equal(got, want) {
				t.Fatalf("anonymous tools %v, want %v", got, want)
			}
			if found := ok(t, c, "search_catalog", obj{"catalog": obj{"query": "wool scarf"}}); len(found["products"].([]any)) == 0 {
				t.Fatalf("anonymous search found nothing: %v", found)
			}
			msg := errorMessage(t, callTool(t, c, "create_cart", obj{"cart": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}}))
			if msg["code"] != "unauthorized" || msg["hint"] == "" {
				t.Fatalf("anonymous create_cart: %v", msg)
			}
		})
		for _, key := range []struct{ name, key string }{{"Shopper", e.shopperKey}} {
			t.Run("OK"+key.name, func(t *testing.T) {
				a := &counter{c: connect(t, e.url, key.key)}
				found := a.ok(t, "search_catalog", obj{"meta": obj{"ucp-agent": obj{"profile": "https://agent.example.com/.well-known/ucp"}}, "catalog": obj{"query": "wool scarf"}})
				valid(t, searchSchema, "search_catalog", found)
				products, _ := found["products"].([]any)
				if len(products) == 0 {
					t.Fatalf("search found nothing: %v", found)
				}
				variant := products[0].(map[string]any)["variants"].([]any)[0].(map[string]any)["id"]
				if variant != e.scarf {
					t.Fatalf("first hit's variant is %v, want the scarf %s", variant, e.scarf)
				}
				cart := a.ok(t, "create_cart", obj{"cart": obj{"line_items": []any{obj{"item": obj{"id": variant}, "quantity": 1}}}})
				valid(t, cartSchema, "create_cart", cart)
				line := cart["line_items"].([]any)[0].(map[string]any)["id"]
				cart = a.ok(t, "update_cart", obj{"id": cart["id"], "cart": obj{"line_items": []any{
					obj{"id": line, "item": obj{"id": variant}, "quantity": 2},
					obj{"item": obj{"id": e.table}, "quantity": 1},
				}}})
				valid(t, cartSchema, "update_cart", cart)
				if n := len(cart["line_items"].([]any)); n != 2 {
					t.Fatalf("cart has %d lines, want 2", n)
				}
				chk := a.ok(t, "create_checkout", obj{"checkout": obj{"cart_id": cart["id"]}})
				valid(t, checkoutSchema, "create_checkout", chk)
				option := chk["fulfillment_options"].([]any)[0].(map[string]any)["id"]
				chk = a.ok(t, "update_checkout", obj{"id": chk["id"], "checkout": readyCheckout(str(option))})
				valid(t, checkoutSchema, "update_checkout", chk)
				if chk["status"] != "ready_for_complete" {
					t.Fatalf("checkout is %v after update, want ready_for_complete: %v", chk["status"], chk["messages"])
				}
				complete := obj{"meta": meta("0b7f0d8e-5b8f-4a5e-9c1e-" + key.name[:4] + "00000000"), "id": chk["id"]}
				done := a.ok(t, "complete_checkout", complete)
				valid(t, checkoutSchema, "complete_checkout", done)
				ref, _ := done["order"].(map[string]any)
				if done["status"] != "completed" || ref == nil {
					t.Fatalf("complete_checkout: %v", done)
				}
				order := a.ok(t, "get_order", obj{"id": ref["id"]})
				valid(t, orderSchema, "get_order", order)
				if order["status"] != "confirmed" {
					t.Fatalf("order is %v, want confirmed", order["status"])
				}
				if a.n > 8 {
					t.Errorf("the agent needed %d calls, want at most 8", a.n)
				}
				t.Run("OKReplaySameOrder", func(t *testing.T) {
					again := ok(t, a.c, "complete_checkout", complete)
					if again["order"].(map[string]any)["id"] != ref["id"] {
						t.Fatalf("replay placed order %v, first was %v", again["order"], ref["id"])
					}
				})
			})
		}
	})
}

// TestUCPShopperSchemas calls every shopper tool of the UCP binding for
// real and validates its structured content against the result schema of
// its method in the UCP MCP binding (draft 2020-12).
func TestUCPShopperSchemas(t *testing.T) {
	results := map[string]string{
		"search_catalog":    "https://ucp.dev/schemas/shopping/catalog_search.json#/$defs/search_response",
		"lookup_catalog":    "https://ucp.dev/schemas/shopping/catalog_lookup.json#/$defs/lookup_response",
		"get_product":       "openrpc:#/components/schemas/catalog_get_product_result",
		"create_cart":       "openrpc:#/components/schemas/cart_result",
		"get_cart":          "openrpc:#/components/schemas/cart_result",
		"update_cart":       "openrpc:#/components/schemas/cart_result",
		"cancel_cart":       "openrpc:#/components/schemas/cart_result",
		"create_checkout":   "openrpc:#/components/schemas/checkout_result",
		"get_checkout":      "openrpc:#/components/schemas/checkout_result",
		"update_checkout":   "openrpc:#/components/schemas/checkout_result",
		"complete_checkout": "openrpc:#/components/schemas/checkout_result",
		"cancel_checkout":   "openrpc:#/components/schemas/checkout_result",
		"get_order":         "openrpc:#/components/schemas/order_result",
	}
	schemas := map[string]*jsonschema.Schema{}
	for name, url := range results {
		schemas[name] = ucptest.Compile(t, url)[0]
	}
	each(t, func(t *testing.T, e *env) {
		c := connect(t, e.url, e.shopperKey)
		seen := map[string]bool{}
		call := func(name string, args any) map[string]any {
			t.Helper()
			doc := ok(t, c, name, args)
			seen[name] = true
			if err := schemas[name].Validate(any(doc)); err != nil {
				t.Errorf("%s result is not UCP: %v", name, err)
			}
			return doc
		}
		call("search_catalog", obj{"catalog": obj{"query": "table", "filters": obj{"price": obj{"max": 50000}}, "pagination": obj{"limit": 5}}})
		call("lookup_catalog", obj{"catalog": obj{"ids": []any{e.scarfProduct, "TABLE-1", "nope"}}})
		call("get_product", obj{"meta": obj{"ucp-agent": obj{"profile": "https://agent.example.com/profile"}}, "catalog": obj{"id": e.scarfProduct}})
		cart := call("create_cart", obj{"cart": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}})
		call("get_cart", obj{"id": cart["id"]})
		call("update_cart", obj{"id": cart["id"], "cart": obj{"line_items": []any{obj{"item": obj{"id": e.table}, "quantity": 1}}}})
		chk := call("create_checkout", obj{"checkout": obj{"cart_id": cart["id"]}})
		call("get_checkout", obj{"id": chk["id"]})
		call("update_checkout", obj{"id": chk["id"], "checkout": readyCheckout("standard")})
		done := call("complete_checkout", obj{"meta": meta("51111111-2222-4333-8444-555555555555"), "id": chk["id"]})
		call("get_order", obj{"id": done["order"].(map[string]any)["id"]})
		call("cancel_cart", obj{"id": call("create_cart", obj{})["id"]})
		other := call("create_checkout", obj{"checkout": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}})
		call("cancel_checkout", obj{"meta": meta("61111111-2222-4333-8444-555555555555"), "id": other["id"]})
		for name := range results {
			if !seen[name] {
				t.Errorf("%s was not called", name)
			}
		}
		t.Run("ErrSchemaNotVacuous", func(t *testing.T) {
			broken := ok(t, c, "get_cart", obj{"id": cart["id"]})
			delete(broken, "ucp")
			if err := schemas["get_cart"].Validate(any(broken)); err == nil {
				t.Error("a cart without the ucp envelope validated")
			}
		})
	})
}

// TestInstancesShareNothing sends each call of one shopping session to the
// other of two server instances on the same database, as a load balancer
// may: stateless MCP needs no session affinity.
func TestInstancesShareNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		second := e.sibling(t)
		a, b := connect(t, e.url, e.shopperKey), connect(t, second, e.shopperKey)
		cart := ok(t, a, "create_cart", obj{"cart": obj{"line_items": []any{obj{"item": obj{"id": e.scarf}, "quantity": 1}}}})
		chk := ok(t, b, "create_checkout", obj{"checkout": obj{"cart_id": cart["id"]}})
		ok(t, a, "update_checkout", obj{"id": chk["id"], "checkout": readyCheckout("standard")})
		key := meta("71111111-2222-4333-8444-555555555555")
		done := ok(t, b, "complete_checkout", obj{"meta": key, "id": chk["id"]})
		again := ok(t, a, "complete_checkout", obj{"meta": key, "id": chk["id"]})
		first, replay := done["order"].(map[string]any)["id"], again["order"].(map[string]any)["id"]
		if first == nil || first != replay {
			t.Fatalf("order %v on one instance, %v replayed on the other", first, replay)
		}
		if o := ok(t, a, "get_order", obj{"id": first}); o["status"] != "confirmed" {
			t.Fatalf("order %v", o["status"])
		}
	})
}
