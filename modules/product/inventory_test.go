package product_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
)

// stock reads a variant's inventory as the merchant sees it.
func (env *catalogEnv) stock(t *testing.T, variantID string) product.Inventory {
	t.Helper()
	p, err := call[product.IDInput, product.Product](env.merchant, env, "get_product_admin", product.IDInput{ID: variantID})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range p.Variants {
		if v.ID == variantID {
			return v.Inventory
		}
	}
	t.Fatalf("variant %s not in %s", variantID, p.ID)
	return product.Inventory{}
}

func reserveOne(ctx context.Context, env *catalogEnv, variantID string, qty int64) (product.ReserveOutput, error) {
	return env.m.Reserve(ctx, product.ReserveInput{Lines: []product.ReserveLine{{VariantID: variantID, Quantity: qty}}})
}

func inStep(run, node string) context.Context {
	return mdk.WithStepScope(context.Background(), mdk.StepScope{RunID: run, Node: node, Attempt: 1})
}

func TestReserveConcurrently(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		v := env.create(t, scarf("LAST-10", 10)).Variants[0]
		const workers = 64
		var (
			wg                    sync.WaitGroup
			mu                    sync.Mutex
			ok, outOfStock, other int
		)
		start := make(chan struct{})
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := reserveOne(context.Background(), env, v.ID, 1)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case mdk.ErrorCode(err) == product.CodeOutOfStock:
					outOfStock++
				default:
					other++
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		began := time.Now()
		close(start)
		wg.Wait()
		t.Logf("%d concurrent reservations in %s", workers, time.Since(began))
		if ok != 10 || outOfStock != workers-10 || other != 0 {
			t.Fatalf("ok=%d out_of_stock=%d other=%d", ok, outOfStock, other)
		}
		if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 10, Reserved: 10, Available: 0}) {
			t.Fatalf("stock %+v", inv)
		}
	})
}

func TestReserve(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		p := env.create(t, table())
		small, large := variantBySKU(t, p, "OAK-S-N"), variantBySKU(t, p, "OAK-L-D") // 3 and 1 units
		t.Run("ErrAllOrNothing", func(t *testing.T) {
			n := len(env.events(t))
			_, err := env.m.Reserve(context.Background(), product.ReserveInput{Lines: []product.ReserveLine{
				{VariantID: small.ID, Quantity: 2}, {VariantID: large.ID, Quantity: 2},
			}})
			e := wantErr(t, err, product.CodeOutOfStock, "lines[1].quantity")
			if !strings.Contains(e.Message, "OAK-L-D has only 1 available") {
				t.Fatalf("message %q", e.Message)
			}
			if inv := env.stock(t, small.ID); inv.Reserved != 0 {
				t.Fatalf("first line kept its hold: %+v", inv)
			}
			if evs := env.eventsSince(t, n); len(evs) != 0 {
				t.Fatalf("a failed reservation emitted %+v", evs)
			}
		})
		t.Run("OKIdempotentByStepKey", func(t *testing.T) {
			ctx := inStep("run-1", "reserve")
			in := product.ReserveInput{Lines: []product.ReserveLine{{VariantID: small.ID, Quantity: 2}, {VariantID: large.ID, Quantity: 1}}}
			n := len(env.events(t))
			first, err := env.m.Reserve(ctx, in)
			if err != nil || len(first.Reservations) != 2 || first.Reservations[1].VariantID != large.ID || first.Reservations[0].Status != product.ReservationHeld {
				t.Fatalf("first %+v err=%v", first, err)
			}
			again, err := env.m.Reserve(ctx, in)
			if err != nil || again.IDs()[0] != first.IDs()[0] || again.IDs()[1] != first.IDs()[1] {
				t.Fatalf("again %+v err=%v", again, err)
			}
			if inv := env.stock(t, small.ID); inv.Reserved != 2 {
				t.Fatalf("re-run took stock twice: %+v", inv)
			}
			if evs := env.eventsSince(t, n); len(evs) != 2 || evs[0].Type != product.EventInventoryChanged {
				t.Fatalf("events %+v", evs)
			}
			_, err = env.m.Reserve(ctx, product.ReserveInput{Lines: []product.ReserveLine{{VariantID: small.ID, Quantity: 1}}})
			wantErr(t, err, mdk.CodeConflict, "lines[0]")

			t.Run("OKReleaseIdempotent", func(t *testing.T) {
				ids := product.SettleInput{ReservationIDs: first.IDs()}
				for range 2 {
					out, err := env.m.Release(context.Background(), ids)
					if err != nil || out.Reservations[0].Status != product.ReservationReleased {
						t.Fatalf("release %+v err=%v", out, err)
					}
				}
				if inv := env.stock(t, small.ID); inv != (product.Inventory{OnHand: 3, Available: 3}) {
					t.Fatalf("after release %+v", inv)
				}
				_, err := env.m.Commit(context.Background(), ids)
				wantErr(t, err, mdk.CodeConflict, "reservation_ids[0]")
			})
		})
		t.Run("OKCommitIdempotent", func(t *testing.T) {
			res, err := reserveOne(context.Background(), env, small.ID, 2)
			if err != nil {
				t.Fatal(err)
			}
			ids := product.SettleInput{ReservationIDs: res.IDs()}
			for range 2 {
				out, err := env.m.Commit(context.Background(), ids)
				if err != nil || out.Reservations[0].Status != product.ReservationCommitted {
					t.Fatalf("commit %+v err=%v", out, err)
				}
			}
			if inv := env.stock(t, small.ID); inv != (product.Inventory{OnHand: 1, Available: 1}) {
				t.Fatalf("after commit %+v", inv)
			}
			_, err = env.m.Release(context.Background(), ids)
			wantErr(t, err, mdk.CodeConflict, "reservation_ids[0]")
		})
		t.Run("ErrNotForSale", func(t *testing.T) {
			draft := scarf("DRAFT-1", 5)
			draft.Status = product.StatusDraft
			d := env.create(t, draft)
			_, err := reserveOne(context.Background(), env, d.Variants[0].ID, 1)
			wantErr(t, err, mdk.CodeConflict, "lines[0].variant_id")
			_, err = reserveOne(context.Background(), env, "var_nope", 1)
			wantErr(t, err, mdk.CodeNotFound, "lines[0].variant_id")
			_, err = reserveOne(context.Background(), env, small.ID, 0)
			wantErr(t, err, mdk.CodeInvalid, "lines[0].quantity")
			_, err = env.m.Release(context.Background(), product.SettleInput{ReservationIDs: []string{"res_nope"}})
			wantErr(t, err, mdk.CodeNotFound, "reservation_ids[0]")
		})
	})
}

func TestReservationExpiry(t *testing.T) {
	const ttl = 300 * time.Millisecond
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		v := env.create(t, scarf("EXPIRE-1", 4)).Variants[0]
		t.Run("ErrCommitAfterExpiry", func(t *testing.T) {
			res, err := reserveOne(context.Background(), env, v.ID, 1)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(ttl + 50*time.Millisecond)
			_, err = env.m.Commit(context.Background(), product.SettleInput{ReservationIDs: res.IDs()})
			wantErr(t, err, product.CodeReservationExpired, "reservation_ids[0]")
			if inv := env.stock(t, v.ID); inv.OnHand != 4 {
				t.Fatalf("a failed commit took stock: %+v", inv)
			}
		})
		t.Run("OKSweeperReturnsUnits", func(t *testing.T) {
			res, err := reserveOne(context.Background(), env, v.ID, 2)
			if err != nil {
				t.Fatal(err)
			}
			if inv := env.stock(t, v.ID); inv.Reserved != 3 {
				t.Fatalf("before sweep %+v", inv)
			}
			n := len(env.events(t))
			if err := env.m.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for env.stock(t, v.ID).Reserved != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("sweeper did not expire: %+v", env.stock(t, v.ID))
				}
				time.Sleep(20 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := env.m.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 4, Available: 4}) {
				t.Fatalf("after sweep %+v", inv)
			}
			if evs := env.eventsSince(t, n); len(evs) != 2 || evs[0].Type != product.EventInventoryChanged {
				t.Fatalf("sweeper events %+v", evs)
			}
			out, err := env.m.Release(context.Background(), product.SettleInput{ReservationIDs: res.IDs()})
			if err != nil || out.Reservations[0].Status != product.ReservationExpired {
				t.Fatalf("release of expired %+v err=%v", out, err)
			}
			_, err = env.m.Commit(context.Background(), product.SettleInput{ReservationIDs: res.IDs()})
			if mdk.ErrorCode(err) != product.CodeReservationExpired {
				t.Fatalf("commit of expired: %v", err)
			}
		})
	}, "HYPERRR_PRODUCT_RESERVATION_TTL="+ttl.String(), "HYPERRR_PRODUCT_SWEEP_INTERVAL=25ms")
}

// sell reserves and commits qty units of a variant, as a placed order does.
func sell(t *testing.T, env *catalogEnv, variantID string, qty int64) product.ReserveOutput {
	t.Helper()
	res, err := reserveOne(context.Background(), env, variantID, qty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.m.Commit(context.Background(), product.SettleInput{ReservationIDs: res.IDs()}); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRestock(t *testing.T) {
	eachCatalog(t, func(t *testing.T, env *catalogEnv) {
		v := env.create(t, scarf("RESTOCK-1", 5)).Variants[0]
		t.Run("OKCommittedUnitsReturn", func(t *testing.T) {
			res := sell(t, env, v.ID, 2)
			if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 3, Available: 3}) {
				t.Fatalf("after commit %+v", inv)
			}
			n := len(env.events(t))
			in := product.RestockInput{ReservationIDs: append(res.IDs(), res.IDs()[0])}
			for range 2 {
				out, err := env.m.Restock(inStep("run-restock", "restock"), in)
				if err != nil || len(out.Reservations) != 2 || out.Reservations[0].Status != product.ReservationReturned {
					t.Fatalf("restock %+v err=%v", out, err)
				}
			}
			if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 5, Available: 5}) {
				t.Fatalf("after restock %+v", inv)
			}
			evs := env.eventsSince(t, n)
			if len(evs) != 1 || evs[0].Type != product.EventInventoryChanged {
				t.Fatalf("restock events %+v, want one inventory.changed", evs)
			}
			var ev product.InventoryEvent
			if err := json.Unmarshal(evs[0].Data, &ev); err != nil || ev.VariantID != v.ID || ev.OnHand != 5 || ev.Available != 5 {
				t.Fatalf("event data %s err=%v", evs[0].Data, err)
			}
			if _, err := env.m.Release(context.Background(), product.SettleInput{ReservationIDs: res.IDs()}); err != nil {
				t.Fatalf("release of a returned reservation: %v", err)
			}
			_, err := env.m.Commit(context.Background(), product.SettleInput{ReservationIDs: res.IDs()})
			wantErr(t, err, mdk.CodeConflict, "reservation_ids[0]")
			if inv := env.stock(t, v.ID); inv.OnHand != 5 {
				t.Fatalf("settling a returned reservation moved stock: %+v", inv)
			}
		})
		t.Run("OKHeldIsReleased", func(t *testing.T) {
			res, err := reserveOne(context.Background(), env, v.ID, 3)
			if err != nil {
				t.Fatal(err)
			}
			out, err := env.m.Restock(context.Background(), product.RestockInput{ReservationIDs: res.IDs()})
			if err != nil || out.Reservations[0].Status != product.ReservationReleased {
				t.Fatalf("restock of held %+v err=%v", out, err)
			}
			if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 5, Available: 5}) {
				t.Fatalf("after restock of held %+v", inv)
			}
			n := len(env.events(t))
			out, err = env.m.Restock(context.Background(), product.RestockInput{ReservationIDs: res.IDs()})
			if err != nil || out.Reservations[0].Status != product.ReservationReleased {
				t.Fatalf("restock of released %+v err=%v", out, err)
			}
			if evs := env.eventsSince(t, n); len(evs) != 0 {
				t.Fatalf("restock of a released reservation emitted %+v", evs)
			}
		})
		t.Run("OKConcurrent", func(t *testing.T) {
			res := sell(t, env, v.ID, 4)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if _, err := env.m.Restock(context.Background(), product.RestockInput{ReservationIDs: res.IDs()}); err != nil {
						t.Errorf("concurrent restock: %v", err)
					}
				})
			}
			wg.Wait()
			if inv := env.stock(t, v.ID); inv != (product.Inventory{OnHand: 5, Available: 5}) {
				t.Fatalf("after concurrent restocks %+v, want 5 on hand", inv)
			}
		})
		t.Run("OKEmpty", func(t *testing.T) {
			out, err := env.m.Restock(context.Background(), product.RestockInput{})
			if err != nil || len(out.Reservations) != 0 {
				t.Fatalf("empty restock %+v err=%v", out, err)
			}
		})
		t.Run("ErrInput", func(t *testing.T) {
			_, err := env.m.Restock(context.Background(), product.RestockInput{ReservationIDs: []string{"res_nope"}})
			wantErr(t, err, mdk.CodeNotFound, "reservation_ids[0]")
			_, err = env.m.Restock(context.Background(), product.RestockInput{ReservationIDs: []string{""}})
			wantErr(t, err, mdk.CodeInvalid, "reservation_ids[0]")
		})
	})
}
