package order_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/order"
)

func TestCheckoutFlow(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		t.Run("OK", func(t *testing.T) {
			ct, err := mdk.Call[cart.CreateCartInput, cart.UCPCart](e.shopperA, e.g.Ops(), "create_cart", cart.CreateCartInput{
				LineItems: []cart.LineItemInput{{Item: cart.ItemRef{ID: e.scarf}, Quantity: 2}, {Item: cart.ItemRef{ID: e.table}, Quantity: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			c := must[order.UCPCheckout](t, e.shopperA, e, "create_checkout", order.CreateCheckoutInput{CartID: ct.ID})
			if c.Status != order.CheckoutIncomplete || len(c.Messages) != 4 || c.Messages[0].Path != "$.buyer.email" || c.Messages[0].Code != "missing" {
				t.Fatalf("new checkout: %+v", c)
			}
			if total(t, c.Totals, "subtotal") != 2*2500+19900 {
				t.Fatalf("totals %+v", c.Totals)
			}
			c = must[order.UCPCheckout](t, e.shopperA, e, "update_checkout", order.UpdateCheckoutInput{
				ID: c.ID, Buyer: &order.Buyer{Email: "ada@example.com"}, ShippingAddress: address,
				FulfillmentOptionID: "express", PaymentToken: order.TokenSuccess})
			if c.Status != order.CheckoutReady || len(c.Messages) != 0 {
				t.Fatalf("filled checkout: %+v", c)
			}
			// tax_rates US-CA:1000 → 10% of items + shipping.
			if want := int64(24900 + 1500 + 2640); total(t, c.Totals, "total") != want || total(t, c.Totals, "tax") != 2640 {
				t.Fatalf("totals %+v, want total %d", c.Totals, want)
			}
			done, err := e.complete(e.shopperA, c.ID, "k1")
			if err != nil || done.Status != order.CheckoutCompleted || done.Order == nil {
				t.Fatalf("complete: %+v %v", done, err)
			}
			if onHand, res := e.stock(t, e.scarf); onHand != 3 || res != 0 {
				t.Fatalf("scarf stock %d/%d, want 3 on hand, 0 reserved", onHand, res)
			}
			o := must[order.UCPOrder](t, e.shopperA, e, "get_order", order.OrderIDInput{ID: done.Order.ID})
			if o.Status != order.OrderConfirmed || o.PaymentStatus != "authorized" || total(t, o.Totals, "total") != 29040 {
				t.Fatalf("order %+v", o)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".outbox WHERE type = 'order.placed'`); n != 1 {
				t.Fatalf("%d order.placed events", n)
			}
			mine := must[order.OrderList](t, e.shopperA, e, "list_my_orders", order.MyOrdersInput{})
			if len(mine.Orders) != 1 || mine.Orders[0].ID == "" {
				t.Fatalf("my orders %+v", mine)
			}
			f := must[order.UCPOrder](t, e.merchant, e, "fulfill_order", order.FulfillInput{ID: o.ID, TrackingNumber: "1Z999"})
			if f.Status != order.OrderFulfilled || f.PaymentStatus != "captured" || len(f.Fulfillment.Events) != 1 || f.LineItems[0].Quantity.Fulfilled != 2 {
				t.Fatalf("fulfilled %+v", f)
			}
			r := must[order.UCPOrder](t, e.merchant, e, "refund_order", order.RefundInput{ID: o.ID, Lines: []order.RefundLine{{LineID: f.LineItems[0].ID, Quantity: 1}}})
			if r.Status != order.OrderPartiallyRefunded || r.Refunded != 2500 {
				t.Fatalf("partial refund %+v", r)
			}
			r = must[order.UCPOrder](t, e.merchant, e, "refund_order", order.RefundInput{ID: o.ID})
			if r.Status != order.OrderRefunded || r.Refunded != 29040 {
				t.Fatalf("full refund %+v", r)
			}
			_, err = call[order.OrderIDInput, order.UCPOrder](e.shopperA, e, "cancel_order", order.OrderIDInput{ID: o.ID})
			wantErr(t, err, mdk.CodeConflict, "")
		})
		t.Run("OKCancelOrderVoidsPaymentAndRestocks", func(t *testing.T) {
			scarfBefore, _ := e.stock(t, e.scarf)
			tableBefore, _ := e.stock(t, e.table)
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 2), line(e.table, 1))
			done, err := e.complete(e.shopperA, c.ID, "k-cancel")
			if err != nil {
				t.Fatal(err)
			}
			if onHand, _ := e.stock(t, e.scarf); onHand != scarfBefore-2 {
				t.Fatalf("scarf on hand %d after the order, want %d", onHand, scarfBefore-2)
			}
			restocks := `SELECT COUNT(*) FROM product.reservations WHERE status = 'returned'`
			returned := e.count(t, restocks)
			for range 2 { // canceling twice is harmless: nothing comes back twice
				o := must[order.UCPOrder](t, e.shopperA, e, "cancel_order", order.OrderIDInput{ID: done.Order.ID})
				if o.Status != order.OrderCanceled || o.PaymentStatus != "voided" {
					t.Fatalf("canceled %+v", o)
				}
				if onHand, res := e.stock(t, e.scarf); onHand != scarfBefore || res != 0 {
					t.Fatalf("scarf stock %d/%d after cancel, want %d/0", onHand, res, scarfBefore)
				}
				if onHand, res := e.stock(t, e.table); onHand != tableBefore || res != 0 {
					t.Fatalf("table stock %d/%d after cancel, want %d/0", onHand, res, tableBefore)
				}
				if n := e.count(t, restocks); n != returned+2 {
					t.Fatalf("%d reservations returned, want %d", n, returned+2)
				}
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".outbox WHERE type = 'order.canceled' AND subject = $1`, done.Order.ID); n != 1 {
				t.Fatalf("%d order.canceled events", n)
			}
			_, err = call[order.FulfillInput, order.UCPOrder](e.merchant, e, "fulfill_order", order.FulfillInput{ID: done.Order.ID, TrackingNumber: "x"})
			wantErr(t, err, mdk.CodeConflict, "")
		})
		t.Run("OKMarkDelivered", func(t *testing.T) {
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
			done, err := e.complete(e.shopperA, c.ID, "k-deliver")
			if err != nil {
				t.Fatal(err)
			}
			id := order.OrderIDInput{ID: done.Order.ID}
			_, err = call[order.OrderIDInput, order.UCPOrder](e.merchant, e, "mark_delivered", id)
			wantErr(t, err, mdk.CodeConflict, "")
			must[order.UCPOrder](t, e.merchant, e, "fulfill_order", order.FulfillInput{ID: id.ID, TrackingNumber: "1Z1"})
			_, err = call[order.OrderIDInput, order.UCPOrder](e.shopperA, e, "mark_delivered", id)
			wantErr(t, err, mdk.CodeForbidden, "")
			for range 2 {
				o := must[order.UCPOrder](t, e.merchant, e, "mark_delivered", id)
				if o.Status != order.OrderDelivered || o.PaymentStatus != "captured" {
					t.Fatalf("delivered %+v", o)
				}
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".outbox WHERE type = $1 AND subject = $2`, order.EventOrderDelivered, id.ID); n != 1 {
				t.Fatalf("%d order.delivered events, want 1", n)
			}
			_, err = call[order.OrderIDInput, order.UCPOrder](e.shopperA, e, "cancel_order", id)
			wantErr(t, err, mdk.CodeConflict, "")
			r := must[order.UCPOrder](t, e.merchant, e, "refund_order", order.RefundInput{ID: id.ID})
			if r.Status != order.OrderRefunded {
				t.Fatalf("refund of delivered %+v", r)
			}
		})
		t.Run("ErrDeclineReleasesStock", func(t *testing.T) {
			before, _ := e.stock(t, e.table)
			c := e.ready(t, e.shopperB, order.TokenDecline, line(e.table, 2))
			_, err := e.complete(e.shopperB, c.ID, "k-decline")
			wantErr(t, err, order.CodePaymentDeclined, "payment_token")
			if onHand, res := e.stock(t, e.table); onHand != before || res != 0 {
				t.Fatalf("table stock %d/%d after decline, want %d/0", onHand, res, before)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".orders WHERE checkout_id = $1 AND status <> 'canceled'`, c.ID); n != 0 {
				t.Fatalf("%d live orders after decline", n)
			}
			// The same key replays the stored decline without a new attempt.
			_, err = e.complete(e.shopperB, c.ID, "k-decline")
			wantErr(t, err, order.CodePaymentDeclined, "payment_token")
			got := must[order.UCPCheckout](t, e.shopperB, e, "get_checkout", order.CheckoutIDInput{ID: c.ID})
			if got.Status != order.CheckoutReady {
				t.Fatalf("checkout after decline: %s", got.Status)
			}
			// A new token and key succeed, reusing the canceled order.
			must[order.UCPCheckout](t, e.shopperB, e, "update_checkout", order.UpdateCheckoutInput{ID: c.ID, PaymentToken: order.TokenSuccess})
			done, err := e.complete(e.shopperB, c.ID, "k-retry")
			if err != nil || done.Status != order.CheckoutCompleted {
				t.Fatalf("retry: %+v %v", done, err)
			}
			_, err = e.complete(e.shopperB, c.ID, "k-decline-2")
			if err != nil {
				t.Fatalf("completing a completed checkout with a new key: %v", err)
			}
			_, err = call[order.CompleteCheckoutInput, order.UCPCheckout](e.shopperB, e, "complete_checkout",
				order.CompleteCheckoutInput{ID: c.ID, IdempotencyKey: "k-retry", PaymentToken: order.TokenDecline})
			wantErr(t, err, mdk.CodeConflict, "")
		})
		t.Run("ErrCaptureFails", func(t *testing.T) {
			c := e.ready(t, e.shopperA, order.TokenFailCapture, line(e.scarf, 1))
			done, err := e.complete(e.shopperA, c.ID, "k-capture")
			if err != nil {
				t.Fatal(err)
			}
			_, err = call[order.FulfillInput, order.UCPOrder](e.merchant, e, "fulfill_order", order.FulfillInput{ID: done.Order.ID, TrackingNumber: "1Z"})
			wantErr(t, err, order.CodeCaptureFailed, "")
			o := must[order.UCPOrder](t, e.merchant, e, "get_order", order.OrderIDInput{ID: done.Order.ID})
			if o.Status != order.OrderConfirmed || o.PaymentStatus != "authorized" {
				t.Fatalf("order after failed capture: %s/%s", o.Status, o.PaymentStatus)
			}
		})
		t.Run("OKEscalation", func(t *testing.T) {
			c := e.ready(t, e.shopperA, order.TokenEscalate, line(e.scarf, 1))
			out, err := e.complete(e.shopperA, c.ID, "k-esc")
			if err != nil || out.Status != order.CheckoutRequiresEscalation || out.ContinueURL == "" {
				t.Fatalf("escalation: %+v %v", out, err)
			}
			if _, res := e.stock(t, e.scarf); res != 0 {
				t.Fatalf("%d reserved after escalation", res)
			}
		})
	}, "HYPERRR_ORDER_TAX_RATES=US-CA:1000")
}

// TestLastUnits races 64 checkouts for the last 10 units.
func TestLastUnits(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		lamp := e.product(t, "Lamp", "LAMP", 4000, 10)
		ids := make([]string, 64)
		for i := range ids {
			ids[i] = e.ready(t, e.shopperA, order.TokenSuccess, line(lamp, 1)).ID
		}
		var (
			wg               sync.WaitGroup
			mu               sync.Mutex
			completed, stock int
			other            []error
		)
		for i, id := range ids {
			wg.Go(func() {
				_, err := e.complete(e.shopperA, id, fmt.Sprintf("k%d", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					completed++
				case mdk.ErrorCode(err) == "out_of_stock":
					stock++
				default:
					other = append(other, err)
				}
			})
		}
		wg.Wait()
		if completed != 10 || stock != 54 || len(other) > 0 {
			t.Fatalf("completed %d, out_of_stock %d, other %v", completed, stock, other)
		}
		if onHand, res := e.stock(t, lamp); onHand != 0 || res != 0 {
			t.Fatalf("lamp stock %d on hand, %d reserved", onHand, res)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM "order".orders WHERE status = 'confirmed'`); n != 10 {
			t.Fatalf("%d confirmed orders", n)
		}
	})
}

// TestIdempotentComplete sends 200 complete_checkout calls over 20 keys at
// once: every call for a key sees the same order.
func TestIdempotentComplete(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		mug := e.product(t, "Mug", "MUG", 1200, 100)
		ids := make([]string, 20)
		for i := range ids {
			ids[i] = e.ready(t, e.shopperA, order.TokenSuccess, line(mug, 1)).ID
		}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			orders = map[string]map[string]bool{}
			errs   []error
		)
		for i := range 200 {
			id := ids[i%20]
			wg.Go(func() {
				for {
					out, err := e.complete(e.shopperA, id, "key-"+id)
					if e := mdk.AsError(err); err != nil && e.Retryable && e.Code == mdk.CodeConflict {
						continue
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
						return
					}
					if orders[id] == nil {
						orders[id] = map[string]bool{}
					}
					orders[id][out.Order.ID] = true
					return
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("errors: %v", errs[0])
		}
		for id, os := range orders {
			if len(os) != 1 {
				t.Fatalf("checkout %s got orders %v", id, os)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM "order".orders WHERE status = 'confirmed'`); n != 20 || len(orders) != 20 {
			t.Fatalf("%d orders, %d checkouts answered", n, len(orders))
		}
		if onHand, _ := e.stock(t, mug); onHand != 80 {
			t.Fatalf("mug on hand %d, want 80", onHand)
		}
	})
}
