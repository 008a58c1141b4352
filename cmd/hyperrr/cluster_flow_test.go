package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestCluster runs three instances of the real binary on one PostgreSQL
// database and one NATS server: the catalog converges on every instance,
// checkouts survive an instance killed mid-run, and a NATS outage loses no
// event.
func TestCluster(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	a, b, cc := c.instances[0], c.instances[1], c.instances[2]

	t.Run("SearchOnEveryInstance", func(t *testing.T) {
		p, err := c.createProduct(a, "Zanzibar Teapot", "TEAPOT-1", 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []*instance{b, cc} {
			took := waitFor(t, time.Second, "the new product in search on "+in.name, func() bool { return c.finds(in, "zanzibar teapot", p.ID) })
			t.Logf("found on %s after %s", in.name, took.Round(time.Millisecond))
		}
	})

	t.Run("CheckoutsSurviveKill", func(t *testing.T) {
		c.checkoutsWithKill(t, a, []*instance{a, b, cc})
	})

	t.Run("NATSOutageLosesNothing", func(t *testing.T) {
		c.natsOutage(t, []*instance{b, cc})
	})
}

type checkoutJob struct {
	id   string
	key  string
	cart string
}

const (
	checkouts   = 45
	mugStock    = 1000
	placedTopic = "hyperrr.events.order.placed"
)

// prepareCheckouts makes n ready checkouts from carts, spread over live,
// checkout i buying one unit of variants[i%len(variants)].
func (c *cluster) prepareCheckouts(t testing.TB, variants []string, live []*instance, n int) []checkoutJob {
	jobs := make([]checkoutJob, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	slots := make(chan struct{}, 16)
	for i := range jobs {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			in := live[i%len(live)]
			variant := variants[i%len(variants)]
			var cart, chk struct {
				ID string `json:"id"`
			}
			err := in.call(c.shopper, "create_cart", map[string]any{"line_items": []map[string]any{{"item": map[string]any{"id": variant}, "quantity": 1}}}, &cart)
			if err == nil {
				err = in.call(c.shopper, "create_checkout", map[string]any{"cart_id": cart.ID}, &chk)
			}
			if err == nil {
				err = in.call(c.shopper, "update_checkout", map[string]any{
					"id": chk.ID, "buyer": map[string]any{"email": "ada@example.com", "first_name": "Ada"},
					"shipping_address": map[string]any{
						"street_address": "1 Main St", "address_locality": "San Francisco", "address_region": "CA",
						"address_country": "US", "postal_code": "94105",
					},
					"fulfillment_option_id": "standard", "payment_token": "tok_success",
				}, nil)
			}
			if err != nil {
				errs <- err
				return
			}
			jobs[i] = checkoutJob{id: chk.ID, key: fmt.Sprintf("k-%d", i), cart: cart.ID}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return jobs
}

// checkoutsWithKill completes checkouts spread over every instance and
// SIGKILLs victim while they run. Requests the victim never received go to
// the others; runs it held are resumed by them once its lease expires.
func (c *cluster) checkoutsWithKill(t *testing.T, victim *instance, all []*instance) {
	p, err := c.createProduct(all[1], "Cluster Mug", "MUG-1", mugStock)
	if err != nil {
		t.Fatal(err)
	}
	variant := p.Variants[0].ID
	jobs := c.prepareCheckouts(t, []string{variant}, all, checkouts)
	placed := c.countPlaced(t)

	var (
		done, victimBusy atomic.Int64
		killed           atomic.Bool
		wg               sync.WaitGroup
		next             atomic.Int64
		lostMu           sync.Mutex
		lost             []checkoutJob
	)
	complete := func(in *instance, j checkoutJob) error {
		return in.call(c.shopper, "complete_checkout", map[string]any{"id": j.id, "idempotency_key": j.key}, nil)
	}
	for range 6 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				in := all[i%len(all)]
				if in == victim {
					victimBusy.Add(1)
				}
				err := complete(in, jobs[i])
				if in == victim {
					victimBusy.Add(-1)
				}
				var opErr *net.OpError
				switch {
				case err == nil:
				case in == victim && killed.Load() && errors.As(err, &opErr) && opErr.Op == "dial":
					// Never reached the dead instance: a client retries elsewhere.
					err = complete(all[1+i%(len(all)-1)], jobs[i])
				case in == victim && killed.Load():
					// In flight when it died: the run's fate is the cluster's.
					lostMu.Lock()
					lost = append(lost, jobs[i])
					lostMu.Unlock()
					err = nil
				}
				if err != nil {
					t.Errorf("checkout %d on %s: %v", i, in.name, err)
				}
				done.Add(1)
			}
		})
	}
	// Kill the victim once a third is done, at a moment it is working.
	waitFor(t, 30*time.Second, "the victim busy after a third of the checkouts", func() bool {
		return done.Load() >= int64(len(jobs))/3 && victimBusy.Load() > 0
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.Store(true)
	wg.Wait()
	t.Logf("%d complete_checkout requests were in flight on %s when it was killed", len(lost), victim.name)

	settled := func() bool {
		return c.count(`SELECT COUNT(*) FROM mdk.workflow_runs WHERE status IN ('running', 'compensating')`) == 0 &&
			c.count(`SELECT COUNT(*) FROM "order".checkouts WHERE status = 'complete_in_progress'`) == 0
	}
	for start := time.Now(); !settled(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("waited 30s for every checkout run to finish:\n%s", c.dump(
				`SELECT id, status, lease_owner, lease_until FROM mdk.workflow_runs WHERE status IN ('running', 'compensating')`,
				`SELECT c.id, c.status, COALESCE(r.id, '-'), COALESCE(r.status, 'no run') FROM "order".checkouts c
				 LEFT JOIN mdk.workflow_runs r ON r.run_key LIKE 'checkout/' || c.id || '/%' WHERE c.status = 'complete_in_progress'`))
		}
	}
	orders := c.count(`SELECT COUNT(*) FROM "order".orders`)
	completed := c.count(`SELECT COUNT(*) FROM "order".checkouts WHERE status = 'completed'`)
	t.Logf("%d checkouts: %d completed with an order, the rest reopened with nothing held", len(jobs), completed)
	if n := c.count(`SELECT COUNT(*) FROM mdk.workflow_runs WHERE status = 'compensation_failed'`); n != 0 {
		t.Errorf("%d runs failed to compensate", n)
	}
	if completed != orders {
		t.Errorf("%d completed checkouts but %d orders", completed, orders)
	}
	if n := c.count(`SELECT COUNT(*) FROM (SELECT checkout_id FROM "order".orders GROUP BY checkout_id HAVING COUNT(*) > 1) d`); n != 0 {
		t.Errorf("%d checkouts have more than one order", n)
	}
	if n := c.count(`SELECT COUNT(*) FROM product.reservations WHERE status = 'held'`); n != 0 {
		t.Errorf("%d reservations still held", n)
	}
	if n := c.count(`SELECT reserved FROM product.variants WHERE id = $1`, variant); n != 0 {
		t.Errorf("%d units still reserved", n)
	}
	if n := c.count(`SELECT on_hand FROM product.variants WHERE id = $1`, variant); n != mugStock-orders {
		t.Errorf("%d on hand after %d orders of one unit, want %d", n, orders, mugStock-orders)
	}
	// A client whose request died with the victim learns the outcome
	// from any other instance.
	for _, j := range lost {
		var chk struct {
			Status string `json:"status"`
			Order  *struct {
				ID string `json:"id"`
			} `json:"order"`
		}
		c.must(all[1], c.shopper, "get_checkout", map[string]any{"id": j.id}, &chk)
		if chk.Status == "completed" && (chk.Order == nil || chk.Order.ID == "") || chk.Status != "completed" && chk.Status != "ready_for_complete" {
			t.Errorf("checkout %s in flight at the kill ended %+v", j.id, chk)
		}
	}
	if completed < len(jobs)/2 {
		t.Errorf("only %d of %d checkouts completed", completed, len(jobs))
	}

	// Every order.placed reached the stream and its consumer, which
	// handled it once: the cart completed, one processed mark each.
	waitFor(t, 15*time.Second, "order.placed handled for every order", func() bool {
		return c.count(`SELECT COUNT(*) FROM mdk.processed_events WHERE consumer = 'cart.complete-on-order-placed'`) >= orders
	})
	if n := c.countPlaced(t) - placed; n != orders {
		t.Errorf("%d order.placed events in the stream for %d orders", n, orders)
	}
	if n := c.count(`SELECT COUNT(*) FROM mdk.processed_events WHERE consumer = 'cart.complete-on-order-placed'`); n != orders {
		t.Errorf("%d order.placed events marked handled, want %d (once each)", n, orders)
	}
	if n := c.count(`SELECT COUNT(*) FROM cart.carts WHERE status = 'completed'`); n != orders {
		t.Errorf("%d carts completed, want one per order (%d)", n, orders)
	}
}

// countPlaced counts distinct order.placed events stored in the stream.
func (c *cluster) countPlaced(t testing.TB) int {
	return c.countStream(t, placedTopic)
}

// countStream reads every event on subject from the stream with an
// ordered consumer and counts distinct event IDs.
func (c *cluster) countStream(t testing.TB, subject string) int {
	t.Helper()
	nc, err := nats.Connect(c.nats.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, "HYPERRR_EVENTS", jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for range info.NumPending {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(msg.Data(), &e); err != nil {
			t.Fatal(err)
		}
		ids[e.ID] = true
	}
	return len(ids)
}

// natsOutage stops NATS for 10s while products are created, then checks
// that every write succeeded and every event arrived once NATS was back.
func (c *cluster) natsOutage(t *testing.T, live []*instance) {
	const during = 20
	before := c.countStream(t, "hyperrr.events.product.created")
	c.nats.Stop()
	stopped := time.Now()
	var ids []string
	for i := range during {
		p, err := c.createProduct(live[i%len(live)], fmt.Sprintf("Outage Lamp %d", i), fmt.Sprintf("LAMP-%d", i), 3)
		if err != nil {
			t.Fatalf("write %d with NATS down: %v", i, err)
		}
		ids = append(ids, p.ID)
	}
	for _, in := range live {
		resp, err := http.Get(in.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var checks map[string]string
		err = json.NewDecoder(resp.Body).Decode(&checks)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || checks["nats"] == "ok" || checks["database"] != "ok" {
			t.Errorf("readyz on %s with NATS down: %d %v %v", in.name, resp.StatusCode, checks, err)
		}
	}
	if n := c.count(`SELECT COUNT(*) FROM product.outbox WHERE type = 'product.created'`); n != during {
		t.Errorf("%d product.created events wait in the outbox, want %d", n, during)
	}
	time.Sleep(10*time.Second - time.Since(stopped))
	c.nats.Restart()
	for _, in := range live {
		for i, id := range ids {
			waitFor(t, 20*time.Second, fmt.Sprintf("lamp %d in search on %s", i, in.name), func() bool {
				return c.finds(in, fmt.Sprintf("outage lamp %d", i), id)
			})
		}
	}
	waitFor(t, 20*time.Second, "the outbox to empty", func() bool {
		return c.count(`SELECT COUNT(*) FROM product.outbox`) == 0
	})
	if n := c.countStream(t, "hyperrr.events.product.created") - before; n != during {
		t.Errorf("%d product.created events reached the stream, want %d", n, during)
	}
	for _, in := range live {
		resp, err := http.Get(in.url + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("readyz on %s after NATS returned: %v %v", in.name, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
}
