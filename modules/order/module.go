package order

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/idempotency"
)

// ModuleID is the ID other modules pass to mdk.Lookup.
const ModuleID = "commerce.order"

const (
	catalogModule = "commerce.product"
	cartModule    = "commerce.cart"
)

// Configuration defaults (HYPERRR_ORDER_<KEY>).
const (
	// defaultShippingOptions is id:title:amount, comma-separated.
	defaultShippingOptions = "standard:Standard shipping:500,express:Express shipping:1500"
	defaultStoreURL        = "https://shop.example.com"
)

// catalogVariant is identical to product.VariantInfo, so *product.Catalog
// satisfies catalog without an import.
type catalogVariant = struct {
	ID, ProductID, ProductTitle, Title, SKU string
	Price                                   int64
	Currency                                string
	Available                               int64
	Status                                  string
	ImageURL                                string
}

// catalog is what checkout needs of commerce.product: current prices.
type catalog interface {
	Variants(ctx context.Context, ids []string) ([]catalogVariant, error)
}

// cartLines is identical to cart.CartLines.
type cartLines = struct {
	ID, Currency string
	Lines        []struct {
		VariantID string
		Quantity  int64
	}
}

// carts is what checkout needs of commerce.cart.
type carts interface {
	Lines(ctx context.Context, cartID string) (cartLines, error)
}

// ShippingOption is a flat-rate fulfillment option from configuration.
type ShippingOption struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Amount int64  `json:"amount" jsonschema:"minor units"`
}

type config struct {
	shipping []ShippingOption
	// taxRates maps "CC" or "CC-REGION" to basis points (725 = 7.25%).
	taxRates map[string]int64
	storeURL string
	// claimLease is how old a complete_in_progress claim must be before
	// the sweeper looks for its run; sweepInterval how often it looks.
	claimLease, sweepInterval time.Duration
}

// Option configures a Module.
type Option func(*Module)

// WithProvider replaces the built-in test payment provider.
func WithProvider(p Provider) Option { return func(m *Module) { m.payments = p } }

// Module is commerce.order.
type Module struct {
	log      *slog.Logger
	payments Provider
	store    *store
	ops      *ops
	sweeper  mdk.Periodic
}

// New returns the module, ready for the gateway to Init. Without
// WithProvider it uses the TestProvider.
func New(opts ...Option) *Module {
	m := &Module{}
	for _, o := range opts {
		o(m)
	}
	if m.payments == nil {
		m.payments = NewTestProvider()
	}
	return m
}

// ID implements mdk.Module.
func (m *Module) ID() string { return ModuleID }

// Requires implements mdk.Module.
func (m *Module) Requires() []string { return []string{catalogModule, cartModule} }

// Init reads the configuration (shipping_options, tax_rates, store_url,
// claim_lease, sweep_interval),
// finds the catalog and the carts, and registers steps, workflows and
// operations.
func (m *Module) Init(ctx context.Context, rt *mdk.Runtime) error {
	cfg, err := configure(rt.Config)
	if err != nil {
		return err
	}
	cat, err := mdk.Lookup[catalog](rt, catalogModule)
	if err != nil {
		return err
	}
	cs, err := mdk.Lookup[carts](rt, cartModule)
	if err != nil {
		return err
	}
	m.log = rt.Log
	if m.log == nil {
		m.log = slog.Default()
	}
	m.store = &store{db: rt.DB, outbox: rt.Outbox, now: time.Now}
	m.ops = &ops{
		store: m.store, catalog: cat, carts: cs, cfg: cfg, payments: m.payments,
		engine: rt.Workflows, idem: idempotency.New(rt.DB, idempotency.Options{}),
	}
	if err := m.ops.registerSaga(rt.Workflows); err != nil {
		return err
	}
	if m.ops.money, err = m.ops.registerMoney(rt.Workflows); err != nil {
		return err
	}
	return m.ops.register(rt.Ops)
}

func configure(c mdk.Config) (config, error) {
	env := func(key string) string { return "HYPERRR_" + strings.ToUpper(c.Section+"_"+key) }
	cfg := config{taxRates: map[string]int64{}}
	for _, spec := range strings.Split(c.String("shipping_options", defaultShippingOptions), ",") {
		parts := strings.SplitN(strings.TrimSpace(spec), ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
			return cfg, fmt.Errorf("%s: %q is not id:title:amount", env("shipping_options"), spec)
		}
		amount, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || amount < 0 {
			return cfg, fmt.Errorf("%s: amount of %q must be minor units, 0 or more", env("shipping_options"), spec)
		}
		cfg.shipping = append(cfg.shipping, ShippingOption{ID: parts[0], Title: parts[1], Amount: amount})
	}
	if rates := c.String("tax_rates", ""); rates != "" {
		for _, spec := range strings.Split(rates, ",") {
			where, bp, ok := strings.Cut(strings.TrimSpace(spec), ":")
			n, err := strconv.ParseInt(bp, 10, 64)
			if !ok || where == "" || err != nil || n < 0 || n > 10_000 {
				return cfg, fmt.Errorf("%s: %q is not COUNTRY[-REGION]:basis_points (725 is 7.25%%)", env("tax_rates"), spec)
			}
			cfg.taxRates[strings.ToUpper(where)] = n
		}
	}
	for _, d := range []struct {
		key  string
		into *time.Duration
		def  time.Duration
	}{{"claim_lease", &cfg.claimLease, defaultClaimLease}, {"sweep_interval", &cfg.sweepInterval, defaultSweepInterval}} {
		v, err := c.Duration(d.key, d.def)
		if err != nil {
			return cfg, err
		}
		if v <= 0 {
			return cfg, fmt.Errorf("%s=%s: want a duration above 0", env(d.key), v)
		}
		*d.into = v
	}
	cfg.storeURL = strings.TrimRight(c.String("store_url", defaultStoreURL), "/")
	if u, err := url.Parse(cfg.storeURL); err != nil || u.Scheme == "" || u.Host == "" {
		return cfg, fmt.Errorf("%s=%q: want an absolute URL", env("store_url"), cfg.storeURL)
	}
	return cfg, nil
}

// taxRate is the rate in basis points for an address: the region's when
// configured, else the country's, else 0.
func (c config) taxRate(a Address) int64 {
	country := strings.ToUpper(a.Country)
	if r, ok := c.taxRates[country+"-"+strings.ToUpper(a.Region)]; ok && a.Region != "" {
		return r
	}
	return c.taxRates[country]
}

func (c config) shippingOption(id string) (ShippingOption, bool) {
	for _, o := range c.shipping {
		if o.ID == id {
			return o, true
		}
	}
	return ShippingOption{}, false
}

// Payments returns the module's payment provider (tests inspect the test
// provider through it).
func (m *Module) Payments() Provider { return m.payments }
