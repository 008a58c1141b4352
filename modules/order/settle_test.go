package order_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/order"
)

// waitCheckout polls checkout id until it reaches want.
func waitCheckout(t *testing.T, ctx context.Context, e *env, id string, want order.CheckoutStatus) order.UCPCheckout {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c := must[order.UCPCheckout](t, ctx, e, "get_checkout", order.CheckoutIDInput{ID: id})
		if c.Status == want {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkout %s is %s after 10s, want %s", id, c.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A caller that goes away while its checkout's saga runs, and a run that
// then fails, leave the checkout ready again: the saga settles it, not the
// caller. A new key then completes it.
func TestCheckoutSettlesWithoutCaller(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pay := e.order.Payments().(*order.TestProvider)
		for _, tc := range []struct {
			name string
			fail error
			want order.CheckoutStatus
		}{
			{"ErrDeclined", &mdk.Error{Code: order.CodePaymentDeclined, Message: "declined"}, order.CheckoutReady},
			{"ErrInternal", errors.New("provider connection reset"), order.CheckoutReady},
			{"ErrEscalation", &mdk.Error{Code: order.CodeRequiresEscalation, Message: "confirm it"}, order.CheckoutRequiresEscalation},
		} {
			t.Run(tc.name, func(t *testing.T) {
				release := make(chan struct{})
				entered := make(chan struct{})
				var once sync.Once
				pay.SetAfterAuthorize(func(context.Context, string, order.Authorization) error {
					once.Do(func() { close(entered) })
					<-release
					return tc.fail
				})
				c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
				req, cancel := context.WithCancel(e.shopperA)
				answered := make(chan error, 1)
				go func() {
					_, err := e.complete(req, c.ID, "gone-"+tc.name)
					answered <- err
				}()
				await(t, entered, "authorize entered")
				cancel()
				if err := <-answered; err == nil {
					t.Fatal("complete_checkout answered a cancelled caller without error")
				}
				if got := must[order.UCPCheckout](t, e.shopperA, e, "get_checkout", order.CheckoutIDInput{ID: c.ID}); got.Status != order.CheckoutInProgress {
					t.Fatalf("checkout %s while its saga waits, want %s", got.Status, order.CheckoutInProgress)
				}
				close(release)
				waitCheckout(t, e.shopperA, e, c.ID, tc.want)
				if _, reserved := e.stock(t, e.scarf); reserved != 0 {
					t.Fatalf("%d scarves still reserved after the failed run", reserved)
				}

				pay.SetAfterAuthorize(nil)
				if tc.want == order.CheckoutRequiresEscalation {
					must[order.UCPCheckout](t, e.shopperA, e, "update_checkout", order.UpdateCheckoutInput{ID: c.ID, PaymentToken: order.TokenSuccess})
				}
				done, err := e.complete(e.shopperA, c.ID, "retry-"+tc.name)
				if err != nil || done.Status != order.CheckoutCompleted || done.Order == nil {
					t.Fatalf("retry with a new key: %+v, %v", done, err)
				}
			})
		}
	})
}

// Concurrent fulfil and refund calls for one order move the money once.
func TestCaptureAndRefundOnce(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pay := e.order.Payments().(*order.TestProvider)
		c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 2))
		done, err := e.complete(e.shopperA, c.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		id := done.Order.ID
		concurrently := func(n int, fn func() error) []error {
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				errs []error
			)
			for range n {
				wg.Go(func() {
					if err := fn(); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			return errs
		}
		t.Run("OKFulfill", func(t *testing.T) {
			errs := concurrently(8, func() error {
				o, err := call[order.FulfillInput, order.UCPOrder](e.merchant, e, "fulfill_order", order.FulfillInput{ID: id, TrackingNumber: "1Z9"})
				if err == nil && (o.Status != order.OrderFulfilled || o.PaymentStatus != "captured") {
					return errors.New("fulfilled order is " + string(o.Status) + "/" + o.PaymentStatus)
				}
				return err
			})
			if len(errs) > 0 {
				t.Fatalf("fulfill_order: %v", errs)
			}
			if n := pay.Captures(); n != 1 {
				t.Fatalf("%d captures, want 1", n)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".outbox WHERE type = 'payment.captured' AND subject = $1`, id); n != 1 {
				t.Fatalf("%d payment.captured events, want 1", n)
			}
		})
		t.Run("ErrFulfillOtherTracking", func(t *testing.T) {
			_, err := call[order.FulfillInput, order.UCPOrder](e.merchant, e, "fulfill_order", order.FulfillInput{ID: id, TrackingNumber: "other"})
			wantErr(t, err, mdk.CodeConflict, "")
		})
		t.Run("OKRefund", func(t *testing.T) {
			errs := concurrently(8, func() error {
				_, err := call[order.RefundInput, order.UCPOrder](e.merchant, e, "refund_order", order.RefundInput{ID: id})
				return err
			})
			for _, err := range errs {
				// A call that read the order after the refund finds
				// nothing left to refund or a refunded order.
				if c := mdk.ErrorCode(err); c != mdk.CodeConflict && c != mdk.CodeInvalid {
					t.Fatalf("refund_order: %v", err)
				}
			}
			if len(errs) == 8 {
				t.Fatal("no refund_order call succeeded")
			}
			if n := pay.Refunds(); n != 1 {
				t.Fatalf("%d refunds, want 1", n)
			}
			o := must[order.UCPOrder](t, e.merchant, e, "get_order", order.OrderIDInput{ID: id})
			if o.Status != order.OrderRefunded || o.Refunded != total(t, o.Totals, "total") {
				t.Fatalf("refunded order %s, %d of %d", o.Status, o.Refunded, total(t, o.Totals, "total"))
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".outbox WHERE type = 'payment.refunded' AND subject = $1`, id); n != 1 {
				t.Fatalf("%d payment.refunded events, want 1", n)
			}
		})
	})
}

// Completing a checkout made from a cart marks the cart completed, through
// order.placed relayed from the outbox to the cart module.
func TestCheckoutCompletesCart(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := serveInstance(t, dbtest.Config(t, engine), order.NewTestProvider(), "instance", 5*time.Second)
			scarf := e.product(t, "Red Wool Scarf", "SCARF", 2500, 5)
			ct := must[cart.UCPCart](t, e.shopperA, e.env, "create_cart", cart.CreateCartInput{
				LineItems: []cart.LineItemInput{{Item: cart.ItemRef{ID: scarf}, Quantity: 2}}})
			c := must[order.UCPCheckout](t, e.shopperA, e.env, "create_checkout", order.CreateCheckoutInput{CartID: ct.ID})
			must[order.UCPCheckout](t, e.shopperA, e.env, "update_checkout", order.UpdateCheckoutInput{
				ID: c.ID, Buyer: &order.Buyer{Email: "ada@example.com"}, ShippingAddress: address,
				FulfillmentOptionID: "standard", PaymentToken: order.TokenSuccess})
			if got := must[cart.UCPCart](t, e.shopperA, e.env, "get_cart", cart.CartIDInput{ID: ct.ID}); got.Status != cart.StatusActive {
				t.Fatalf("cart %s before checkout, want active", got.Status)
			}
			if done, err := e.complete(e.shopperA, c.ID, "k"); err != nil || done.Status != order.CheckoutCompleted {
				t.Fatalf("complete: %s, %v", done.Status, err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; {
				got := must[cart.UCPCart](t, e.shopperA, e.env, "get_cart", cart.CartIDInput{ID: ct.ID})
				if got.Status == cart.StatusCompleted {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("cart %s 10s after its checkout completed, want completed", got.Status)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
