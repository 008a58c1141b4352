package cart

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/outbox"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// ModuleID is the ID other modules pass to mdk.Lookup.
const ModuleID = "commerce.cart"

// catalogModule is the module the cart prices its lines with.
const catalogModule = "commerce.product"

// Configuration defaults (HYPERRR_CART_<KEY>).
const (
	defaultIdleTTL       = 72 * time.Hour
	defaultMaxLines      = 100
	maxMaxLines          = 1000
	defaultSweepInterval = time.Minute
)

// orderPlacedConsumer names the order.placed subscription and its dedupe
// marks; it must stay stable across releases.
const orderPlacedConsumer = "cart.complete-on-order-placed"

// Module is commerce.cart.
type Module struct {
	log   *slog.Logger
	store *store
	ops   *ops

	sweepInterval time.Duration

	sweeper mdk.Periodic
}

// New returns the module, ready for the gateway to Init.
func New() *Module { return &Module{} }

// ID implements mdk.Module.
func (m *Module) ID() string { return ModuleID }

// Requires implements mdk.Module: carts are priced by the catalog.
func (m *Module) Requires() []string { return []string{catalogModule} }

// Init reads the configuration (idle_ttl, max_lines, sweep_interval),
// finds the catalog, registers the operations and subscribes to
// order.placed. A malformed setting fails start-up with the variable's name.
func (m *Module) Init(ctx context.Context, rt *mdk.Runtime) error {
	cfg, err := configure(rt.Config)
	if err != nil {
		return err
	}
	cat, err := mdk.Lookup[catalog](rt, catalogModule)
	if err != nil {
		return err
	}
	m.log = rt.Log
	if m.log == nil {
		m.log = slog.Default()
	}
	m.sweepInterval = cfg.sweepInterval
	m.store = &store{db: rt.DB, outbox: rt.Outbox, idleTTL: cfg.idleTTL, now: time.Now}
	m.ops = &ops{store: m.store, pricer: pricer{catalog: cat, idleTTL: cfg.idleTTL, now: time.Now}, maxLines: cfg.maxLines}
	if err := m.ops.register(rt.Ops); err != nil {
		return err
	}
	sub := mdk.Subscription{Name: orderPlacedConsumer, Types: []string{EventOrderPlaced}, Delivery: mdk.Shared}
	if err := rt.Bus.Subscribe(sub, outbox.OnceTx(rt.DB, orderPlacedConsumer, m.onOrderPlaced)); err != nil {
		return fmt.Errorf("subscribe to %s: %w", EventOrderPlaced, err)
	}
	return nil
}

type config struct {
	idleTTL       time.Duration
	maxLines      int
	sweepInterval time.Duration
}

func configure(c mdk.Config) (config, error) {
	env := func(key string) string { return "HYPERRR_" + strings.ToUpper(c.Section+"_"+key) }
	var cfg config
	var err error
	if cfg.idleTTL, err = c.Duration("idle_ttl", defaultIdleTTL); err != nil {
		return cfg, err
	}
	if cfg.idleTTL <= 0 {
		return cfg, fmt.Errorf("%s=%s: want a duration above 0", env("idle_ttl"), cfg.idleTTL)
	}
	if cfg.sweepInterval, err = c.Duration("sweep_interval", defaultSweepInterval); err != nil {
		return cfg, err
	}
	if cfg.sweepInterval <= 0 {
		return cfg, fmt.Errorf("%s=%s: want a duration above 0", env("sweep_interval"), cfg.sweepInterval)
	}
	if cfg.maxLines, err = c.Int("max_lines", defaultMaxLines); err != nil {
		return cfg, err
	}
	if cfg.maxLines < 1 || cfg.maxLines > maxMaxLines {
		return cfg, fmt.Errorf("%s=%d: want 1 to %d lines", env("max_lines"), cfg.maxLines, maxMaxLines)
	}
	return cfg, nil
}

// onOrderPlaced marks the order's cart completed, in the transaction that
// marks the event processed.
func (m *Module) onOrderPlaced(ctx context.Context, tx *sqldb.Tx, e mdk.Event) error {
	var data OrderPlacedEvent
	if err := json.Unmarshal(e.Data, &data); err != nil {
		// Retrying can't fix a malformed event; log it and move on.
		m.log.ErrorContext(ctx, "order.placed event with unreadable data", "event", e.ID, "err", err)
		return nil
	}
	if data.CartID == "" {
		return nil
	}
	done, err := m.store.complete(ctx, tx, data.CartID)
	if err != nil {
		return err
	}
	if done {
		m.log.InfoContext(ctx, "cart completed", "cart", data.CartID, "order", data.OrderID)
	}
	return nil
}

// ExpireIdle marks every active cart left unchanged for the idle TTL
// expired and returns how many it marked. The sweeper calls it; it is safe
// to run on several instances at once.
func (m *Module) ExpireIdle(ctx context.Context) (int64, error) { return m.store.expireIdle(ctx) }

// Start begins the idle-cart sweeper.
func (m *Module) Start(ctx context.Context) error {
	m.sweeper.Start(ctx, m.sweepInterval, func(ctx context.Context) {
		n, err := m.ExpireIdle(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Error("expire idle carts", "err", err)
		}
		if n > 0 {
			m.log.Info("idle carts expired", "count", n)
		}
	})
	return nil
}

// Shutdown stops the sweeper, waiting for a sweep in progress until ctx
// ends.
func (m *Module) Shutdown(ctx context.Context) error {
	if err := m.sweeper.Stop(ctx); err != nil {
		return fmt.Errorf("cart sweeper still running at shutdown deadline: %w", err)
	}
	return nil
}

// Service implements mdk.Provider: the order module reaches carts through
// the Carts it returns, via an interface it declares.
func (m *Module) Service() any { return &Carts{m: m} }

// Carts is the cart module as other modules see it.
type Carts struct{ m *Module }

// CartLines is what checkout needs of a cart. It is an alias of an unnamed
// struct of built-in types on purpose: the order module declares the
// identical type and so satisfies Go's type identity without importing
// this package.
type CartLines = struct {
	ID, Currency string
	Lines        []struct {
		VariantID string
		Quantity  int64
	}
}

// Lines returns the lines of cart cartID for checkout, as the caller in ctx
// sees it: not_found when the caller may not read the cart (another
// shopper's); conflict when
// the cart is canceled, expired, completed or empty. Prices are not
// included: checkout reads them from the catalog itself.
func (c *Carts) Lines(ctx context.Context, cartID string) (CartLines, error) {
	o := c.m.ops
	cart, err := o.store.get(ctx, mdk.PrincipalFrom(ctx), cartID)
	if err != nil {
		return CartLines{}, err
	}
	if st := cart.idleStatus(o.pricer.now(), o.pricer.idleTTL); st != StatusActive {
		return CartLines{}, errNotActive(cartID, st)
	}
	if len(cart.Lines) == 0 {
		return CartLines{}, mdk.Errorf(mdk.CodeConflict, "cart %s is empty; add items with update_cart first", cartID)
	}
	v, err := o.pricer.price(ctx, cart)
	if err != nil {
		return CartLines{}, err
	}
	out := CartLines{ID: cart.ID, Currency: v.Currency}
	for _, l := range cart.Lines {
		out.Lines = append(out.Lines, struct {
			VariantID string
			Quantity  int64
		}{l.VariantID, l.Quantity})
	}
	return out, nil
}
