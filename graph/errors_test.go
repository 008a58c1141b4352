package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// TestUserErrors: bad input comes back in the payload's errors, each on
// the GraphQL input field at fault, and nothing is written.
func TestUserErrors(t *testing.T) {
	e := newEnv(t, sqldb.SQLite, nil)
	_, scarf := e.createProduct(t, "Red Wool Scarf", variantSpec{"SCARF-1", 2500, 5})

	t.Run("CartLineQuantity", func(t *testing.T) {
		var out struct {
			CartCreate struct {
				Cart   *struct{ ID string } `json:"cart"`
				Errors []userError          `json:"errors"`
			} `json:"cartCreate"`
		}
		e.do(t, e.alice, `mutation($item: ID!) { cartCreate(input: {lines: [{itemId: $item, quantity: 0}]}) { cart { id } errors { field code message } } }`,
			map[string]any{"item": scarf[0]}, &out)
		errs := out.CartCreate.Errors
		if out.CartCreate.Cart != nil || len(errs) != 1 || errs[0].Code != "invalid" || errs[0].Field == nil || *errs[0].Field != "lines[0].quantity" {
			t.Fatalf("cartCreate with quantity 0 = %+v, want one invalid error on lines[0].quantity", out.CartCreate)
		}
	})

	t.Run("ProductFields", func(t *testing.T) {
		var out struct {
			ProductCreate struct {
				Product *struct{ ID string } `json:"product"`
				Errors  []userError          `json:"errors"`
			} `json:"productCreate"`
		}
		e.do(t, e.merchant, productCreate, map[string]any{"in": map[string]any{
			"title": "", "variants": []map[string]any{{"sku": "X-1", "price": -5}},
		}}, &out)
		fields := map[string]string{}
		for _, ue := range out.ProductCreate.Errors {
			if ue.Field != nil {
				fields[*ue.Field] = ue.Code
			}
		}
		if out.ProductCreate.Product != nil || fields["title"] != "invalid" || fields["variants[0].price"] != "invalid" {
			t.Fatalf("productCreate with no title and a negative price = %+v, want invalid on title and variants[0].price", out.ProductCreate)
		}
	})

	t.Run("NestedVariantInput", func(t *testing.T) {
		var out struct {
			VariantAdd struct {
				Errors []userError `json:"errors"`
			} `json:"variantAdd"`
		}
		e.do(t, e.merchant, `mutation($p: ID!) { variantAdd(input: {productId: $p, variant: {sku: "SCARF-2", price: -1}}) { variant { id } errors { field code message } } }`,
			map[string]any{"p": "prod_none"}, &out)
		errs := out.VariantAdd.Errors
		if len(errs) == 0 || errs[0].Field == nil || *errs[0].Field != "variant.price" {
			t.Fatalf("variantAdd with a negative price = %+v, want an error on variant.price", errs)
		}
	})

	t.Run("CheckoutEmail", func(t *testing.T) {
		var created struct{ CheckoutCreate checkoutPayload }
		e.do(t, e.alice, `mutation($item: ID!) { checkoutCreate(input: {lines: [{itemId: $item, quantity: 1}]}) { checkout { id status } errors { field code message } } }`,
			map[string]any{"item": scarf[0]}, &created)
		var out struct{ CheckoutUpdate checkoutPayload }
		e.do(t, e.alice, `mutation($id: ID!) { checkoutUpdate(input: {id: $id, buyer: {email: "not-an-email"}}) { checkout { id } errors { field code message } } }`,
			map[string]any{"id": created.CheckoutCreate.Checkout.ID}, &out)
		errs := out.CheckoutUpdate.Errors
		if len(errs) != 1 || errs[0].Field == nil || *errs[0].Field != "buyer.email" {
			t.Fatalf("checkoutUpdate with a bad email = %+v, want an error on buyer.email", out.CheckoutUpdate)
		}
	})

	t.Run("OutOfStock", func(t *testing.T) {
		var out struct {
			CartCreate struct {
				Cart *struct {
					Messages []struct{ Code string } `json:"messages"`
				} `json:"cart"`
			} `json:"cartCreate"`
		}
		e.do(t, e.alice, `mutation($item: ID!) { cartCreate(input: {lines: [{itemId: $item, quantity: 6}]}) { cart { messages { code } } errors { code } } }`,
			map[string]any{"item": scarf[0]}, &out)
		if c := out.CartCreate.Cart; c == nil || len(c.Messages) == 0 || c.Messages[0].Code != "insufficient_stock" {
			t.Fatalf("cart over stock = %+v, want an insufficient_stock message", out.CartCreate)
		}
	})

	t.Run("QueryArgument", func(t *testing.T) {
		r := e.post(t, "", `{ products(first: 500) { totalCount } }`, nil)
		if len(r.Errors) != 1 || r.Errors[0].code() != "invalid" || r.Errors[0].Extensions["field"] != "first" {
			t.Fatalf("products(first: 500) = %+v, want an invalid error on first", r.Errors)
		}
	})

	t.Run("TopLevelForUnexpected", func(t *testing.T) {
		r := e.post(t, "", `mutation { productArchive(id: "prod_x") { product { id } errors { code } } }`, nil)
		if len(r.Errors) != 1 || r.Errors[0].code() != "unauthorized" || !strings.Contains(r.Errors[0].Message, "Bearer") {
			t.Fatalf("anonymous productArchive = %+v, want a top-level unauthorized error", r.Errors)
		}
	})
}

// TestLimits: depth, cost and input list limits reject a request before
// anything runs, naming the limit.
func TestLimits(t *testing.T) {
	e := newEnv(t, sqldb.SQLite, nil)
	t.Run("Depth", func(t *testing.T) {
		q := "{ products { edges { node { variants { price { amount } } } } } }"
		r := e.post(t, "", q, nil) // depth 6: fine
		if len(r.Errors) > 0 {
			t.Fatalf("depth 6: %+v", r.Errors)
		}
		deep := "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }"
		r = e.post(t, "", deep, nil)
		if len(r.Errors) != 1 || r.Errors[0].code() != "DEPTH_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "depth limit of 12") {
			t.Fatalf("depth 13 = %+v, want DEPTH_LIMIT_EXCEEDED naming the limit", r.Errors)
		}
	})
	t.Run("Complexity", func(t *testing.T) {
		q := `{ products(first: 100) { edges { node { id title description variants { id title sku available availability
			price { amount currencyCode formatted } listPrice { amount currencyCode formatted } selectedOptions { name label } } } } } }`
		r := e.post(t, "", q, nil)
		if len(r.Errors) != 1 || r.Errors[0].code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "limit of 5000") {
			t.Fatalf("costly query = %+v, want COMPLEXITY_LIMIT_EXCEEDED naming the limit", r.Errors)
		}
		q = strings.Replace(q, "first: 100", "first: 20", 1)
		if r := e.post(t, "", q, nil); len(r.Errors) > 0 {
			t.Fatalf("the same for 20 products: %+v", r.Errors)
		}
	})
	t.Run("InputList", func(t *testing.T) {
		ids := make([]string, 101)
		for i := range ids {
			ids[i] = fmt.Sprintf("SKU-%d", i)
		}
		r := e.post(t, "", `query($ids: [ID!]!) { variants(ids: $ids) { id } }`, map[string]any{"ids": ids})
		if len(r.Errors) != 1 || r.Errors[0].code() != "INPUT_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "limit of 100") {
			t.Fatalf("101 ids = %+v, want INPUT_LIMIT_EXCEEDED naming the limit", r.Errors)
		}
		literal := `{ variants(ids: ["` + strings.Join(ids, `","`) + `"]) { id } }`
		if r := e.post(t, "", literal, nil); len(r.Errors) != 1 || r.Errors[0].code() != "INPUT_LIMIT_EXCEEDED" {
			t.Fatalf("101 literal ids = %+v, want INPUT_LIMIT_EXCEEDED", r.Errors)
		}
	})
}

// TestOwnership: a shopper reaches only their own carts, checkouts and
// orders; roles are checked by the operations, as on every edge.
func TestOwnership(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, scarf := e.createProduct(t, "Red Wool Scarf", variantSpec{"SCARF-1", 2500, 5})
		var cart struct {
			CartCreate struct{ Cart struct{ ID string } } `json:"cartCreate"`
		}
		e.do(t, e.alice, `mutation($item: ID!) { cartCreate(input: {lines: [{itemId: $item, quantity: 1}]}) { cart { id } } }`,
			map[string]any{"item": scarf[0]}, &cart)
		var co struct{ CheckoutCreate checkoutPayload }
		e.do(t, e.alice, `mutation($item: ID!) { checkoutCreate(input: {lines: [{itemId: $item, quantity: 1}]}) { checkout { id } errors { code } } }`,
			map[string]any{"item": scarf[0]}, &co)

		t.Run("OtherShopperSeesNothing", func(t *testing.T) {
			r := e.post(t, e.bob, `query($c: ID!, $k: ID!) { cart(id: $c) { id } checkout(id: $k) { id } }`,
				map[string]any{"c": cart.CartCreate.Cart.ID, "k": co.CheckoutCreate.Checkout.ID})
			if string(r.Data) != `{"cart":null,"checkout":null}` {
				t.Fatalf("bob reading alice's cart and checkout = %s %+v, want nulls", r.Data, r.Errors)
			}
			var own struct{ Cart *struct{ ID string } }
			e.do(t, e.alice, `query($c: ID!) { cart(id: $c) { id } }`, map[string]any{"c": cart.CartCreate.Cart.ID}, &own)
			if own.Cart == nil {
				t.Fatal("alice cannot read her own cart")
			}
		})
		t.Run("OtherShopperCannotChange", func(t *testing.T) {
			var out struct {
				CartLineAdd struct {
					Cart   *struct{ ID string } `json:"cart"`
					Errors []userError          `json:"errors"`
				} `json:"cartLineAdd"`
			}
			r := e.post(t, e.bob, `mutation($c: ID!, $i: ID!) { cartLineAdd(cartId: $c, itemId: $i, quantity: 1) { cart { id } errors { code } } }`,
				map[string]any{"c": cart.CartCreate.Cart.ID, "i": scarf[0]})
			if len(r.Errors) == 0 {
				if err := json.Unmarshal(r.Data, &out); err != nil {
					t.Fatal(err)
				}
			}
			if out.CartLineAdd.Cart != nil || (len(r.Errors) == 0 && len(out.CartLineAdd.Errors) == 0) {
				t.Fatalf("bob adding to alice's cart = %s %+v, want an error", r.Data, r.Errors)
			}
		})
		t.Run("Roles", func(t *testing.T) {
			r := e.post(t, "", `{ myOrders { nodes { id } } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].code() != "unauthorized" {
				t.Errorf("anonymous myOrders = %+v, want unauthorized", r.Errors)
			}
			// Anonymous callers may read the catalog only.
			r = e.post(t, "", `mutation($item: ID!) { cartCreate(input: {lines: [{itemId: $item, quantity: 1}]}) { cart { id } errors { code } } }`,
				map[string]any{"item": scarf[0]})
			if len(r.Errors) != 1 || r.Errors[0].code() != "unauthorized" {
				t.Errorf("anonymous cartCreate = %s %+v, want unauthorized", r.Data, r.Errors)
			}
			r = e.post(t, "", `query($c: ID!) { cart(id: $c) { id } }`, map[string]any{"c": cart.CartCreate.Cart.ID})
			if len(r.Errors) != 1 || r.Errors[0].code() != "unauthorized" {
				t.Errorf("anonymous cart = %s %+v, want unauthorized", r.Data, r.Errors)
			}
			r = e.post(t, "", `query($v: [ID!]!) { variants(ids: $v) { id } }`, map[string]any{"v": scarf})
			if len(r.Errors) != 0 || !strings.Contains(string(r.Data), scarf[0]) {
				t.Errorf("anonymous variants = %s %+v, want the scarf", r.Data, r.Errors)
			}
			r = e.post(t, e.alice, `{ orders { nodes { id } } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].code() != "forbidden" {
				t.Errorf("shopper orders = %+v, want forbidden", r.Errors)
			}
			r = e.post(t, e.alice, `mutation { stockSet(input: {sku: "SCARF-1", onHand: 0}) { errors { code } } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].code() != "forbidden" {
				t.Errorf("shopper stockSet = %+v, want forbidden", r.Errors)
			}
		})
	})
}
