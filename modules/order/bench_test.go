package order_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
			var (
				next      atomic.Int64
				wg        sync.WaitGroup
				mu        sync.Mutex
				latencies = make([]time.Duration, 0, b.N)
				failed    atomic.Int64
			)
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(len(ids)) {
							return
						}
						t0 := time.Now()
						if _, err := e.complete(e.shopperA, ids[i], fmt.Sprintf("bench-%d", i)); err != nil {
							failed.Add(1)
							b.Error(err)
						}
						d := time.Since(t0)
						mu.Lock()
						latencies = append(latencies, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(len(ids)-int(failed.Load()))/elapsed.Seconds(), "checkouts/s")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
