package order_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/order"
	"github.com/hyperrr/hyperrr/modules/product"
)

// strand puts checkout id back in the state a crash leaves it in: claimed
// for the saga run with key an hour ago, whatever happened since.
func (e *env) strand(t *testing.T, id, key string) {
	t.Helper()
	_, err := e.g.DB().ExecContext(context.Background(), `UPDATE "order".checkouts
		SET status = 'complete_in_progress', claim_run_key = $2, claimed_at = $3 WHERE id = $1`,
		id, "checkout/"+id+"/"+key, time.Now().Add(-time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) recover(t *testing.T, want int) {
	t.Helper()
	n, err := e.order.RecoverClaims(context.Background())
	if err != nil || n != want {
		t.Fatalf("RecoverClaims settled %d err=%v, want %d", n, err, want)
	}
}

func (e *env) status(t *testing.T, id string) order.UCPCheckout {
	t.Helper()
	return must[order.UCPCheckout](t, e.shopperA, e, "get_checkout", order.CheckoutIDInput{ID: id})
}

// TestClaimRecovery simulates a crash between claiming a checkout for
// completion and journaling its saga run, and the runs that ended without
// settling their claim, then lets the claim sweeper settle them.
func TestClaimRecovery(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		t.Run("OKClaimRecordsTheRun", func(t *testing.T) {
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
			if _, err := e.complete(e.shopperA, c.ID, "rec"); err != nil {
				t.Fatal(err)
			}
			n := e.count(t, `SELECT COUNT(*) FROM "order".checkouts c JOIN mdk.workflow_runs r ON r.run_key = c.claim_run_key
				WHERE c.id = $1 AND r.workflow_id = 'order.checkout' AND c.claimed_at > 0`, c.ID)
			if n != 1 {
				t.Fatalf("the claim names %d journaled runs, want 1", n)
			}
		})
		t.Run("OKCrashBeforeJournal", func(t *testing.T) {
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
			e.strand(t, c.ID, "lost") // claimed; no run was ever journaled
			_, err := e.complete(e.shopperA, c.ID, "retry-too-soon")
			wantErr(t, err, mdk.CodeConflict, "")
			onHand, reserved := e.stock(t, e.scarf)
			e.recover(t, 1)
			if got := e.status(t, c.ID); got.Status != order.CheckoutReady {
				t.Fatalf("recovered checkout is %s, want ready_for_complete", got.Status)
			}
			if h, r := e.stock(t, e.scarf); h != onHand || r != reserved {
				t.Fatalf("recovery moved stock: %d/%d, was %d/%d", h, r, onHand, reserved)
			}
			e.recover(t, 0)
			done, err := e.complete(e.shopperA, c.ID, "after-recovery")
			if err != nil || done.Status != order.CheckoutCompleted || done.Order == nil {
				t.Fatalf("completing the recovered checkout: %+v %v", done, err)
			}
		})
		t.Run("OKFreshClaimLeftAlone", func(t *testing.T) {
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.scarf, 1))
			e.strand(t, c.ID, "fresh")
			if _, err := e.g.DB().ExecContext(context.Background(), `UPDATE "order".checkouts SET claimed_at = $2 WHERE id = $1`,
				c.ID, time.Now().UnixMilli()); err != nil {
				t.Fatal(err)
			}
			e.recover(t, 0)
			if got := e.status(t, c.ID); got.Status != order.CheckoutInProgress {
				t.Fatalf("a claim younger than the lease became %s", got.Status)
			}
		})
		for _, tc := range []struct {
			name, token string
			want        order.CheckoutStatus
		}{
			{"OKFailedRunReopens", order.TokenDecline, order.CheckoutReady},
			{"OKEscalatedRunReopens", order.TokenEscalate, order.CheckoutRequiresEscalation},
			{"OKCompletedRunCompletes", order.TokenSuccess, order.CheckoutCompleted},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := e.ready(t, e.shopperA, tc.token, line(e.scarf, 1))
				first, _ := e.complete(e.shopperA, c.ID, "k-"+tc.token)
				e.strand(t, c.ID, "k-"+tc.token) // the run ended, its claim did not
				e.recover(t, 1)
				got := e.status(t, c.ID)
				if got.Status != tc.want {
					t.Fatalf("checkout is %s after recovery, want %s", got.Status, tc.want)
				}
				if tc.want == order.CheckoutCompleted && (got.Order == nil || first.Order == nil || got.Order.ID != first.Order.ID) {
					t.Fatalf("completed checkout names order %+v, the run placed %+v", got.Order, first.Order)
				}
			})
		}
		t.Run("OKSweeperRuns", func(t *testing.T) {
			// The sweeper of a gateway that serves: HYPERRR_ORDER_* below.
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(e.table, 1))
			e.strand(t, c.ID, "swept")
			if err := e.g.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for e.status(t, c.ID).Status != order.CheckoutReady {
				if time.Now().After(deadline) {
					t.Fatal("the sweeper did not settle the stuck claim")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}, "HYPERRR_ORDER_SWEEP_INTERVAL=30ms", "HYPERRR_ORDER_CLAIM_LEASE=1m")
}

func TestClaimSettings(t *testing.T) {
	for _, v := range []string{"HYPERRR_ORDER_CLAIM_LEASE=0s", "HYPERRR_ORDER_SWEEP_INTERVAL=-1s"} {
		name, _, _ := strings.Cut(v, "=")
		t.Run("Err"+name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			cfg.DataDir = t.TempDir()
			_, err := gateway.Open(context.Background(), gateway.Options{Config: cfg,
				Modules: []mdk.Module{product.New(), cart.New(), order.New()},
				Environ: []string{v}, Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("got %v, want an error naming %s", err, name)
			}
		})
	}
}
