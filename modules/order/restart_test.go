package order_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/order"
	"github.com/hyperrr/hyperrr/modules/product"
)

// restartLease is the workflow lease of the gateways in these tests: short,
// so that a crashed instance's run is resumed quickly.
const restartLease = 300 * time.Millisecond

// instance is one serving gateway process over a shared database, with an
// env to drive it.
type instance struct {
	*env
	stop func()
	// placed counts the order.placed events this gateway's relay
	// delivered: with the relay running, they leave the outbox.
	placed atomic.Int64
}

// serveInstance opens a gateway named id on db with the given provider and
// serves it until stop (or the test's end). shutdown is how long its
// shutdown may wait for a step in flight: a tiny one makes stop a crash.
func serveInstance(t *testing.T, db sqldb.Config, pay order.Provider, id string, shutdown time.Duration, environ ...string) *instance {
	t.Helper()
	cfg := gateway.DefaultConfig()
	cfg.DataDir, cfg.DatabaseURL = db.DataDir, db.URL
	cfg.InstanceID, cfg.WorkflowLease, cfg.ShutdownTimeout = id, restartLease, shutdown
	g := gatewaytest.New(t, gateway.Options{
		Config: cfg, Modules: []mdk.Module{product.New(), cart.New(), order.New(order.WithProvider(pay))}, Environ: environ,
	})
	in := &instance{}
	err := g.Bus().Subscribe(mdk.Subscription{Name: "test.placed", Types: []string{order.EventOrderPlaced}, Delivery: mdk.Broadcast},
		func(context.Context, mdk.Event) error { in.placed.Add(1); return nil })
	if err != nil {
		g.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("serve %s: %v", id, err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("gateway %s did not stop within 10s", id)
			}
		})
	}
	t.Cleanup(stop)
	waitServing(t, "http://"+ln.Addr().String()+"/healthz")
	bg := context.Background()
	in.stop, in.env = stop, &env{
		g:        g,
		merchant: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleMerchant, KeyID: "m1"}),
		shopperA: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleShopper, CustomerID: "cust_a"}),
		anon:     bg,
	}
	return in
}

// waitServing waits until url answers 200: the gateway has started its
// modules and workers and serves HTTP, as a process taking traffic would.
func waitServing(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		res, err := http.Get(url)
		if err == nil {
			if err := res.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not serving after 20s (%v)", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// placedEvents waits until the outbox holds no order.placed and returns how
// many the instances delivered.
func placedEvents(t *testing.T, outbox *env, instances ...*instance) int64 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); outbox.count(t, `SELECT COUNT(*) FROM "order".outbox WHERE type = 'order.placed'`) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("order.placed still in the outbox after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var n int64
	for _, in := range instances {
		n += in.placed.Load()
	}
	return n
}

// holdAuthorize makes the next Authorize on pay block once it holds the
// funds: it signals entered, then waits for release or for its context to
// end (the process dying), returning the context's error.
func holdAuthorize(pay *order.TestProvider, release <-chan struct{}) (entered <-chan struct{}) {
	ch := make(chan struct{})
	var held atomic.Bool
	pay.SetAfterAuthorize(func(ctx context.Context, _ string, _ order.Authorization) error {
		if !held.CompareAndSwap(false, true) {
			return nil
		}
		close(ch)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return ch
}

func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
}

// checkoutRun returns the ID of checkout id's saga run.
func (e *env) checkoutRun(t *testing.T, id string) string {
	t.Helper()
	var run string
	if err := e.g.DB().QueryRowContext(context.Background(),
		`SELECT id FROM mdk.workflow_runs WHERE workflow_id = 'order.checkout' AND input LIKE $1`, "%"+id+"%").Scan(&run); err != nil {
		t.Fatalf("find the saga run of checkout %s: %v", id, err)
	}
	return run
}

// A gateway that dies after the payment provider authorized but before the
// saga journaled it leaves the run live; another gateway on the same
// database, talking to the same provider, resumes it once the lease expires
// and completes the checkout: one confirmed order, one authorization (the
// re-run step reaches the provider again under the same idempotency key),
// stock committed once, one order.placed.
func TestCheckoutResumesAfterCrash(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			db := dbtest.Config(t, engine)
			pay := order.NewTestProvider()
			entered := holdAuthorize(pay, nil)

			a := serveInstance(t, db, pay, "instance-a", time.Millisecond)
			scarf := a.product(t, "Red Wool Scarf", "SCARF", 2500, 5)
			c := a.ready(t, a.shopperA, order.TokenSuccess, line(scarf, 2))
			req, cancelReq := context.WithCancel(a.shopperA)
			defer cancelReq()
			answered := make(chan error, 1)
			go func() {
				_, err := a.complete(req, c.ID, "key-1")
				answered <- err
			}()
			await(t, entered, "payment authorized on instance a")
			if _, reserved := a.stock(t, scarf); reserved != 2 {
				t.Fatalf("reserved %d before the crash, want 2", reserved)
			}
			run := a.checkoutRun(t, c.ID)
			cancelReq() // the client goes away with the process
			if err := <-answered; err == nil {
				t.Fatal("complete_checkout answered on a dying instance")
			}
			a.stop() // the shutdown deadline passes at once: the engine stops hard
			died := time.Now()
			if pay.Authorizations() != 1 || pay.Calls() != 1 {
				t.Fatalf("at the crash the provider holds %d authorizations from %d calls, want 1 and 1", pay.Authorizations(), pay.Calls())
			}

			b := serveInstance(t, db, pay, "instance-b", 5*time.Second)
			raw, err := b.g.Workflows().Wait(waitFor(t, 20*time.Second), run)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			if waited := time.Since(died); waited < restartLease/2 {
				t.Errorf("resumed %v after the crash, before the lease (%v) could expire", waited, restartLease)
			}
			info, err := b.g.Workflows().Run(context.Background(), run)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range info.Steps {
				want := 1
				if s.Node == "authorize" {
					want = 2 // interrupted on a, run again on b
				}
				if s.Status != "completed" || s.Attempts != want {
					t.Errorf("step %s %s after %d attempts, want completed after %d", s.Node, s.Status, s.Attempts, want)
				}
			}

			if got, want := pay.Authorizations(), 1; got != want {
				t.Errorf("provider holds %d authorizations, want %d", got, want)
			}
			if got, want := pay.Calls(), 2; got != want {
				t.Errorf("Authorize called %d times, want %d (once per attempt of the step)", got, want)
			}
			chk := must[order.UCPCheckout](t, b.shopperA, b.env, "get_checkout", order.CheckoutIDInput{ID: c.ID})
			if chk.Status != order.CheckoutCompleted || chk.Order == nil {
				t.Fatalf("checkout %s, order %+v; want completed with an order", chk.Status, chk.Order)
			}
			var ref struct {
				OrderID string `json:"order_id"`
			}
			if err := json.Unmarshal(raw, &ref); err != nil || ref.OrderID != chk.Order.ID {
				t.Errorf("run output %s (%v), want order %s", raw, err, chk.Order.ID)
			}
			if n := b.count(t, `SELECT COUNT(*) FROM "order".orders WHERE checkout_id = $1`, c.ID); n != 1 {
				t.Errorf("%d orders for the checkout, want 1", n)
			}
			if n := b.count(t, `SELECT COUNT(*) FROM "order".orders WHERE checkout_id = $1 AND status = 'confirmed' AND payment_status = 'authorized' AND payment_id <> ''`, c.ID); n != 1 {
				t.Errorf("%d confirmed, authorized orders, want 1", n)
			}
			if onHand, reserved := b.stock(t, scarf); onHand != 3 || reserved != 0 {
				t.Errorf("stock on hand %d reserved %d, want 3 and 0", onHand, reserved)
			}
			if n := placedEvents(t, b.env, a, b); n != 1 {
				t.Errorf("%d order.placed events delivered, want 1", n)
			}

			// The client retries its lost request: the completed checkout
			// comes back and nothing is charged again.
			again, err := b.complete(b.shopperA, c.ID, "key-1")
			if err != nil || again.Status != order.CheckoutCompleted {
				t.Fatalf("retry after the crash: %s, %v", again.Status, err)
			}
			if pay.Authorizations() != 1 || pay.Calls() != 2 {
				t.Errorf("retry reached the provider: %d authorizations, %d calls", pay.Authorizations(), pay.Calls())
			}
		})
	}
}

// A checkout whose reservation lapses while payment is pending gets its
// units back from the product sweeper; the saga then fails to commit with
// reservation_expired, voids the payment and cancels the order, and the
// buyer can complete again.
func TestExpiredReservationIsReleased(t *testing.T) {
	const ttl = time.Second
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			pay := order.NewTestProvider()
			release := make(chan struct{})
			entered := holdAuthorize(pay, release)
			e := serveInstance(t, dbtest.Config(t, engine), pay, "instance", 5*time.Second,
				"HYPERRR_PRODUCT_RESERVATION_TTL="+ttl.String(), "HYPERRR_PRODUCT_SWEEP_INTERVAL=25ms")
			scarf := e.product(t, "Red Wool Scarf", "SCARF", 2500, 5)
			c := e.ready(t, e.shopperA, order.TokenSuccess, line(scarf, 2))
			answered := make(chan error, 1)
			go func() {
				_, err := e.complete(e.shopperA, c.ID, "key-1")
				answered <- err
			}()
			await(t, entered, "payment authorized")
			if _, reserved := e.stock(t, scarf); reserved != 2 {
				t.Fatalf("reserved %d while paying, want 2", reserved)
			}
			deadline := time.Now().Add(ttl + 10*time.Second)
			for {
				if _, reserved := e.stock(t, scarf); reserved == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reservation still held %v after its TTL", time.Until(deadline)+ttl+10*time.Second)
				}
				time.Sleep(10 * time.Millisecond)
			}
			close(release)
			wantErr(t, <-answered, product.CodeReservationExpired, "")

			if onHand, reserved := e.stock(t, scarf); onHand != 5 || reserved != 0 {
				t.Errorf("stock on hand %d reserved %d after the expired checkout, want 5 and 0", onHand, reserved)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM "order".orders WHERE checkout_id = $1 AND status = 'canceled' AND payment_status = 'voided'`, c.ID); n != 1 {
				t.Errorf("%d canceled orders with a voided payment, want 1", n)
			}
			chk := must[order.UCPCheckout](t, e.shopperA, e.env, "get_checkout", order.CheckoutIDInput{ID: c.ID})
			if chk.Status != order.CheckoutReady {
				t.Fatalf("checkout %s after the expired attempt, want %s", chk.Status, order.CheckoutReady)
			}
			// The failed attempt never announced an order: order.placed
			// comes from the last step, after stock is committed.
			if n := placedEvents(t, e.env, e); n != 0 {
				t.Errorf("%d order.placed events for a checkout that failed, want 0", n)
			}

			done, err := e.complete(e.shopperA, c.ID, "key-2")
			if err != nil || done.Status != order.CheckoutCompleted {
				t.Fatalf("complete again: %s, %v", done.Status, err)
			}
			if onHand, reserved := e.stock(t, scarf); onHand != 3 || reserved != 0 {
				t.Errorf("stock on hand %d reserved %d after completing, want 3 and 0", onHand, reserved)
			}
		})
	}
}

func waitFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
