package graph_test

import (
	"testing"
)

const searchQuery = `query($q: String, $first: Int) {
  products(query: $q, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    facets { name values { value count } }
    edges { cursor node { id handle title vendor categories
      priceRange { min { amount currencyCode formatted } }
      variants { id sku title available price { amount currencyCode formatted } } } }
  }
}`

type searchResult struct {
	Products struct {
		TotalCount int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
		Edges []struct {
			Node struct {
				ID       string `json:"id"`
				Handle   string `json:"handle"`
				Title    string `json:"title"`
				Vendor   string `json:"vendor"`
				Variants []struct {
					ID    string `json:"id"`
					Price money  `json:"price"`
				} `json:"variants"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"products"`
}

type money struct {
	Amount       int64  `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
	Formatted    string `json:"formatted"`
}

const checkoutFields = `id status currencyCode totals { type amount { amount formatted } }
  lines { id quantity item { id title price { amount } } }
  messages { code path content } order { id permalinkUrl }`

type checkout struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Totals []struct {
		Type   string `json:"type"`
		Amount money  `json:"amount"`
	} `json:"totals"`
	Order *struct {
		ID string `json:"id"`
	} `json:"order"`
}

type checkoutPayload struct {
	Checkout *checkout   `json:"checkout"`
	Errors   []userError `json:"errors"`
}

// TestStorefrontFlow shops as a storefront would: search, product page,
// cart, checkout, complete (twice, with one idempotency key), order.
func TestStorefrontFlow(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		scarfID, scarf := e.createProduct(t, "Red Wool Scarf", variantSpec{"SCARF-S", 2500, 50}, variantSpec{"SCARF-L", 2900, 50})
		e.createProduct(t, "Oak Dining Table", variantSpec{"TABLE-1", 19900, 3})

		t.Run("Search", func(t *testing.T) {
			var res searchResult
			eventually(t, "scarf indexed", func() bool {
				e.do(t, "", searchQuery, map[string]any{"q": "wool scarf", "first": 5}, &res)
				return len(res.Products.Edges) > 0
			})
			n := res.Products.Edges[0].Node
			if n.ID != scarfID || n.Vendor != "Acme" || len(n.Variants) != 2 {
				t.Fatalf("first hit = %+v, want the scarf with 2 variants", n)
			}
			if p := n.Variants[0].Price; p.Amount != 2500 || p.CurrencyCode != "USD" || p.Formatted != "$25.00" {
				t.Errorf("price = %+v, want 2500 USD $25.00", p)
			}
		})

		t.Run("Product", func(t *testing.T) {
			var out struct {
				Product struct {
					ID       string                  `json:"id"`
					Options  []struct{ Name string } `json:"options"`
					Variants []struct{ ID string }   `json:"variants"`
				} `json:"product"`
			}
			e.do(t, "", `query($id: ID!) { product(id: $id) { id options { name } variants { id } } }`, map[string]any{"id": "SCARF-L"}, &out)
			if out.Product.ID != scarfID || len(out.Product.Options) != 1 || out.Product.Options[0].Name != "Size" {
				t.Fatalf("product by SKU = %+v", out.Product)
			}
			var missing struct{ Product *struct{ ID string } }
			e.do(t, "", `{ product(id: "no-such-thing") { id } }`, nil, &missing)
			if missing.Product != nil {
				t.Errorf("unknown product = %+v, want null", missing.Product)
			}
		})

		var cartID string
		t.Run("Cart", func(t *testing.T) {
			var out struct {
				CartCreate struct {
					Cart *struct {
						ID    string `json:"id"`
						Lines []struct {
							Quantity int `json:"quantity"`
							Variant  *struct {
								ID    string `json:"id"`
								Price money  `json:"price"`
							} `json:"variant"`
						} `json:"lines"`
						Totals []struct {
							Type   string `json:"type"`
							Amount money  `json:"amount"`
						} `json:"totals"`
					} `json:"cart"`
					Errors []userError `json:"errors"`
				} `json:"cartCreate"`
			}
			e.do(t, e.alice, `mutation($item: ID!) { cartCreate(input: {lines: [{itemId: $item, quantity: 2}]}) {
				cart { id lines { quantity variant { id price { amount currencyCode } } } totals { type amount { amount currencyCode } } }
				errors { field code message } } }`, map[string]any{"item": scarf[0]}, &out)
			c := out.CartCreate.Cart
			if c == nil || len(c.Lines) != 1 || c.Lines[0].Variant == nil || c.Lines[0].Variant.ID != scarf[0] {
				t.Fatalf("cartCreate = %+v", out.CartCreate)
			}
			if tot := c.Totals[len(c.Totals)-1]; tot.Amount.Amount != 5000 || tot.Amount.CurrencyCode != "USD" {
				t.Errorf("cart total = %+v, want 5000 USD", tot)
			}
			cartID = c.ID
		})

		var checkoutID string
		t.Run("Checkout", func(t *testing.T) {
			var created struct{ CheckoutCreate checkoutPayload }
			e.do(t, e.alice, `mutation($cart: ID!) { checkoutCreate(input: {cartId: $cart}) { checkout { `+checkoutFields+` } errors { field code message } } }`,
				map[string]any{"cart": cartID}, &created)
			if created.CheckoutCreate.Checkout == nil || created.CheckoutCreate.Checkout.Status != "incomplete" {
				t.Fatalf("checkoutCreate = %+v", created.CheckoutCreate)
			}
			checkoutID = created.CheckoutCreate.Checkout.ID
			var updated struct{ CheckoutUpdate checkoutPayload }
			e.do(t, e.alice, `mutation($id: ID!) { checkoutUpdate(input: {id: $id, buyer: {email: "alice@example.com", firstName: "Alice"},
				shippingAddress: {streetAddress: "1 Main St", addressLocality: "Springfield", postalCode: "12345", addressCountry: "US"},
				fulfillmentOptionId: "standard", paymentToken: "tok_success"}) { checkout { `+checkoutFields+` } errors { field code message } } }`,
				map[string]any{"id": checkoutID}, &updated)
			if c := updated.CheckoutUpdate.Checkout; c == nil || c.Status != "ready_for_complete" {
				t.Fatalf("checkoutUpdate = %+v", updated.CheckoutUpdate)
			}
		})

		var orderID string
		t.Run("Complete", func(t *testing.T) {
			complete := `mutation($id: ID!) { checkoutComplete(id: $id, idempotencyKey: "k-1") { checkout { ` + checkoutFields + ` } errors { field code message } } }`
			var first, again struct{ CheckoutComplete checkoutPayload }
			e.do(t, e.alice, complete, map[string]any{"id": checkoutID}, &first)
			c := first.CheckoutComplete.Checkout
			if c == nil || c.Status != "completed" || c.Order == nil {
				t.Fatalf("checkoutComplete = %+v", first.CheckoutComplete)
			}
			orderID = c.Order.ID
			e.do(t, e.alice, complete, map[string]any{"id": checkoutID}, &again)
			if a := again.CheckoutComplete.Checkout; a == nil || a.Order == nil || a.Order.ID != orderID {
				t.Fatalf("retried checkoutComplete = %+v, want order %s again", again.CheckoutComplete, orderID)
			}
		})

		t.Run("Order", func(t *testing.T) {
			var out struct {
				Order *struct {
					ID     string `json:"id"`
					Status string `json:"status"`
					Lines  []struct {
						Quantity struct{ Original int } `json:"quantity"`
					} `json:"lines"`
				} `json:"order"`
				MyOrders struct {
					Nodes []struct{ ID string } `json:"nodes"`
				} `json:"myOrders"`
			}
			e.do(t, e.alice, `query($id: ID!) { order(id: $id) { id status lines { quantity { original } } } myOrders(first: 10) { nodes { id } } }`,
				map[string]any{"id": orderID}, &out)
			if out.Order == nil || out.Order.Status != "confirmed" || out.Order.Lines[0].Quantity.Original != 2 {
				t.Fatalf("order = %+v", out.Order)
			}
			if len(out.MyOrders.Nodes) != 1 || out.MyOrders.Nodes[0].ID != orderID {
				t.Errorf("myOrders = %+v, want [%s]", out.MyOrders.Nodes, orderID)
			}
		})
	})
}
