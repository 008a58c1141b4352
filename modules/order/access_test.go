package order_test

import (
	"context"
	"testing"

	"github.com/hyperrr/hyperrr/internal/ucptest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/order"
)

// TestOwnership runs every operation on a shopper's checkout and order as
// another shopper (not_found), anonymously (unauthorized: buying needs a
// shopper key), and as a merchant (reads allowed, buyer-only changes
// refused).
func TestOwnership(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
		open := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
		done, err := e.complete(e.shopperA, c.ID, "own")
		if err != nil {
			t.Fatal(err)
		}
		oid := done.Order.ID
		ops := map[string]func(ctx context.Context) error{
			"get_checkout": func(ctx context.Context) error {
				_, err := call[order.CheckoutIDInput, order.UCPCheckout](ctx, e, "get_checkout", order.CheckoutIDInput{ID: open.ID})
				return err
			},
			"update_checkout": func(ctx context.Context) error {
				_, err := call[order.UpdateCheckoutInput, order.UCPCheckout](ctx, e, "update_checkout", order.UpdateCheckoutInput{ID: open.ID, PaymentToken: order.TokenDecline})
				return err
			},
			"complete_checkout": func(ctx context.Context) error { _, err := e.complete(ctx, open.ID, "thief"); return err },
			"cancel_checkout": func(ctx context.Context) error {
				_, err := call[order.CancelCheckoutInput, order.UCPCheckout](ctx, e, "cancel_checkout", order.CancelCheckoutInput{ID: open.ID, IdempotencyKey: "x"})
				return err
			},
			"get_order": func(ctx context.Context) error {
				_, err := call[order.OrderIDInput, order.UCPOrder](ctx, e, "get_order", order.OrderIDInput{ID: oid})
				return err
			},
			"cancel_order": func(ctx context.Context) error {
				_, err := call[order.OrderIDInput, order.UCPOrder](ctx, e, "cancel_order", order.OrderIDInput{ID: oid})
				return err
			},
		}
		reads := map[string]bool{"get_checkout": true, "get_order": true}
		for name, op := range ops {
			t.Run("ErrOtherShopper/"+name, func(t *testing.T) { wantErr(t, op(e.shopperB), mdk.CodeNotFound, "id") })
			t.Run("ErrAnonymous/"+name, func(t *testing.T) { wantErr(t, op(e.anon), mdk.CodeUnauthorized, "") })
			if reads[name] {
				t.Run("OKMerchant/"+name, func(t *testing.T) {
					if err := op(e.merchant); err != nil {
						t.Fatal(err)
					}
				})
			}
		}
		t.Run("ErrMerchantCannotBuy", func(t *testing.T) {
			wantErr(t, ops["update_checkout"](e.merchant), mdk.CodeForbidden, "")
			wantErr(t, ops["complete_checkout"](e.merchant), mdk.CodeForbidden, "")
			before := e.count(t, `SELECT COUNT(*) FROM "order".checkouts`)
			_, err := call[order.CreateCheckoutInput, order.UCPCheckout](e.merchant, e, "create_checkout", order.CreateCheckoutInput{LineItems: []order.LineItemInput{line(e.scarf, 1)}})
			wantErr(t, err, mdk.CodeForbidden, "")
			if n := e.count(t, `SELECT COUNT(*) FROM "order".checkouts`); n != before {
				t.Fatalf("a refused create_checkout stored a checkout: %d, want %d", n, before)
			}
		})
		t.Run("ErrAnonymousCannotStart", func(t *testing.T) {
			_, err := call[order.CreateCheckoutInput, order.UCPCheckout](e.anon, e, "create_checkout", order.CreateCheckoutInput{LineItems: []order.LineItemInput{line(e.scarf, 1)}})
			wantErr(t, err, mdk.CodeUnauthorized, "")
		})
		t.Run("ErrShopperMerchantOps", func(t *testing.T) {
			_, err := call[order.OrderFilter, order.OrderList](e.shopperA, e, "list_orders", order.OrderFilter{})
			wantErr(t, err, mdk.CodeForbidden, "")
			_, err = call[order.FulfillInput, order.UCPOrder](e.shopperA, e, "fulfill_order", order.FulfillInput{ID: oid, TrackingNumber: "x"})
			wantErr(t, err, mdk.CodeForbidden, "")
			_, err = call[order.RefundInput, order.UCPOrder](e.shopperA, e, "refund_order", order.RefundInput{ID: oid})
			wantErr(t, err, mdk.CodeForbidden, "")
		})
		t.Run("OKListsAreScoped", func(t *testing.T) {
			if l := must[order.OrderList](t, e.shopperB, e, "list_my_orders", order.MyOrdersInput{}); len(l.Orders) != 0 {
				t.Fatalf("shopper B sees %d orders", len(l.Orders))
			}
			if l := must[order.OrderList](t, e.merchant, e, "list_orders", order.OrderFilter{Status: order.OrderConfirmed}); len(l.Orders) != 1 {
				t.Fatalf("merchant sees %d confirmed orders", len(l.Orders))
			}
		})
		t.Run("OKOwnerStillHasIt", func(t *testing.T) {
			got := must[order.UCPCheckout](t, e.shopperA, e, "get_checkout", order.CheckoutIDInput{ID: open.ID})
			if got.Status != order.CheckoutReady {
				t.Fatalf("the failed attempts changed the checkout: %s", got.Status)
			}
		})
	})
}

// TestBadInput checks that bad input is refused with the field path and
// writes nothing.
func TestBadInput(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		c := must[order.UCPCheckout](t, e.shopperA, e, "create_checkout", order.CreateCheckoutInput{LineItems: []order.LineItemInput{line(e.scarf, 1)}})
		before := e.count(t, `SELECT COUNT(*) FROM "order".checkouts`)
		cases := []struct {
			name, op, field string
			in              any
		}{
			{"NegativeQuantity", "create_checkout", "line_items[0].quantity", order.CreateCheckoutInput{LineItems: []order.LineItemInput{line(e.scarf, -1)}}},
			{"UnknownVariant", "create_checkout", "line_items[1].item.id", order.CreateCheckoutInput{LineItems: []order.LineItemInput{line(e.scarf, 1), line("var_nope", 1)}}},
			{"NoLines", "create_checkout", "cart_id", order.CreateCheckoutInput{}},
			{"MalformedAddress", "update_checkout", "shipping_address.address_country", order.UpdateCheckoutInput{ID: c.ID, ShippingAddress: &order.Address{StreetAddress: "1 Main", Locality: "SF", PostalCode: "1", Country: "usa"}}},
			{"MissingStreet", "update_checkout", "shipping_address.street_address", order.UpdateCheckoutInput{ID: c.ID, ShippingAddress: &order.Address{Locality: "SF", PostalCode: "1", Country: "US"}}},
			{"BadEmail", "update_checkout", "buyer.email", order.UpdateCheckoutInput{ID: c.ID, Buyer: &order.Buyer{Email: "nope"}}},
			{"UnknownShipping", "update_checkout", "fulfillment_option_id", order.UpdateCheckoutInput{ID: c.ID, FulfillmentOptionID: "teleport"}},
			{"NoKey", "complete_checkout", "idempotency_key", order.CompleteCheckoutInput{ID: c.ID}},
			{"Incomplete", "complete_checkout", "buyer.email", order.CompleteCheckoutInput{ID: c.ID, IdempotencyKey: "k"}},
			{"CancelNoKey", "cancel_checkout", "idempotency_key", order.CancelCheckoutInput{ID: c.ID}},
			{"RefundNegative", "refund_order", "lines[0].quantity", order.RefundInput{ID: "ord_x", Lines: []order.RefundLine{{LineID: "li_x", Quantity: -2}}}},
		}
		for _, tc := range cases {
			t.Run("Err"+tc.name, func(t *testing.T) {
				ctx := e.shopperA
				if tc.op == "refund_order" {
					ctx = e.merchant
				}
				_, err := e.g.Ops().CallJSON(ctx, tc.op, mustJSON(t, tc.in))
				wantErr(t, err, mdk.CodeInvalid, tc.field)
			})
		}
		t.Run("ErrUnknownCart", func(t *testing.T) {
			_, err := call[order.CreateCheckoutInput, order.UCPCheckout](e.shopperA, e, "create_checkout", order.CreateCheckoutInput{CartID: "cart_nope"})
			wantErr(t, err, mdk.CodeNotFound, "cart_id")
		})
		t.Run("OKNothingWritten", func(t *testing.T) {
			if n := e.count(t, `SELECT COUNT(*) FROM "order".checkouts`); n != before {
				t.Fatalf("%d checkouts, want %d", n, before)
			}
			got := must[order.UCPCheckout](t, e.shopperA, e, "get_checkout", order.CheckoutIDInput{ID: c.ID})
			if got.ShippingAddress != nil || got.Buyer != nil || got.FulfillmentOptionID != "" || got.Status != order.CheckoutIncomplete {
				t.Fatalf("checkout changed: %+v", got)
			}
		})
	})
}

// TestUCPSchemas validates real checkout and order outputs against the
// official schemas.
func TestUCPSchemas(t *testing.T) {
	schemas := ucptest.Compile(t, "https://ucp.dev/schemas/shopping/checkout.json", "https://ucp.dev/schemas/shopping/order.json")
	each(t, func(t *testing.T, e *env) {
		incomplete := must[order.UCPCheckout](t, e.shopperA, e, "create_checkout", order.CreateCheckoutInput{LineItems: []order.LineItemInput{line(e.scarf, 1)}})
		esc, err := e.complete(e.shopperA, e.ready(t, e.shopperA, order.TokenEscalate, line(e.scarf, 1)).ID, "esc")
		if err != nil {
			t.Fatal(err)
		}
		done, err := e.complete(e.shopperA, e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1), line(e.table, 1)).ID, "ok")
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]order.UCPCheckout{"OKIncomplete": incomplete, "OKEscalation": esc, "OKCompleted": done} {
			t.Run(name, func(t *testing.T) {
				if err := schemas[0].Validate(checkoutEnvelope(t, c)); err != nil {
					t.Errorf("checkout does not validate: %v", err)
				}
			})
		}
		o := must[order.UCPOrder](t, e.merchant, e, "fulfill_order", order.FulfillInput{ID: done.Order.ID, TrackingNumber: "1Z"})
		t.Run("OKOrder", func(t *testing.T) {
			if err := schemas[1].Validate(ucptest.Enveloped(t, o)); err != nil {
				t.Errorf("order does not validate: %v", err)
			}
		})
		t.Run("ErrBrokenOrderFails", func(t *testing.T) {
			broken := o
			broken.PermalinkURL = ""
			broken.Totals = broken.Totals[1:]
			if err := schemas[1].Validate(ucptest.Enveloped(t, broken)); err == nil {
				t.Error("an order without a subtotal validated")
			}
		})
	})
}

// checkoutEnvelope wraps c as a checkout response: the envelope the MCP
// edge adds, with the payment handler registry checkout responses carry.
func checkoutEnvelope(t *testing.T, c order.UCPCheckout) any {
	t.Helper()
	doc, ok := ucptest.Enveloped(t, c).(map[string]any)
	if !ok {
		t.Fatal("enveloped checkout is not an object")
	}
	doc["ucp"].(map[string]any)["payment_handlers"] = map[string]any{}
	return doc
}
