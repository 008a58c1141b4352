package gateway_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spf13/pflag"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
)

// stubModule is a module with only an ID and requirements, for ordering.
type stubModule struct {
	id       string
	requires []string
	init     func(rt *mdk.Runtime) error
}

func (m stubModule) ID() string         { return m.id }
func (m stubModule) Requires() []string { return m.requires }
func (m stubModule) Init(_ context.Context, rt *mdk.Runtime) error {
	if m.init != nil {
		return m.init(rt)
	}
	return nil
}

func ids(mods []mdk.Module) string {
	var out []string
	for _, m := range mods {
		out = append(out, m.ID())
	}
	return strings.Join(out, ",")
}

func TestOrder(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := gateway.Order([]mdk.Module{
			stubModule{id: "commerce.order", requires: []string{"commerce.cart", "commerce.product"}},
			stubModule{id: "commerce.cart", requires: []string{"commerce.product"}},
			stubModule{id: "commerce.product"},
		})
		if err != nil || ids(got) != "commerce.product,commerce.cart,commerce.order" {
			t.Fatalf("order %s err=%v", ids(got), err)
		}
	})
	for name, tc := range map[string]struct {
		mods []mdk.Module
		want string
	}{
		"ErrMissing": {[]mdk.Module{stubModule{id: "commerce.cart", requires: []string{"commerce.product"}}},
			"module commerce.cart requires commerce.product, which is not loaded"},
		"ErrCycle": {[]mdk.Module{stubModule{id: "a.x", requires: []string{"a.y"}}, stubModule{id: "a.y", requires: []string{"a.z"}}, stubModule{id: "a.z", requires: []string{"a.x"}}},
			"cycle: a.x → a.y → a.z → a.x"},
		"ErrDuplicate": {[]mdk.Module{stubModule{id: "a.x"}, stubModule{id: "a.x"}}, "loaded twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := gateway.Order(tc.mods)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrUnknownRequires", func(t *testing.T) {
		cfg := gateway.DefaultConfig()
		cfg.DataDir = t.TempDir()
		_, err := gateway.Open(ctx, gateway.Options{Config: cfg, Modules: []mdk.Module{stubModule{id: "test.notes", requires: []string{"commerce.nope"}}}, Migrations: testMigrations()})
		if err == nil || err.Error() != "module test.notes requires commerce.nope, which is not loaded" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrBadDatabaseURL", func(t *testing.T) {
		cfg := gateway.DefaultConfig()
		cfg.DatabaseURL = "postgres://hyperrr:secret@127.0.0.1:1/shop?connect_timeout=2"
		_, err := gateway.Open(ctx, gateway.Options{Config: cfg, Migrations: testMigrations()})
		if err == nil || !strings.Contains(err.Error(), "connect to PostgreSQL") || strings.Contains(err.Error(), "secret") {
			t.Fatalf("got %v", err)
		}
	})
	eachEngine(t, func(t *testing.T, cfg gateway.Config) {
		t.Run("ErrMigrationFailsNothingHalfApplied", func(t *testing.T) {
			fsys := testMigrations()
			fsys["notes/0002_broken.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE notes.half (id TEXT); CREATE TABLE notes.bad (id NOSUCHTYPE(`)}
			_, err := gateway.Open(ctx, gateway.Options{Config: cfg, Modules: []mdk.Module{&noteModule{}}, Migrations: fsys})
			if err == nil || !strings.Contains(err.Error(), "test.notes 0002_broken failed, nothing of it applied") {
				t.Fatalf("got %v", err)
			}
			// Reopen without the broken migration: the good one stands,
			// the broken one left no table behind.
			g, err := gateway.Open(ctx, gateway.Options{Config: cfg, Modules: []mdk.Module{&noteModule{}}, Migrations: testMigrations()})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if _, err := g.DB().ExecContext(ctx, `SELECT 1 FROM notes.half`); err == nil {
				t.Fatal("notes.half exists: the failed migration was half-applied")
			}
			if _, err := g.DB().ExecContext(ctx, `SELECT 1 FROM notes.notes`); err != nil {
				t.Fatalf("notes.notes missing: %v", err)
			}
		})
		t.Run("ErrInitNamesModule", func(t *testing.T) {
			_, err := gateway.Open(ctx, gateway.Options{Config: cfg, Migrations: testMigrations(), Modules: []mdk.Module{
				stubModule{id: "test.broken", init: func(*mdk.Runtime) error { return errors.New("no currency configured") }},
			}})
			if err == nil || err.Error() != "module test.broken: init: no currency configured" {
				t.Fatalf("got %v", err)
			}
		})
	})
}

// catalog is the interface a consumer module declares for what it needs
// from another; the provider never sees it.
type catalog interface {
	Price(sku string) int64
}

type priceList map[string]int64

func (p priceList) Price(sku string) int64 { return p[sku] }

type providerModule struct{ stubModule }

func (p providerModule) Service() any { return priceList{"DESK-1": 19900} }

func TestLookup(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.DataDir = t.TempDir()
	var got int64
	var undeclared, wrongType error
	consumer := stubModule{id: "commerce.cart", requires: []string{"commerce.product"}, init: func(rt *mdk.Runtime) error {
		c, err := mdk.Lookup[catalog](rt, "commerce.product")
		if err != nil {
			return err
		}
		got = c.Price("DESK-1")
		_, undeclared = mdk.Lookup[catalog](rt, "commerce.order")
		_, wrongType = mdk.Lookup[interface{ Reserve() }](rt, "commerce.product")
		return nil
	}}
	g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Migrations: testMigrations(), Environ: []string{},
		Modules: []mdk.Module{consumer, providerModule{stubModule{id: "commerce.product"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got != 19900 {
		t.Fatalf("price through consumer interface = %d", got)
	}
	if undeclared == nil || !strings.Contains(undeclared.Error(), "without listing it in Requires") {
		t.Fatalf("undeclared lookup: %v", undeclared)
	}
	if wrongType == nil || !strings.Contains(wrongType.Error(), "does not implement") {
		t.Fatalf("wrong interface: %v", wrongType)
	}
}

func TestConfig(t *testing.T) {
	t.Run("Precedence", func(t *testing.T) {
		t.Setenv("HYPERRR_ADDR", "127.0.0.1:9999")
		t.Setenv("HYPERRR_LOG_LEVEL", "debug")
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		resolve := gateway.BindFlags(fs)
		if err := fs.Parse([]string{"--log-level", "warn"}); err != nil {
			t.Fatal(err)
		}
		cfg, err := resolve()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Addr != "127.0.0.1:9999" || cfg.LogLevel.String() != "WARN" || cfg.DataDir != "./hyperrr-data" {
			t.Fatalf("cfg %+v", cfg)
		}
	})
	t.Run("ErrBadValue", func(t *testing.T) {
		t.Setenv("HYPERRR_SHUTDOWN_TIMEOUT", "soon")
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		resolve := gateway.BindFlags(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		_, err := resolve()
		if err == nil || !strings.Contains(err.Error(), `HYPERRR_SHUTDOWN_TIMEOUT="soon"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ModuleSection", func(t *testing.T) {
		cfg := gateway.DefaultConfig()
		cfg.DataDir = t.TempDir()
		var ttl, bad error
		var got string
		mod := stubModule{id: "commerce.cart", init: func(rt *mdk.Runtime) error {
			got = rt.Config.String("currency", "USD")
			_, ttl = rt.Config.Duration("idle_ttl", 0)
			_, bad = rt.Config.Int("max_lines", 100)
			return nil
		}}
		g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Migrations: testMigrations(), Modules: []mdk.Module{mod},
			Environ: []string{"HYPERRR_CART_CURRENCY=EUR", "HYPERRR_CART_IDLE_TTL=24h", "HYPERRR_CART_MAX_LINES=lots"}})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if got != "EUR" || ttl != nil || bad == nil || !strings.Contains(bad.Error(), "HYPERRR_CART_MAX_LINES") {
			t.Fatalf("currency=%s ttl err=%v bad=%v", got, ttl, bad)
		}
	})
}

func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range gateway.Settings {
		if !strings.Contains(string(readme), "`"+s.Env+"`") || !strings.Contains(string(readme), "`--"+s.Flag+"`") {
			t.Errorf("README.md configuration table lacks --%s / %s", s.Flag, s.Env)
		}
	}
}

func TestKeepOutboxLeavesEventsForTheServer(t *testing.T) {
	for _, keep := range []bool{false, true} {
		cfg := gateway.DefaultConfig()
		cfg.DataDir = t.TempDir()
		g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Modules: []mdk.Module{&noteModule{}}, Migrations: testMigrations(), KeepOutbox: keep})
		if err != nil {
			t.Fatal(err)
		}
		ctx := mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant})
		if _, err := g.Ops().CallJSON(ctx, "add_note", []byte(`{"text":"from a tool"}`)); err != nil {
			t.Fatal(err)
		}
		g.Close()
		reopened, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Modules: []mdk.Module{&noteModule{}}, Migrations: testMigrations()})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := reopened.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM notes.outbox`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		reopened.Close()
		if want := map[bool]int{false: 0, true: 1}[keep]; n != want {
			t.Errorf("KeepOutbox=%v: %d events left in the outbox, want %d", keep, n, want)
		}
	}
}
