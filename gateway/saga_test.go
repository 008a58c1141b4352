package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Two modules that never import each other: test.stock registers workflow
// steps by ID; test.shop composes them into a checkout saga, declaring its
// own types for their input and output.

type stockModule struct{}

func (stockModule) ID() string         { return "test.stock" }
func (stockModule) Requires() []string { return nil }

type reserveIn struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

type reserveOut struct {
	Reservation string `json:"reservation"`
}

func (stockModule) Init(ctx context.Context, rt *mdk.Runtime) error {
	return mdk.RegisterStep(rt.Workflows, mdk.Step[reserveIn, reserveOut]{
		ID: "stock.reserve",
		Run: func(ctx context.Context, in reserveIn) (reserveOut, error) {
			key := mdk.StepKey(ctx)
			err := rt.DB.Tx(ctx, func(tx *sqldb.Tx) error {
				// Idempotent by step key: a re-run after a crash finds
				// its reservation and does not take stock twice.
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stock.reservations WHERE id = $1`, key).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return nil
				}
				res, err := tx.ExecContext(ctx, `UPDATE stock.levels SET qty = qty - $1 WHERE sku = $2 AND qty >= $1`, in.Qty, in.SKU)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 0 {
					return &mdk.Error{Code: "out_of_stock", Message: in.SKU + " has fewer than the requested units", Field: "sku"}
				}
				_, err = tx.ExecContext(ctx, `INSERT INTO stock.reservations (id, sku, qty) VALUES ($1, $2, $3)`, key, in.SKU, in.Qty)
				return err
			})
			return reserveOut{Reservation: key}, err
		},
		Compensate: func(ctx context.Context, in reserveIn, out reserveOut) error {
			return rt.DB.Tx(ctx, func(tx *sqldb.Tx) error {
				res, err := tx.ExecContext(ctx, `DELETE FROM stock.reservations WHERE id = $1`, out.Reservation)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil || n == 0 {
					return err // already released
				}
				_, err = tx.ExecContext(ctx, `UPDATE stock.levels SET qty = qty + $1 WHERE sku = $2`, in.Qty, in.SKU)
				return err
			})
		},
	})
}

type shopModule struct{}

func (shopModule) ID() string         { return "test.shop" }
func (shopModule) Requires() []string { return []string{"test.stock"} }

type checkoutIn struct {
	SKU   string `json:"sku"`
	Qty   int64  `json:"qty"`
	Token string `json:"token" jsonschema:"payment token: tok_success or tok_decline"`
	Key   string `json:"idempotency_key"`
}

type checkoutOut struct {
	Order       string `json:"order"`
	Reservation string `json:"reservation"`
}

type chargeIn struct {
	Token string `json:"token"`
}

func (shopModule) Init(ctx context.Context, rt *mdk.Runtime) error {
	if err := mdk.RegisterStep(rt.Workflows, mdk.Step[chargeIn, string]{
		ID: "payment.charge",
		Run: func(ctx context.Context, in chargeIn) (string, error) {
			if in.Token == "tok_decline" {
				return "", &mdk.Error{Code: "payment_declined", Message: "the card was declined; use another payment method"}
			}
			return "ch_" + mdk.StepKey(ctx), nil
		},
	}); err != nil {
		return err
	}
	wf := mdk.NewWorkflow[checkoutIn, checkoutOut]("test.checkout")
	reserve := mdk.AddStep[reserveOut](wf, "reserve", "stock.reserve", func(in checkoutIn, _ mdk.Results) (reserveIn, error) {
		return reserveIn{SKU: in.SKU, Qty: in.Qty}, nil
	})
	charge := mdk.AddStep[string](wf, "charge", "payment.charge", func(in checkoutIn, _ mdk.Results) (chargeIn, error) {
		return chargeIn{Token: in.Token}, nil
	}, reserve.Name())
	wf.SetOutput(func(in checkoutIn, r mdk.Results) (checkoutOut, error) {
		res, err := reserve.Output(r)
		if err != nil {
			return checkoutOut{}, err
		}
		ch, err := charge.Output(r)
		return checkoutOut{Order: ch, Reservation: res.Reservation}, err
	})
	if err := rt.Workflows.RegisterWorkflow(wf.Spec()); err != nil {
		return err
	}
	return mdk.Register(rt.Ops, mdk.Operation[checkoutIn, checkoutOut]{
		Name: "place_order", Description: "Reserve stock and charge.", Access: mdk.AccessShopper, Effect: mdk.EffectWrite,
		Handle: func(ctx context.Context, in checkoutIn) (checkoutOut, error) {
			return mdk.ExecuteSync(ctx, rt.Workflows, wf, in, in.Key)
		},
	})
}

func sagaMigrations() fstest.MapFS {
	fsys := testMigrations()
	fsys["stock/0001_init.sql"] = &fstest.MapFile{Data: []byte(`
		CREATE TABLE stock.levels (sku TEXT PRIMARY KEY, qty BIGINT NOT NULL);
		CREATE TABLE stock.reservations (id TEXT PRIMARY KEY, sku TEXT NOT NULL, qty BIGINT NOT NULL);
		INSERT INTO stock.levels (sku, qty) VALUES ('DESK-1', 5);`)}
	return fsys
}

func TestCrossModuleSaga(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg gateway.Config) {
		g, err := gateway.Open(context.Background(), gateway.Options{Config: cfg, Migrations: sagaMigrations(), Environ: []string{},
			Modules: []mdk.Module{shopModule{}, stockModule{}}})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		ctx := mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleShopper, CustomerID: "c1"})
		stock := func() int64 {
			var q int64
			if err := g.DB().QueryRowContext(ctx, `SELECT qty FROM stock.levels WHERE sku = 'DESK-1'`).Scan(&q); err != nil {
				t.Fatal(err)
			}
			return q
		}
		place := func(in checkoutIn) (checkoutOut, error) {
			return mdk.Call[checkoutIn, checkoutOut](ctx, g.Ops(), "place_order", in)
		}

		t.Run("OK", func(t *testing.T) {
			out, err := place(checkoutIn{SKU: "DESK-1", Qty: 2, Token: "tok_success", Key: "k1"})
			if err != nil || !strings.HasPrefix(out.Order, "ch_") || stock() != 3 {
				t.Fatalf("out=%+v err=%v stock=%d", out, err, stock())
			}
			again, err := place(checkoutIn{SKU: "DESK-1", Qty: 2, Token: "tok_success", Key: "k1"})
			if err != nil || again != out || stock() != 3 {
				t.Fatalf("same key ran again: %+v err=%v stock=%d", again, err, stock())
			}
		})
		t.Run("ErrDeclinedReleasesStock", func(t *testing.T) {
			_, err := place(checkoutIn{SKU: "DESK-1", Qty: 2, Token: "tok_decline", Key: "k2"})
			if mdk.ErrorCode(err) != "payment_declined" || gateway.StatusOf(err) != 422 {
				t.Fatalf("got %v", err)
			}
			if stock() != 3 {
				t.Fatalf("stock %d after compensation, want 3", stock())
			}
			var n int
			if err := g.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM stock.reservations`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("reservations left: %d err=%v, want only the completed order's", n, err)
			}
		})
		t.Run("ErrOutOfStock", func(t *testing.T) {
			_, err := place(checkoutIn{SKU: "DESK-1", Qty: 50, Token: "tok_success", Key: "k3"})
			var e *mdk.Error
			if !errors.As(err, &e) || e.Code != "out_of_stock" || e.Field != "sku" {
				t.Fatalf("got %#v", err)
			}
		})
		t.Run("ErrAnonymous", func(t *testing.T) {
			_, err := mdk.Call[checkoutIn, checkoutOut](context.Background(), g.Ops(), "place_order", checkoutIn{SKU: "DESK-1", Qty: 1, Key: "k4"})
			if mdk.ErrorCode(err) != mdk.CodeUnauthorized {
				t.Fatalf("got %v", err)
			}
		})
	})
}
