package product_test

import (
	"context"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/product"
)

// shopModule composes the inventory steps into a checkout saga the way the
// order module will: by step ID, with its own copies of the step types.
type shopModule struct{}

func (shopModule) ID() string         { return "test.shop" }
func (shopModule) Requires() []string { return nil }

type shopLine struct {
	VariantID string `json:"variant_id"`
	Quantity  int64  `json:"quantity"`
}

type shopReserveIn struct {
	Lines []shopLine `json:"lines"`
}

type shopReservation struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type shopReserveOut struct {
	Reservations []shopReservation `json:"reservations"`
}

type shopSettleIn struct {
	ReservationIDs []string `json:"reservation_ids"`
}

type shopCheckoutIn struct {
	Lines   []shopLine `json:"lines"`
	Decline bool       `json:"decline"`
}

type shopCheckoutOut struct {
	Reservations []shopReservation `json:"reservations"`
}

var shopCheckout = func() *mdk.Workflow[shopCheckoutIn, shopCheckoutOut] {
	wf := mdk.NewWorkflow[shopCheckoutIn, shopCheckoutOut]("test.checkout")
	reserve := mdk.AddStep[shopReserveOut](wf, "reserve", product.StepReserve, func(in shopCheckoutIn, _ mdk.Results) (shopReserveIn, error) {
		return shopReserveIn{Lines: in.Lines}, nil
	})
	pay := mdk.AddStep[bool](wf, "pay", "test.pay", func(in shopCheckoutIn, _ mdk.Results) (bool, error) { return in.Decline, nil }, reserve.Name())
	commit := mdk.AddStep[shopReserveOut](wf, "commit", product.StepCommit, func(in shopCheckoutIn, r mdk.Results) (shopSettleIn, error) {
		res, err := reserve.Output(r)
		ids := make([]string, len(res.Reservations))
		for i, x := range res.Reservations {
			ids[i] = x.ID
		}
		return shopSettleIn{ReservationIDs: ids}, err
	}, pay.Name())
	wf.SetOutput(func(_ shopCheckoutIn, r mdk.Results) (shopCheckoutOut, error) {
		out, err := commit.Output(r)
		return shopCheckoutOut(out), err
	})
	return wf
}()

func (shopModule) Init(ctx context.Context, rt *mdk.Runtime) error {
	if err := mdk.RegisterStep(rt.Workflows, mdk.Step[bool, bool]{
		ID: "test.pay",
		Run: func(ctx context.Context, decline bool) (bool, error) {
			if decline {
				return false, &mdk.Error{Code: "payment_declined", Message: "the card was declined"}
			}
			return true, nil
		},
	}); err != nil {
		return err
	}
	return rt.Workflows.RegisterWorkflow(shopCheckout.Spec())
}

func TestCheckoutSaga(t *testing.T) {
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := openCatalog(t, e, []mdk.Module{shopModule{}})
			g := env.g
			v := env.create(t, scarf("SAGA-1", 5)).Variants[0]
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			t.Run("OK", func(t *testing.T) {
				out, err := mdk.ExecuteSync(ctx, g.Workflows(), shopCheckout, shopCheckoutIn{Lines: []shopLine{{VariantID: v.ID, Quantity: 2}}}, "order-1")
				if err != nil || len(out.Reservations) != 1 || out.Reservations[0].Status != "committed" {
					t.Fatalf("out %+v err=%v", out, err)
				}
				if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 3, Available: 3}) {
					t.Fatalf("stock %+v", inv)
				}
			})
			t.Run("ErrDeclinedReleasesStock", func(t *testing.T) {
				_, err := mdk.ExecuteSync(ctx, g.Workflows(), shopCheckout, shopCheckoutIn{Lines: []shopLine{{VariantID: v.ID, Quantity: 2}}, Decline: true}, "order-2")
				if mdk.ErrorCode(err) != "payment_declined" {
					t.Fatalf("got %v", err)
				}
				if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 3, Available: 3}) {
					t.Fatalf("compensation left %+v", inv)
				}
			})
			t.Run("ErrOutOfStock", func(t *testing.T) {
				_, err := mdk.ExecuteSync(ctx, g.Workflows(), shopCheckout, shopCheckoutIn{Lines: []shopLine{{VariantID: v.ID, Quantity: 4}}}, "order-3")
				if mdk.ErrorCode(err) != product.CodeOutOfStock {
					t.Fatalf("got %v", err)
				}
			})
		})
	}
}
