package product

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// ModuleID is the ID other modules pass to mdk.Lookup.
const ModuleID = "commerce.product"

// Configuration defaults (HYPERRR_PRODUCT_<KEY>).
const (
	defaultCurrency       = "USD"
	defaultReservationTTL = 15 * time.Minute
	defaultLowStock       = 5
	defaultSweepInterval  = 30 * time.Second
)

// Module is commerce.product: the catalog, inventory and its workflow
// steps. Search and import live in their own files of this package and hook
// in as parts.
type Module struct {
	rt    *mdk.Runtime
	log   *slog.Logger
	store *store

	currency          string
	reservationTTL    time.Duration
	lowStockThreshold int64
	sweepInterval     time.Duration

	parts  []part
	search *searchPart

	sweeper mdk.Periodic
}

// part is a piece of the module kept in its own files (search, import,
// demo data), so each can be written and reviewed on its own. Init runs
// after the core has registered its operations and steps; a part that also
// implements mdk.Starter or mdk.Shutdowner is started after the core and
// stopped before it.
type part interface {
	Init(ctx context.Context, m *Module, rt *mdk.Runtime) error
}

// New returns the module, ready for the gateway to Init.
func New() *Module {
	return &Module{parts: []part{importPart{}, &searchPart{}, &demoPart{}}}
}

// ID implements mdk.Module.
func (m *Module) ID() string { return ModuleID }

// Requires implements mdk.Module: the catalog needs no other module.
func (m *Module) Requires() []string { return nil }

// Init reads the configuration (currency, reservation_ttl,
// low_stock_threshold, sweep_interval) and registers the operations,
// workflow steps and parts. A malformed setting fails start-up with the
// variable's name.
func (m *Module) Init(ctx context.Context, rt *mdk.Runtime) error {
	if err := m.configure(rt.Config); err != nil {
		return err
	}
	m.rt, m.log = rt, rt.Log
	if m.log == nil {
		m.log = slog.Default()
	}
	m.store = &store{db: rt.DB, outbox: rt.Outbox, currency: m.currency, now: time.Now}
	if err := m.registerShopperOps(rt.Ops); err != nil {
		return err
	}
	if err := m.registerMerchantOps(rt.Ops); err != nil {
		return err
	}
	if err := m.registerSteps(rt.Workflows); err != nil {
		return fmt.Errorf("register inventory steps: %w", err)
	}
	for _, p := range m.parts {
		if err := p.Init(ctx, m, rt); err != nil {
			return err
		}
	}
	return nil
}

func (m *Module) configure(c mdk.Config) error {
	env := func(key string) string { return "HYPERRR_" + strings.ToUpper(c.Section+"_"+key) }
	m.currency = c.String("currency", defaultCurrency)
	if !currencyRe.MatchString(m.currency) {
		return fmt.Errorf("%s=%q: want an ISO 4217 code in capitals, e.g. USD", env("currency"), m.currency)
	}
	var err error
	if m.reservationTTL, err = c.Duration("reservation_ttl", defaultReservationTTL); err != nil {
		return err
	}
	if m.reservationTTL <= 0 || m.reservationTTL > maxReserveTTL {
		return fmt.Errorf("%s=%s: want a duration above 0 and at most %s", env("reservation_ttl"), m.reservationTTL, maxReserveTTL)
	}
	if m.sweepInterval, err = c.Duration("sweep_interval", defaultSweepInterval); err != nil {
		return err
	}
	if m.sweepInterval <= 0 {
		return fmt.Errorf("%s=%s: want a duration above 0", env("sweep_interval"), m.sweepInterval)
	}
	threshold, err := c.Int("low_stock_threshold", defaultLowStock)
	if err != nil {
		return err
	}
	if threshold < 0 {
		return fmt.Errorf("%s=%d: want 0 or more units", env("low_stock_threshold"), threshold)
	}
	m.lowStockThreshold = int64(threshold)
	return nil
}

// Start begins the reservation sweeper, then starts the parts that have
// background work.
func (m *Module) Start(ctx context.Context) error {
	m.sweeper.Start(ctx, m.sweepInterval, m.sweepReservations)
	for _, p := range m.parts {
		if s, ok := p.(mdk.Starter); ok {
			if err := s.Start(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Shutdown stops the parts, then the sweeper, waiting for a sweep in
// progress until ctx ends.
func (m *Module) Shutdown(ctx context.Context) error {
	var firstErr error
	for i := len(m.parts) - 1; i >= 0; i-- {
		if s, ok := m.parts[i].(mdk.Shutdowner); ok {
			if err := s.Shutdown(ctx); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := m.sweeper.Stop(ctx); err != nil {
		return fmt.Errorf("reservation sweeper still running at shutdown deadline: %w", err)
	}
	return firstErr
}

// Service implements mdk.Provider: other modules reach the catalog through
// the Catalog it returns, via an interface they declare.
func (m *Module) Service() any { return &Catalog{m: m} }

// Catalog is the catalog as other modules see it.
type Catalog struct{ m *Module }

// VariantInfo is what a cart or order line needs of a variant. It is an
// alias of an unnamed struct of built-in types on purpose: a consumer
// module declares the identical struct (its own alias, same fields in the
// same order, no tags) in its interface, and so satisfies Go's type
// identity without importing this package.
//
//	type catalogVariant = struct {
//		ID, ProductID, ProductTitle, Title, SKU string
//		Price                                   int64
//		Currency                                string
//		Available                               int64
//		Status                                  string
//		ImageURL                                string
//	}
//	type Catalog interface {
//		Variants(ctx context.Context, ids []string) ([]catalogVariant, error)
//	}
type VariantInfo = struct {
	ID, ProductID, ProductTitle, Title, SKU string
	Price                                   int64
	Currency                                string
	Available                               int64
	Status                                  string
	ImageURL                                string
}

// Variants returns the variants with the given IDs in the order of ids,
// skipping unknown ones (the caller compares lengths to find them).
// Status is the product's: only "active" variants may be sold. Price is in
// minor units of Currency; Available is on hand minus reserved.
func (c *Catalog) Variants(ctx context.Context, ids []string) ([]VariantInfo, error) {
	vs, err := c.m.store.getVariants(ctx, c.m.store.db, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog variants: %w", err)
	}
	productIDs := make([]string, len(vs))
	for i, v := range vs {
		productIDs[i] = v.ProductID
	}
	ps, err := c.m.store.productHeads(ctx, productIDs)
	if err != nil {
		return nil, fmt.Errorf("catalog variants: %w", err)
	}
	out := make([]VariantInfo, 0, len(vs))
	for _, v := range vs {
		p := ps[v.ProductID]
		info := VariantInfo{
			ID: v.ID, ProductID: v.ProductID, ProductTitle: p.Title, Title: v.Title, SKU: v.SKU,
			Price: v.Price.Amount, Currency: v.Price.Currency, Available: v.Inventory.Available, Status: string(p.Status),
		}
		if len(p.Media) > 0 {
			info.ImageURL = p.Media[0]
		}
		out = append(out, info)
	}
	return out, nil
}
