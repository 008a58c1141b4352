package main

import (
	"fmt"
	"testing"

	"github.com/hyperrr/hyperrr/internal/benchdata"
)

// BenchmarkClusterCheckout measures completed checkouts per second through
// the HTTP API of 1 and of 3 instances of the real binary sharing one
// PostgreSQL database and one NATS server, with 16 clients spread
// round-robin over the instances, and reports complete_checkout's p99.
// items=1 buys one product (every reservation updates one row);
// items=16 spreads the checkouts over 16 products.
// Run it with a fixed count, since each run starts a cluster:
//
//	go test -run '^$' -bench ClusterCheckout -benchtime 600x ./cmd/hyperrr/
func BenchmarkClusterCheckout(b *testing.B) {
	const clients = 16
	for _, items := range []int{1, 16} {
		for _, n := range []int{1, 3} {
			b.Run(fmt.Sprintf("items=%d/instances=%d", items, n), func(b *testing.B) {
				benchClusterCheckout(b, items, n, clients)
			})
		}
	}
}

// benchClusterCheckout completes b.N checkouts, each of one unit of one of
// items products, on n instances.
func benchClusterCheckout(b *testing.B, items, n, clients int) {
	c := newCluster(b, []string{"a", "b", "c"}[:n]...)
	variants := make([]string, items)
	for i := range variants {
		p, err := c.createProduct(c.instances[0], fmt.Sprintf("Bench Mug %d", i), fmt.Sprintf("BENCH-%d", i), 10_000_000)
		if err != nil {
			b.Fatal(err)
		}
		variants[i] = p.Variants[0].ID
	}
	jobs := c.prepareCheckouts(b, variants, c.instances, b.N)
	load := benchdata.RunClosedLoop(b, clients, len(jobs), func(i int) error {
		return c.instances[i%n].call(c.shopper, "complete_checkout", map[string]any{"id": jobs[i].id, "idempotency_key": jobs[i].key}, nil)
	})
	b.ReportMetric(load.Rate(), "checkouts/s")
	load.ReportMillis(b, 99, "p99-ms")
}
