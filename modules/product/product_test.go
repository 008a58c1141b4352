package product_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// catalogEnv is a gateway running only commerce.product on a fresh
// database, with a context per role.
type catalogEnv struct {
	g                         *gateway.Gateway
	m                         *product.Module
	merchant, shopper, anonym context.Context
}

// eachCatalog runs fn once per engine, each with a fresh catalog.
// environ sets HYPERRR_PRODUCT_* variables.
func eachCatalog(t *testing.T, fn func(t *testing.T, env *catalogEnv), environ ...string) {
	t.Helper()
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, openCatalog(t, e, nil, environ...)) })
	}
}

// openCatalog opens a gateway running commerce.product and the extra
// modules.
func openCatalog(t testing.TB, e sqldb.Engine, extra []mdk.Module, environ ...string) *catalogEnv {
	t.Helper()
	m := product.New()
	g := gatewaytest.Open(t, gateway.Options{
		Config: gatewaytest.Config(t, e), Modules: append([]mdk.Module{m}, extra...), Environ: environ,
	})
	bg := context.Background()
	return &catalogEnv{
		g: g, m: m,
		merchant: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleMerchant, KeyID: "m1"}),
		shopper:  mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleShopper, CustomerID: "c1"}),
		anonym:   bg,
	}
}

// call calls an operation through the registry, as the edges do.
func call[In, Out any](ctx context.Context, env *catalogEnv, op string, in In) (Out, error) {
	return mdk.Call[In, Out](ctx, env.g.Ops(), op, in)
}

// callJSON calls an operation with a JSON body, through input schema
// validation, and decodes the result into Out.
func callJSON[Out any](t *testing.T, ctx context.Context, env *catalogEnv, op, body string) (Out, error) {
	t.Helper()
	var out Out
	res, err := env.g.Ops().CallJSON(ctx, op, json.RawMessage(body))
	if err != nil {
		return out, err
	}
	typed, ok := res.(Out)
	if !ok {
		t.Fatalf("%s returned %T", op, res)
	}
	return typed, nil
}

func (env *catalogEnv) create(t testing.TB, in product.ProductInput) product.Product {
	t.Helper()
	p, err := call[product.ProductInput, product.Product](env.merchant, env, "create_product", in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Title, err)
	}
	return p
}

// outboxEvent is an event row not yet relayed (the test gateway does not
// run the relay, so every emitted event stays in product.outbox).
type outboxEvent struct {
	Type, Subject string
	Data          json.RawMessage
}

func (env *catalogEnv) events(t *testing.T) []outboxEvent {
	t.Helper()
	rows, err := env.g.DB().QueryContext(context.Background(), `SELECT type, subject, data FROM product.outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxEvent
	for rows.Next() {
		var e outboxEvent
		var data string
		if err := rows.Scan(&e.Type, &e.Subject, &data); err != nil {
			t.Fatal(err)
		}
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// eventsSince returns the events emitted after the first n.
func (env *catalogEnv) eventsSince(t *testing.T, n int) []outboxEvent {
	t.Helper()
	return env.events(t)[n:]
}

// wantErr checks err carries an *mdk.Error with code on field (field ""
// matches any field).
func wantErr(t *testing.T, err error, code mdk.Code, field string) *mdk.Error {
	t.Helper()
	for _, e := range mdk.AllErrors(err) {
		if e.Code == code && (field == "" || e.Field == field) {
			return e
		}
	}
	var e *mdk.Error
	errors.As(err, &e)
	t.Fatalf("want %s on %q, got %v", code, field, err)
	return nil
}

func ptr[T any](v T) *T { return &v }

// table is a product with two options and four variants, used across the
// tests.
func table() product.ProductInput {
	return product.ProductInput{
		Title:       "Oak Coffee Table",
		Description: "A solid oak coffee table with rounded corners.",
		Vendor:      "Nordwood",
		ProductType: "Coffee Table",
		Category:    "Furniture / Living Room / Coffee Tables",
		Tags:        []string{"oak", "table"},
		Attributes:  map[string]string{"material": "oak"},
		Media:       []string{"https://cdn.example.com/oak-table.jpg"},
		Options: []product.Option{
			{Name: "Size", Values: []string{"Small", "Large"}},
			{Name: "Finish", Values: []string{"Natural", "Dark"}},
		},
		Variants: []product.VariantInput{
			{SKU: "OAK-S-N", Options: map[string]string{"Size": "Small", "Finish": "Natural"}, Price: 19900, Stock: ptr[int64](3)},
			{SKU: "OAK-S-D", Options: map[string]string{"Size": "Small", "Finish": "Dark"}, Price: 20900, Stock: ptr[int64](0)},
			{SKU: "OAK-L-N", Options: map[string]string{"Size": "Large", "Finish": "Natural"}, Price: 29900, CompareAtPrice: ptr[int64](34900), Stock: ptr[int64](8)},
			{SKU: "OAK-L-D", Options: map[string]string{"Size": "Large", "Finish": "Dark"}, Price: 30900, Stock: ptr[int64](1), Barcode: "012345678905"},
		},
	}
}

// scarf is a product without options: one Default variant.
func scarf(sku string, stock int64) product.ProductInput {
	return product.ProductInput{
		Title:    "Red Wool Scarf",
		Variants: []product.VariantInput{{SKU: sku, Price: 2500, Stock: &stock}},
	}
}

func variantBySKU(t *testing.T, p product.Product, sku string) product.Variant {
	t.Helper()
	for _, v := range p.Variants {
		if v.SKU == sku {
			return v
		}
	}
	t.Fatalf("product %s has no SKU %s", p.ID, sku)
	return product.Variant{}
}
