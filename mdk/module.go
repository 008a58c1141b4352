package mdk

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Module is a unit of commerce functionality (commerce.product,
// commerce.cart, commerce.order). The gateway starts modules in Requires
// order, applies their migrations, then calls Init; Start and Shutdown are
// optional (see Starter and Shutdowner).
type Module interface {
	// ID is dotted and unique: "commerce.product".
	ID() string
	// Requires lists the modules that must start first; they are the only
	// modules this one may Lookup.
	Requires() []string
	// Init registers operations, workflow steps and event subscriptions.
	Init(ctx context.Context, rt *Runtime) error
}

// Starter is a module with background work that begins once every module
// has initialised.
type Starter interface {
	Start(ctx context.Context) error
}

// Shutdowner is a module with resources to release; it is called in reverse
// start order, bounded by ctx.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Provider is a module that exposes a service value other than itself to
// the modules that Lookup it.
type Provider interface {
	Service() any
}

// SchemaOf returns the SQL schema a module owns: the last segment of its ID
// ("commerce.product" → "product"). Its migrations live in migrations/<schema>.
func SchemaOf(m Module) string {
	id := m.ID()
	return id[strings.LastIndexByte(id, '.')+1:]
}

// Outbox writes events in the caller's transaction; the relay publishes them
// after commit. The Runtime's Outbox is scoped to the module's schema.
type Outbox interface {
	Emit(ctx context.Context, tx *sqldb.Tx, events ...Event) error
}

// Runtime is what a module gets from the gateway: its share of the server's
// services. Fields are set before Init and never change.
type Runtime struct {
	// Module is the ID of the module this runtime belongs to.
	Module string
	// DB is the shared database; the module's tables are in Schema.
	DB     *sqldb.DB
	Schema string
	Log    *slog.Logger
	Config Config
	// Bus delivers events; subscribe in Init.
	Bus    Bus
	Outbox Outbox
	// Workflows runs sagas; register steps and workflows in Init.
	Workflows WorkflowEngine
	// Ops is the operation registry; register operations in Init.
	Ops *Registry
	// SeedDemo is set when the server may seed demo data into an empty
	// store (hyperrr serve without --no-demo); never in tests or tools.
	SeedDemo bool

	requires []string
	lookup   func(id string) (Module, bool)
}

// NewRuntime is used by the gateway to hand a module its runtime. lookup
// finds a started module by ID.
func NewRuntime(rt Runtime, requires []string, lookup func(id string) (Module, bool)) *Runtime {
	rt.requires = append([]string(nil), requires...)
	rt.lookup = lookup
	return &rt
}

// Lookup returns the module moduleID (or the service it provides) as T, an
// interface declared by the calling module. Modules never import each other:
// this is how one reaches another. moduleID must be in the caller's
// Requires, which guarantees it was initialised first.
func Lookup[T any](rt *Runtime, moduleID string) (T, error) {
	var zero T
	if !slices.Contains(rt.requires, moduleID) {
		return zero, fmt.Errorf("module %s looks up %s without listing it in Requires", rt.Module, moduleID)
	}
	m, ok := rt.lookup(moduleID)
	if !ok {
		return zero, fmt.Errorf("module %s: required module %s is not running", rt.Module, moduleID)
	}
	var svc any = m
	if p, ok := m.(Provider); ok {
		svc = p.Service()
	}
	t, ok := svc.(T)
	if !ok {
		return zero, fmt.Errorf("module %s: %s (%T) does not implement %T", rt.Module, moduleID, svc, (*T)(nil))
	}
	return t, nil
}

// Config is a module's configuration section: the HYPERRR_<SCHEMA>_<KEY>
// environment variables, keyed by lower-case <key> ("HYPERRR_CART_IDLE_TTL"
// is "idle_ttl" in the cart section). Getters return a clear error for a
// malformed value instead of silently using the default.
type Config struct {
	Section string
	Values  map[string]string
}

func (c Config) env(key string) string {
	return "HYPERRR_" + strings.ToUpper(c.Section) + "_" + strings.ToUpper(key)
}

// String returns the value of key, or def when unset.
func (c Config) String(key, def string) string {
	if v, ok := c.Values[key]; ok && v != "" {
		return v
	}
	return def
}

// Int returns the integer value of key, or def when unset.
func (c Config) Int(key string, def int) (int, error) {
	v, ok := c.Values[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a whole number", c.env(key), v)
	}
	return n, nil
}

// Duration returns the duration value of key ("15m", "24h"), or def.
func (c Config) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := c.Values[key]
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s, 15m or 24h", c.env(key), v)
	}
	return d, nil
}

// Bool returns the boolean value of key, or def.
func (c Config) Bool(key string, def bool) (bool, error) {
	v, ok := c.Values[key]
	if !ok || v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", c.env(key), v)
	}
	return b, nil
}
