package cart_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/internal/ucptest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/cart"
)

// TestCartOwnership runs every operation on a shopper's cart as each kind
// of caller: only the owner may change it, merchants may read it, another
// shopper is told it does not exist, and an anonymous caller is told to
// authenticate (carts need a shopper key).
func TestCartOwnership(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		type op struct {
			name  string
			write bool
			do    func(ctx context.Context, c cart.UCPCart) error
		}
		ucpOp := func(name string, write bool, in func(c cart.UCPCart) any) op {
			return op{name, write, func(ctx context.Context, c cart.UCPCart) error {
				raw, err := json.Marshal(in(c))
				if err != nil {
					return err
				}
				_, err = e.g.Ops().CallJSON(ctx, name, raw)
				return err
			}}
		}
		ops := []op{
			ucpOp("get_cart", false, func(c cart.UCPCart) any { return cart.CartIDInput{ID: c.ID} }),
			ucpOp("update_cart", true, func(c cart.UCPCart) any {
				return cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{line(e.scarf, 2)}}
			}),
			ucpOp("add_cart_line", true, func(c cart.UCPCart) any { return cart.AddLineInput{CartID: c.ID, ItemID: e.table, Quantity: 1} }),
			ucpOp("change_cart_line_quantity", true, func(c cart.UCPCart) any {
				return cart.LineQuantityInput{CartID: c.ID, LineID: c.LineItems[0].ID, Quantity: 3}
			}),
			ucpOp("remove_cart_line", true, func(c cart.UCPCart) any { return cart.RemoveLineInput{CartID: c.ID, LineID: c.LineItems[0].ID} }),
			ucpOp("cancel_cart", true, func(c cart.UCPCart) any { return cart.CartIDInput{ID: c.ID} }),
			{"Lines", false, func(ctx context.Context, c cart.UCPCart) error { _, err := e.service(t).Lines(ctx, c.ID); return err }},
		}
		callers := map[string]context.Context{"shopperA": e.shopperA, "shopperB": e.shopperB, "anonymous": e.anon, "merchant": e.merchant}
		for _, owner := range []string{"shopperA"} {
			for _, o := range ops {
				for caller, ctx := range callers {
					var want mdk.Code
					switch {
					case caller == "anonymous" && o.name != "Lines":
						// The registry's access check, before any lookup.
						want = mdk.CodeUnauthorized
					case caller == owner:
						want = ""
					case caller == "merchant" && !o.write:
						want = ""
					case caller == "merchant":
						want = mdk.CodeForbidden
					default:
						want = mdk.CodeNotFound
					}
					t.Run(owner+"/"+o.name+"/"+caller, func(t *testing.T) {
						c := e.newCart(t, callers[owner], line(e.scarf, 1))
						if err := o.do(ctx, c); mdk.ErrorCode(err) != want {
							t.Fatalf("got %v, want code %q", err, want)
						}
						// A refused write left the cart as it was.
						got := mustCall(t, callers[owner], e, "get_cart", cart.CartIDInput{ID: c.ID})
						if want != "" && (got.Status != cart.StatusActive || len(got.LineItems) != 1 || got.LineItems[0].Quantity != 1) {
							t.Fatalf("refused %s changed the cart: %+v", o.name, got)
						}
					})
				}
			}
		}
		t.Run("ErrAnonymousCannotShop", func(t *testing.T) {
			before := e.count(t, `SELECT COUNT(*) FROM cart.carts`)
			_, err := call(e.anon, e, "create_cart", cart.CreateCartInput{LineItems: []cart.LineItemInput{line(e.scarf, 1)}})
			wantErr(t, err, mdk.CodeUnauthorized, "")
			if n := e.count(t, `SELECT COUNT(*) FROM cart.carts`); n != before {
				t.Fatalf("a refused create_cart stored a cart: %d carts, want %d", n, before)
			}
		})
		t.Run("ErrMerchantCannotOwnCart", func(t *testing.T) {
			before := e.count(t, `SELECT COUNT(*) FROM cart.carts`)
			_, err := call(e.merchant, e, "create_cart", cart.CreateCartInput{})
			wantErr(t, err, mdk.CodeForbidden, "")
			if n := e.count(t, `SELECT COUNT(*) FROM cart.carts`); n != before {
				t.Fatalf("a refused create_cart stored a cart: %d carts, want %d", n, before)
			}
		})
	})
}

func TestCartExpiry(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		c := e.newCart(t, e.shopperA, line(e.scarf, 1))
		time.Sleep(700 * time.Millisecond)
		t.Run("OKReadsExpired", func(t *testing.T) {
			got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: c.ID})
			if got.Status != cart.StatusExpired || got.ExpiresAt != "" {
				t.Fatalf("idle cart %+v", got)
			}
		})
		t.Run("ErrNoLongerUsable", func(t *testing.T) {
			_, err := call(e.shopperA, e, "update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{}})
			wantErr(t, err, mdk.CodeConflict, "")
			if _, err := e.service(t).Lines(e.shopperA, c.ID); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("Lines of an expired cart: %v", err)
			}
		})
		t.Run("OKSweeper", func(t *testing.T) {
			fresh := e.newCart(t, e.shopperA, line(e.scarf, 1))
			n, err := e.cart.ExpireIdle(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("expired %d err=%v", n, err)
			}
			if got := e.count(t, `SELECT COUNT(*) FROM cart.carts WHERE status = 'expired' AND id = $1`, c.ID); got != 1 {
				t.Fatal("idle cart not marked expired")
			}
			if got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: fresh.ID}); got.Status != cart.StatusActive {
				t.Fatalf("fresh cart %s", got.Status)
			}
			if n, err := e.cart.ExpireIdle(context.Background()); err != nil || n != 0 {
				t.Fatalf("second sweep expired %d err=%v", n, err)
			}
		})
	}, "HYPERRR_CART_IDLE_TTL=600ms")
}

func TestOrderPlaced(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		c := e.newCart(t, e.shopperA, line(e.scarf, 1))
		other := e.newCart(t, e.shopperA, line(e.scarf, 1))
		ev, err := mdk.NewEvent(cart.EventOrderPlaced, "ord_1", cart.OrderPlacedEvent{OrderID: "ord_1", CartID: c.ID, CheckoutID: "chk_1"})
		if err != nil {
			t.Fatal(err)
		}
		noCart, err := mdk.NewEvent(cart.EventOrderPlaced, "ord_2", cart.OrderPlacedEvent{OrderID: "ord_2"})
		if err != nil {
			t.Fatal(err)
		}
		// Published twice: the handler dedupes by event ID.
		if err := e.g.Bus().Publish(context.Background(), noCart, ev, ev); err != nil {
			t.Fatal(err)
		}
		t.Run("OKCompleted", func(t *testing.T) {
			deadline := time.Now().Add(10 * time.Second)
			for e.count(t, `SELECT COUNT(*) FROM mdk.processed_events WHERE event_id = $1`, ev.ID) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("order.placed was not handled")
				}
				time.Sleep(20 * time.Millisecond)
			}
			got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: c.ID})
			if got.Status != cart.StatusCompleted {
				t.Fatalf("status %s", got.Status)
			}
			if got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: other.ID}); got.Status != cart.StatusActive {
				t.Fatalf("another cart became %s", got.Status)
			}
		})
		t.Run("ErrCheckoutTwice", func(t *testing.T) {
			if _, err := e.service(t).Lines(e.shopperA, c.ID); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("Lines of a completed cart: %v", err)
			}
			_, err := call(e.shopperA, e, "cancel_cart", cart.CartIDInput{ID: c.ID})
			wantErr(t, err, mdk.CodeConflict, "")
		})
	})
}

func TestUCPCartSchema(t *testing.T) {
	schema := ucptest.Compile(t, "https://ucp.dev/schemas/shopping/cart.json")[0]
	each(t, func(t *testing.T, e *env) {
		c := e.newCart(t, e.shopperA, line(e.scarf, 1), line("var_nope", 2), line(e.table, 9))
		empty := e.newCart(t, e.shopperA)
		for name, out := range map[string]cart.UCPCart{"OKWithMessages": c, "OKEmpty": empty} {
			t.Run(name, func(t *testing.T) {
				if err := schema.Validate(ucptest.Enveloped(t, out)); err != nil {
					t.Errorf("cart does not validate: %v", err)
				}
			})
		}
		t.Run("ErrBrokenCartFails", func(t *testing.T) {
			broken := c
			broken.Totals = broken.Totals[:1]
			if err := schema.Validate(ucptest.Enveloped(t, broken)); err == nil {
				t.Error("a cart without a total validated")
			}
		})
	})
}
