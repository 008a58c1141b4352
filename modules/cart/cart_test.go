package cart_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a gateway running commerce.product and commerce.cart on a fresh
// database, with a small catalog and a context per caller.
type env struct {
	g    *gateway.Gateway
	cart *cart.Module
	// scarf: 2500, 5 in stock; table: 19900, 3 in stock.
	scarf, table                       string
	merchant, shopperA, shopperB, anon context.Context
}

// each runs fn once per engine, each with a fresh env. environ sets
// HYPERRR_* module variables.
func each(t *testing.T, fn func(t *testing.T, e *env), environ ...string) {
	t.Helper()
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			cm := cart.New()
			g := gatewaytest.Open(t, gateway.Options{
				Config: gatewaytest.Config(t, engine), Modules: []mdk.Module{product.New(), cm}, Environ: environ,
			})
			bg := context.Background()
			e := &env{
				g: g, cart: cm,
				merchant: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleMerchant, KeyID: "m1"}),
				shopperA: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleShopper, CustomerID: "cust_a"}),
				shopperB: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleShopper, CustomerID: "cust_b"}),
				anon:     bg,
			}
			e.scarf = e.product(t, "Red Wool Scarf", "SCARF", 2500, 5)
			e.table = e.product(t, "Oak Table", "TABLE", 19900, 3)
			fn(t, e)
		})
	}
}

// product creates a one-variant product and returns the variant ID.
func (e *env) product(t *testing.T, title, sku string, price, stock int64) string {
	t.Helper()
	p, err := mdk.Call[product.ProductInput, product.Product](e.merchant, e.g.Ops(), "create_product", product.ProductInput{
		Title: title, Media: []string{"https://cdn.example.com/" + sku + ".jpg"},
		Variants: []product.VariantInput{{SKU: sku, Price: price, Stock: &stock}},
	})
	if err != nil {
		t.Fatalf("create %s: %v", title, err)
	}
	return p.Variants[0].ID
}

func call[In any](ctx context.Context, e *env, op string, in In) (cart.UCPCart, error) {
	return mdk.Call[In, cart.UCPCart](ctx, e.g.Ops(), op, in)
}

func mustCall[In any](t *testing.T, ctx context.Context, e *env, op string, in In) cart.UCPCart {
	t.Helper()
	c, err := call(ctx, e, op, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return c
}

func line(id string, q int64) cart.LineItemInput {
	return cart.LineItemInput{Item: cart.ItemRef{ID: id}, Quantity: q}
}

func (e *env) newCart(t *testing.T, ctx context.Context, lines ...cart.LineItemInput) cart.UCPCart {
	t.Helper()
	return mustCall(t, ctx, e, "create_cart", cart.CreateCartInput{LineItems: lines})
}

// total returns the amount of the total of type typ.
func total(t *testing.T, totals []cart.UCPTotal, typ string) int64 {
	t.Helper()
	for _, x := range totals {
		if x.Type == typ {
			return x.Amount
		}
	}
	t.Fatalf("no %s in %+v", typ, totals)
	return 0
}

func wantErr(t *testing.T, err error, code mdk.Code, field string) {
	t.Helper()
	for _, x := range mdk.AllErrors(err) {
		if x.Code == code && (field == "" || x.Field == field) {
			return
		}
	}
	t.Fatalf("want %s on %q, got %v", code, field, err)
}

// count runs a COUNT query.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.g.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// events lists the types of the cart events still in the outbox (the test
// gateway does not run the relay).
func (e *env) events(t *testing.T) []string {
	t.Helper()
	rows, err := e.g.DB().QueryContext(context.Background(), `SELECT type FROM cart.outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ string
		if err := rows.Scan(&typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lines is the consumer-side view of the service the order module uses.
type lines interface {
	Lines(ctx context.Context, cartID string) (cart.CartLines, error)
}

func (e *env) service(t *testing.T) lines {
	t.Helper()
	s, ok := e.cart.Service().(lines)
	if !ok {
		t.Fatalf("cart service %T has no Lines", e.cart.Service())
	}
	return s
}

func TestCartFlow(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		t.Run("OK", func(t *testing.T) {
			c := e.newCart(t, e.shopperA, line(e.scarf, 2))
			if c.Status != cart.StatusActive || c.Currency != "USD" || len(c.LineItems) != 1 || len(c.Messages) != 0 {
				t.Fatalf("created %+v", c)
			}
			li := c.LineItems[0]
			if li.Item.Title != "Red Wool Scarf" || li.Item.Price != 2500 || li.Item.ImageURL == "" || total(t, li.Totals, "total") != 5000 {
				t.Fatalf("line %+v", li)
			}
			if total(t, c.Totals, "subtotal") != 5000 || total(t, c.Totals, "total") != 5000 || c.ExpiresAt == "" {
				t.Fatalf("totals %+v expires %q", c.Totals, c.ExpiresAt)
			}
			got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: c.ID})
			if got.ID != c.ID || total(t, got.Totals, "total") != 5000 {
				t.Fatalf("get %+v", got)
			}
			c = mustCall(t, e.shopperA, e, "add_cart_line", cart.AddLineInput{CartID: c.ID, ItemID: e.table, Quantity: 1})
			c = mustCall(t, e.shopperA, e, "add_cart_line", cart.AddLineInput{CartID: c.ID, ItemID: e.scarf, Quantity: 1})
			if len(c.LineItems) != 2 || c.LineItems[0].Quantity != 3 || total(t, c.Totals, "total") != 3*2500+19900 {
				t.Fatalf("after add %+v", c)
			}
			tableLine := c.LineItems[1].ID
			c = mustCall(t, e.shopperA, e, "change_cart_line_quantity", cart.LineQuantityInput{CartID: c.ID, LineID: tableLine, Quantity: 2})
			if total(t, c.Totals, "total") != 3*2500+2*19900 {
				t.Fatalf("after change %+v", c.Totals)
			}
			c = mustCall(t, e.shopperA, e, "remove_cart_line", cart.RemoveLineInput{CartID: c.ID, LineID: c.LineItems[0].ID})
			if len(c.LineItems) != 1 || c.LineItems[0].ID != tableLine || total(t, c.Totals, "total") != 2*19900 {
				t.Fatalf("after remove %+v", c)
			}
			// Full replace: the kept line keeps its ID, the new one gets one.
			kept := line(e.table, 1)
			kept.ID = tableLine
			c = mustCall(t, e.shopperA, e, "update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{kept, line(e.scarf, 4)},
				Buyer: &cart.Buyer{Email: "a@example.com"}})
			if len(c.LineItems) != 2 || c.LineItems[0].ID != tableLine || c.LineItems[1].ID == "" || c.Buyer == nil ||
				total(t, c.Totals, "total") != 19900+4*2500 {
				t.Fatalf("after update %+v", c)
			}
			svc, err := e.service(t).Lines(e.shopperA, c.ID)
			if err != nil || svc.Currency != "USD" || len(svc.Lines) != 2 || svc.Lines[1].VariantID != e.scarf || svc.Lines[1].Quantity != 4 {
				t.Fatalf("Lines %+v err=%v", svc, err)
			}
			c = mustCall(t, e.shopperA, e, "update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{}})
			if len(c.LineItems) != 0 || total(t, c.Totals, "total") != 0 || c.Currency != "USD" {
				t.Fatalf("emptied %+v", c)
			}
			if _, err := e.service(t).Lines(e.shopperA, c.ID); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("Lines of an empty cart: %v", err)
			}
			c = mustCall(t, e.shopperA, e, "cancel_cart", cart.CartIDInput{ID: c.ID})
			if c.Status != cart.StatusCanceled || c.ExpiresAt != "" {
				t.Fatalf("canceled %+v", c)
			}
			again := mustCall(t, e.shopperA, e, "cancel_cart", cart.CartIDInput{ID: c.ID})
			if again.Status != cart.StatusCanceled {
				t.Fatalf("second cancel %+v", again)
			}
			want := []string{"cart.created", "cart.updated", "cart.updated", "cart.updated", "cart.updated", "cart.updated", "cart.updated", "cart.canceled"}
			if got := e.events(t); len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
				t.Fatalf("events %v, want %v", got, want)
			}
		})
		t.Run("ErrCanceledCartIsFrozen", func(t *testing.T) {
			c := e.newCart(t, e.shopperA, line(e.scarf, 1))
			mustCall(t, e.shopperA, e, "cancel_cart", cart.CartIDInput{ID: c.ID})
			_, err := call(e.shopperA, e, "add_cart_line", cart.AddLineInput{CartID: c.ID, ItemID: e.scarf, Quantity: 1})
			wantErr(t, err, mdk.CodeConflict, "")
			if _, err := e.service(t).Lines(e.shopperA, c.ID); mdk.ErrorCode(err) != mdk.CodeConflict {
				t.Fatalf("Lines of a canceled cart: %v", err)
			}
		})
		t.Run("OKIDIsUnguessable", func(t *testing.T) {
			a, b := e.newCart(t, e.shopperA), e.newCart(t, e.shopperA)
			// cart_ + 32 base32 characters = 160 random bits.
			if len(a.ID) != len("cart_")+32 || a.ID == b.ID {
				t.Fatalf("IDs %q %q", a.ID, b.ID)
			}
		})
	})
}

func TestCartMessages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		gone := e.product(t, "Old Lamp", "LAMP", 4000, 10)
		c := e.newCart(t, e.shopperA, line(e.scarf, 1), line("var_nope", 1), line(gone, 1), line(e.table, 4))
		if _, err := mdk.Call[product.IDInput, product.Product](e.merchant, e.g.Ops(), "archive_product", product.IDInput{ID: productOf(t, e, gone)}); err != nil {
			t.Fatal(err)
		}
		t.Run("OKReported", func(t *testing.T) {
			got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: c.ID})
			want := map[string]string{
				"$.line_items[1]":          "item_unavailable",
				"$.line_items[2]":          "item_unavailable",
				"$.line_items[3].quantity": "insufficient_stock",
			}
			if len(got.Messages) != len(want) {
				t.Fatalf("messages %+v", got.Messages)
			}
			for _, m := range got.Messages {
				if want[m.Path] != m.Code || m.Type != "error" || m.Severity != "recoverable" || m.Content == "" {
					t.Errorf("message %+v", m)
				}
			}
			// Lines stay; unbuyable ones count 0; short stock still counts.
			if len(got.LineItems) != 4 || total(t, got.LineItems[1].Totals, "total") != 0 || total(t, got.Totals, "total") != 2500+4*19900 {
				t.Fatalf("cart %+v", got)
			}
		})
		t.Run("OKClearedWhenFixed", func(t *testing.T) {
			got := mustCall(t, e.shopperA, e, "update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{line(e.scarf, 1), line(e.table, 3)}})
			if len(got.Messages) != 0 || total(t, got.Totals, "total") != 2500+3*19900 {
				t.Fatalf("fixed cart %+v", got)
			}
		})
		t.Run("OKOutOfStock", func(t *testing.T) {
			if _, err := mdk.Call[product.SetStockInput, product.Variant](e.merchant, e.g.Ops(), "set_stock", product.SetStockInput{VariantID: e.table, OnHand: 0}); err != nil {
				t.Fatal(err)
			}
			got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: c.ID})
			if len(got.Messages) != 1 || got.Messages[0].Code != "out_of_stock" || got.Messages[0].Path != "$.line_items[1].quantity" {
				t.Fatalf("messages %+v", got.Messages)
			}
		})
	})
}

func productOf(t *testing.T, e *env, variantID string) string {
	t.Helper()
	var id string
	if err := e.g.DB().QueryRowContext(context.Background(), `SELECT product_id FROM product.variants WHERE id = $1`, variantID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCartBadInput(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		c := e.newCart(t, e.shopperA, line(e.scarf, 1))
		before, events := e.count(t, `SELECT COUNT(*) FROM cart.carts`), len(e.events(t))
		many := make([]cart.LineItemInput, 4)
		for i := range many {
			many[i] = line("var_"+string(rune('a'+i)), 1)
		}
		for name, tc := range map[string]struct {
			op    string
			in    any
			field string
		}{
			"ErrZeroQuantity":     {"create_cart", cart.CreateCartInput{LineItems: []cart.LineItemInput{line(e.scarf, 1), line(e.table, 1), line("var_x", 0)}}, "line_items[2].quantity"},
			"ErrNegativeQuantity": {"update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{line(e.scarf, -1)}}, "line_items[0].quantity"},
			"ErrMissingItemID":    {"update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{line(e.scarf, 1), line("", 1)}}, "line_items[1].item.id"},
			"ErrDuplicateItem":    {"create_cart", cart.CreateCartInput{LineItems: []cart.LineItemInput{line(e.scarf, 1), line(e.scarf, 1)}}, "line_items[1].item.id"},
			"ErrTooManyLines":     {"update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: many}, "line_items"},
			"ErrUnknownLineID":    {"update_cart", cart.UpdateCartInput{ID: c.ID, LineItems: []cart.LineItemInput{{ID: "li_nope", Item: cart.ItemRef{ID: e.scarf}, Quantity: 1}}}, "line_items[0].id"},
			"ErrAddZero":          {"add_cart_line", cart.AddLineInput{CartID: c.ID, ItemID: e.scarf}, "quantity"},
			"ErrChangeUnknown":    {"change_cart_line_quantity", cart.LineQuantityInput{CartID: c.ID, LineID: "li_nope", Quantity: 1}, "line_id"},
			"ErrRemoveNoLineID":   {"remove_cart_line", cart.RemoveLineInput{CartID: c.ID}, "line_id"},
			"ErrUnknownCart":      {"get_cart", cart.CartIDInput{ID: "cart_nope"}, "id"},
			"ErrMissingCartID":    {"cancel_cart", cart.CartIDInput{}, "id"},
		} {
			t.Run(name, func(t *testing.T) {
				var err error
				switch in := tc.in.(type) {
				case cart.CreateCartInput:
					_, err = call(e.shopperA, e, tc.op, in)
				case cart.UpdateCartInput:
					_, err = call(e.shopperA, e, tc.op, in)
				case cart.AddLineInput:
					_, err = call(e.shopperA, e, tc.op, in)
				case cart.LineQuantityInput:
					_, err = call(e.shopperA, e, tc.op, in)
				case cart.RemoveLineInput:
					_, err = call(e.shopperA, e, tc.op, in)
				case cart.CartIDInput:
					_, err = call(e.shopperA, e, tc.op, in)
				}
				if tc.op == "get_cart" {
					wantErr(t, err, mdk.CodeNotFound, tc.field)
				} else if tc.field == "line_id" && tc.op == "change_cart_line_quantity" {
					wantErr(t, err, mdk.CodeNotFound, tc.field)
				} else {
					wantErr(t, err, mdk.CodeInvalid, tc.field)
				}
			})
		}
		t.Run("OKNothingWritten", func(t *testing.T) {
			if n := e.count(t, `SELECT COUNT(*) FROM cart.carts`); n != before {
				t.Errorf("carts %d, want %d", n, before)
			}
			if n := len(e.events(t)); n != events {
				t.Errorf("events %d, want %d", n, events)
			}
			got := mustCall(t, e.shopperA, e, "get_cart", cart.CartIDInput{ID: c.ID})
			if len(got.LineItems) != 1 || got.LineItems[0].Quantity != 1 {
				t.Errorf("cart changed: %+v", got.LineItems)
			}
		})
	}, "HYPERRR_CART_MAX_LINES=3")
}

func TestCartConfig(t *testing.T) {
	t.Run("ErrBadTTL", func(t *testing.T) {
		cfg := gatewaytest.Config(t, dbtest.Engines()[0])
		_, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Modules: []mdk.Module{product.New(), cart.New()},
			Environ: []string{"HYPERRR_CART_IDLE_TTL=soon"}, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), "HYPERRR_CART_IDLE_TTL") {
			t.Fatalf("got %v", err)
		}
	})
}
