package order_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/order"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a gateway running product, cart and order on a fresh database.
type env struct {
	g     *gateway.Gateway
	order *order.Module
	// scarf: 2500, 5 in stock; table: 19900, 3 in stock.
	scarf, table                       string
	merchant, shopperA, shopperB, anon context.Context
}

func each(t *testing.T, fn func(t *testing.T, e *env), environ ...string) {
	t.Helper()
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) { fn(t, newEnv(t, engine, environ...)) })
	}
}

func newEnv(t testing.TB, engine sqldb.Engine, environ ...string) *env {
	t.Helper()
	om := order.New()
	g := gatewaytest.Open(t, gateway.Options{
		Config: gatewaytest.Config(t, engine), Modules: []mdk.Module{product.New(), cart.New(), om}, Environ: environ,
	})
	bg := context.Background()
	e := &env{
		g: g, order: om,
		merchant: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleMerchant, KeyID: "m1"}),
		shopperA: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleShopper, CustomerID: "cust_a"}),
		shopperB: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleShopper, CustomerID: "cust_b"}),
		anon:     bg,
	}
	e.scarf = e.product(t, "Red Wool Scarf", "SCARF", 2500, 5)
	e.table = e.product(t, "Oak Table", "TABLE", 19900, 3)
	return e
}

func (e *env) product(t testing.TB, title, sku string, price, stock int64) string {
	t.Helper()
	p, err := mdk.Call[product.ProductInput, product.Product](e.merchant, e.g.Ops(), "create_product", product.ProductInput{
		Title: title, Variants: []product.VariantInput{{SKU: sku, Price: price, Stock: &stock}},
	})
	if err != nil {
		t.Fatalf("create %s: %v", title, err)
	}
	return p.Variants[0].ID
}

func call[In, Out any](ctx context.Context, e *env, op string, in In) (Out, error) {
	return mdk.Call[In, Out](ctx, e.g.Ops(), op, in)
}

func must[Out, In any](t testing.TB, ctx context.Context, e *env, op string, in In) Out {
	t.Helper()
	out, err := call[In, Out](ctx, e, op, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func line(id string, q int64) order.LineItemInput {
	return order.LineItemInput{Item: order.ItemRef{ID: id}, Quantity: q}
}

var address = &order.Address{StreetAddress: "1 Main St", Locality: "San Francisco", Region: "CA", Country: "US", PostalCode: "94105"}

// ready creates a checkout for lines as ctx and fills in everything it
// needs, paying with token.
func (e *env) ready(t testing.TB, ctx context.Context, token string, lines ...order.LineItemInput) order.UCPCheckout {
	t.Helper()
	c := must[order.UCPCheckout](t, ctx, e, "create_checkout", order.CreateCheckoutInput{LineItems: lines})
	return must[order.UCPCheckout](t, ctx, e, "update_checkout", order.UpdateCheckoutInput{
		ID: c.ID, Buyer: &order.Buyer{Email: "ada@example.com", FirstName: "Ada"}, ShippingAddress: address,
		FulfillmentOptionID: "standard", PaymentToken: token,
	})
}

func (e *env) complete(ctx context.Context, id, key string) (order.UCPCheckout, error) {
	return call[order.CompleteCheckoutInput, order.UCPCheckout](ctx, e, "complete_checkout", order.CompleteCheckoutInput{ID: id, IdempotencyKey: key})
}

// stock returns on hand and reserved units of variant id.
func (e *env) stock(t testing.TB, id string) (onHand, reserved int64) {
	t.Helper()
	if err := e.g.DB().QueryRowContext(context.Background(), `SELECT on_hand, reserved FROM product.variants WHERE id = $1`, id).Scan(&onHand, &reserved); err != nil {
		t.Fatal(err)
	}
	return onHand, reserved
}

func (e *env) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.g.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func total(t testing.TB, totals []order.UCPTotal, typ string) int64 {
	t.Helper()
	for _, x := range totals {
		if x.Type == typ {
			return x.Amount
		}
	}
	t.Fatalf("no %s in %+v", typ, totals)
	return 0
}

func wantErr(t testing.TB, err error, code mdk.Code, field string) {
	t.Helper()
	for _, x := range mdk.AllErrors(err) {
		if x.Code == code && (field == "" || x.Field == field) {
			return
		}
	}
	t.Fatalf("want %s on %q, got %v", code, field, err)
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
