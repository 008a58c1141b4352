package product_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product"
)

func TestOperations(t *testing.T) {
	env := openCatalog(t, sqldb.SQLite, nil)
	want := map[string]struct {
		access     mdk.Access
		effect     mdk.Effect
		idempotent bool
	}{
		"get_product":       {mdk.AccessPublic, mdk.EffectRead, true},
		"lookup_catalog":    {mdk.AccessPublic, mdk.EffectRead, true},
		"create_product":    {mdk.AccessMerchant, mdk.EffectWrite, false},
		"update_product":    {mdk.AccessMerchant, mdk.EffectWrite, true},
		"archive_product":   {mdk.AccessMerchant, mdk.EffectDestructive, true},
		"add_variant":       {mdk.AccessMerchant, mdk.EffectWrite, false},
		"update_variant":    {mdk.AccessMerchant, mdk.EffectWrite, true},
		"remove_variant":    {mdk.AccessMerchant, mdk.EffectDestructive, true},
		"set_stock":         {mdk.AccessMerchant, mdk.EffectWrite, true},
		"list_low_stock":    {mdk.AccessMerchant, mdk.EffectRead, true},
		"get_product_admin": {mdk.AccessMerchant, mdk.EffectRead, true},
		"list_products":     {mdk.AccessMerchant, mdk.EffectRead, true},
	}
	t.Run("OKRegistered", func(t *testing.T) {
		for name, w := range want {
			info, ok := env.g.Ops().Lookup(name)
			if !ok || info.Access != w.access || info.Effect != w.effect || info.Idempotent != w.idempotent || len(info.Description) < 80 {
				t.Errorf("%s: %+v", name, info)
			}
		}
	})
	t.Run("ErrAnonymousAndShopperCannotManage", func(t *testing.T) {
		for name, w := range want {
			if w.access != mdk.AccessMerchant {
				continue
			}
			_, err := env.g.Ops().CallJSON(env.anonym, name, json.RawMessage(`{}`))
			if mdk.ErrorCode(err) != mdk.CodeUnauthorized {
				t.Errorf("anonymous %s: %v", name, err)
			}
			_, err = env.g.Ops().CallJSON(env.shopper, name, json.RawMessage(`{}`))
			if mdk.ErrorCode(err) != mdk.CodeForbidden {
				t.Errorf("shopper %s: %v", name, err)
			}
		}
	})
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name, env, want string
	}{
		{"ErrCurrency", "HYPERRR_PRODUCT_CURRENCY=usd", "HYPERRR_PRODUCT_CURRENCY"},
		{"ErrTTL", "HYPERRR_PRODUCT_RESERVATION_TTL=soon", "HYPERRR_PRODUCT_RESERVATION_TTL"},
		{"ErrThreshold", "HYPERRR_PRODUCT_LOW_STOCK_THRESHOLD=-1", "HYPERRR_PRODUCT_LOW_STOCK_THRESHOLD"},
		{"ErrSweep", "HYPERRR_PRODUCT_SWEEP_INTERVAL=0s", "HYPERRR_PRODUCT_SWEEP_INTERVAL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			cfg.DataDir = t.TempDir()
			_, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Modules: []mdk.Module{product.New()},
				Environ: []string{tc.env}, Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("OKCurrency", func(t *testing.T) {
		env := openCatalog(t, sqldb.SQLite, nil, "HYPERRR_PRODUCT_CURRENCY=EUR")
		if p := env.create(t, scarf("EUR-1", 1)); p.Variants[0].Price.Currency != "EUR" {
			t.Fatalf("currency %s", p.Variants[0].Price.Currency)
		}
	})
}

// catalogVariant and catalogService are what a consumer module (the cart)
// declares: no import of modules/product is needed to satisfy them.
type catalogVariant = struct {
	ID, ProductID, ProductTitle, Title, SKU string
	Price                                   int64
	Currency                                string
	Available                               int64
	Status                                  string
	ImageURL                                string
}

type catalogService interface {
	Variants(ctx context.Context, ids []string) ([]catalogVariant, error)
}

// cartModule looks the catalog up the way a real consumer does.
type cartModule struct{ catalog catalogService }

func (*cartModule) ID() string         { return "test.cart" }
func (*cartModule) Requires() []string { return []string{product.ModuleID} }
func (c *cartModule) Init(_ context.Context, rt *mdk.Runtime) error {
	var err error
	c.catalog, err = mdk.Lookup[catalogService](rt, product.ModuleID)
	return err
}

func TestCatalogService(t *testing.T) {
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			cart := &cartModule{}
			env := openCatalog(t, e, []mdk.Module{cart})
			p := env.create(t, table())
			draftIn := scarf("DRAFT-1", 3)
			draftIn.Status = product.StatusDraft
			draft := env.create(t, draftIn)
			ids := []string{variantBySKU(t, p, "OAK-L-N").ID, "var_unknown", draft.Variants[0].ID}
			got, err := cart.catalog.Variants(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("[{%s %s Oak Coffee Table Large / Natural OAK-L-N 29900 USD 8 active https://cdn.example.com/oak-table.jpg} {%s %s Red Wool Scarf Default DRAFT-1 2500 USD 3 draft }]",
				ids[0], p.ID, ids[2], draft.ID)
			if fmt.Sprint(got) != want {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	m := product.New()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
