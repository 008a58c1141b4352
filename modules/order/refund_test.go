package order_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/order"
	"github.com/hyperrr/hyperrr/modules/product"
)

// shipped places and fulfils an order for lines as shopper A.
func (e *env) shipped(t *testing.T, key string, lines ...order.LineItemInput) order.UCPOrder {
	t.Helper()
	done, err := e.complete(e.shopperA, e.ready(t, e.shopperA, order.TokenSuccess, lines...).ID, key)
	if err != nil || done.Order == nil {
		t.Fatalf("complete: %+v %v", done, err)
	}
	return must[order.UCPOrder](t, e.merchant, e, "fulfill_order", order.FulfillInput{ID: done.Order.ID, TrackingNumber: "1Z-" + key})
}

// TestRefundRestock checks that refund_order puts refunded units back in
// stock only when asked (the goods of a refundable order have shipped), by
// line and quantity, and once per refund however many calls make it.
func TestRefundRestock(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.shipped(t, "restock", line(e.scarf, 3), line(e.table, 1)) // scarf 5 → 2, table 3 → 2
		scarfLine := o.LineItems[0].ID
		onHand := func(id string) int64 { h, _ := e.stock(t, id); return h }
		if onHand(e.scarf) != 2 || onHand(e.table) != 2 {
			t.Fatalf("stock after sale: scarf %d, table %d", onHand(e.scarf), onHand(e.table))
		}
		refund := func(in order.RefundInput) order.UCPOrder {
			t.Helper()
			in.ID = o.ID
			return must[order.UCPOrder](t, e.merchant, e, "refund_order", in)
		}
		t.Run("OKDefaultKeepsStock", func(t *testing.T) {
			r := refund(order.RefundInput{Lines: []order.RefundLine{{LineID: scarfLine, Quantity: 1}}})
			if r.Status != order.OrderPartiallyRefunded || onHand(e.scarf) != 2 {
				t.Fatalf("refund without restock: %s, scarf on hand %d, want 2", r.Status, onHand(e.scarf))
			}
		})
		t.Run("OKPartialRestock", func(t *testing.T) {
			r := refund(order.RefundInput{Lines: []order.RefundLine{{LineID: scarfLine, Quantity: 1}}, Restock: true})
			if r.Refunded != 2*2500 || onHand(e.scarf) != 3 || onHand(e.table) != 2 {
				t.Fatalf("refunded %d; stock scarf %d (want 3), table %d (want 2)", r.Refunded, onHand(e.scarf), onHand(e.table))
			}
		})
		t.Run("OKFullRestockReturnsWhatIsLeft", func(t *testing.T) {
			r := refund(order.RefundInput{Restock: true})
			if r.Status != order.OrderRefunded || onHand(e.scarf) != 4 || onHand(e.table) != 3 {
				t.Fatalf("%s; stock scarf %d (want 4), table %d (want 3)", r.Status, onHand(e.scarf), onHand(e.table))
			}
			if _, res := e.stock(t, e.table); res != 0 {
				t.Fatalf("table reserved %d after restock", res)
			}
		})
		t.Run("ErrNothingLeft", func(t *testing.T) {
			_, err := call[order.RefundInput, order.UCPOrder](e.merchant, e, "refund_order", order.RefundInput{ID: o.ID, Restock: true})
			if mdk.ErrorCode(err) == "" || onHand(e.scarf) != 4 || onHand(e.table) != 3 {
				t.Fatalf("refund of a refunded order: %v; stock scarf %d, table %d", err, onHand(e.scarf), onHand(e.table))
			}
		})
		t.Run("OKOncePerRefund", func(t *testing.T) {
			o := e.shipped(t, "race", line(e.table, 2), line(e.scarf, 1)) // table 3 → 1, scarf 4 → 3
			var wg sync.WaitGroup
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Racing calls for the same refund share its run, or
					// find it done (invalid: nothing left) or moved on
					// (conflict).
					_, err := call[order.RefundInput, order.UCPOrder](e.merchant, e, "refund_order", order.RefundInput{
						ID: o.ID, Lines: []order.RefundLine{{LineID: o.LineItems[0].ID, Quantity: 2}}, Restock: true})
					if c := mdk.ErrorCode(err); err != nil && c != mdk.CodeInvalid && c != mdk.CodeConflict {
						t.Errorf("refund_order: %v", err)
					}
				}()
			}
			wg.Wait()
			got := must[order.UCPOrder](t, e.merchant, e, "get_order", order.OrderIDInput{ID: o.ID})
			if got.Refunded != 2*19900 || onHand(e.table) != 3 || onHand(e.scarf) != 3 {
				t.Fatalf("refunded %d (want %d); stock table %d (want 3), scarf %d (want 3)", got.Refunded, 2*19900, onHand(e.table), onHand(e.scarf))
			}
			if n := e.count(t, `SELECT COUNT(*) FROM product.reservations WHERE status = 'returned' AND variant_id = $1`, e.table); n != 2 {
				t.Fatalf("%d table returns recorded, want 2 (one per restocking refund)", n)
			}
		})
	})
}

// TestReturnStepOncePerKey runs inventory.return twice with one key in one
// workflow (as two runs of one refund would): the units come back once.
func TestReturnStepOncePerKey(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		wf := mdk.NewWorkflow[product.ReturnInput, product.ReturnOutput]("test.return_twice")
		first := mdk.AddStep[product.ReturnOutput](wf, "first", product.StepReturn, func(in product.ReturnInput, _ mdk.Results) (product.ReturnInput, error) { return in, nil })
		second := mdk.AddStep[product.ReturnOutput](wf, "second", product.StepReturn, func(in product.ReturnInput, _ mdk.Results) (product.ReturnInput, error) { return in, nil }, first.Name())
		wf.SetOutput(func(_ product.ReturnInput, r mdk.Results) (product.ReturnOutput, error) { return second.Output(r) })
		if err := e.g.Workflows().RegisterWorkflow(wf.Spec()); err != nil {
			t.Fatal(err)
		}
		before, _ := e.stock(t, e.scarf)
		in := product.ReturnInput{Key: "refund/ord_test/0", Lines: []product.ReserveLine{{VariantID: e.scarf, Quantity: 2}, {VariantID: "var_gone", Quantity: 1}}}
		out, err := mdk.ExecuteSync(context.Background(), e.g.Workflows(), wf, in, "")
		if err != nil {
			t.Fatal(err)
		}
		if after, _ := e.stock(t, e.scarf); after != before+2 {
			t.Fatalf("scarf on hand %d after returning 2 twice under one key, want %d", after, before+2)
		}
		if len(out.Returned) != 1 || len(out.Skipped) != 1 || out.Skipped[0] != "var_gone" {
			t.Fatalf("second return: %+v, want the scarf recorded and var_gone skipped", out)
		}
	})
}
