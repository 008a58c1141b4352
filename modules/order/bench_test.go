package order_test

import (
	"fmt"
	"testing"

	"github.com/hyperrr/hyperrr/internal/benchdata"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/order"
)

// BenchmarkCompleteCheckout measures completed checkouts per second with 16
// concurrent clients, each completing checkouts prepared beforehand, and
// reports the p99 latency of complete_checkout.
func BenchmarkCompleteCheckout(b *testing.B) {
	const clients = 16
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			e := newEnv(b, engine)
			item := e.product(b, "Bench Item", "BENCH", 1000, 1_000_000)
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = e.ready(b, e.shopperA, order.TokenSuccess, line(item, 1)).ID
			}
			load := benchdata.RunClosedLoop(b, clients, len(ids), func(i int) error {
				_, err := e.complete(e.shopperA, ids[i], fmt.Sprintf("bench-%d", i))
				return err
			})
			b.ReportMetric(load.Rate(), "checkouts/s")
			load.ReportMillis(b, 99, "p99-ms")
		})
	}
}
