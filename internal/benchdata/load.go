package benchdata

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ClosedLoop is what a closed-loop load run measured: the benchmarks that
// report throughput and tail latency under N concurrent clients all take
// their figures from it, so they are computed the same way.
type ClosedLoop struct {
	Elapsed   time.Duration
	Failed    int
	Latencies []time.Duration // sorted
}

// RunClosedLoop runs jobs 0..n-1 from clients goroutines, each taking the
// next job as soon as its last one returned, and times every job. A failed
// job is reported with b.Error and counted. The benchmark timer runs only
// around the jobs.
func RunClosedLoop(b *testing.B, clients, n int, job func(i int) error) ClosedLoop {
	var (
		next, failed atomic.Int64
		wg           sync.WaitGroup
		mu           sync.Mutex
		latencies    = make([]time.Duration, 0, n)
	)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				err := job(i)
				d := time.Since(t0)
				if err != nil {
					failed.Add(1)
					b.Error(err)
				}
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
	return ClosedLoop{Elapsed: elapsed, Failed: int(failed.Load()), Latencies: latencies}
}

// Rate is successful jobs per second.
func (l ClosedLoop) Rate() float64 {
	return float64(len(l.Latencies)-l.Failed) / l.Elapsed.Seconds()
}

// Percentile is the latency under which q percent of the jobs finished.
func (l ClosedLoop) Percentile(q int) time.Duration {
	if len(l.Latencies) == 0 {
		return 0
	}
	return l.Latencies[min(len(l.Latencies)*q/100, len(l.Latencies)-1)]
}

// ReportMillis reports the q-th percentile latency in milliseconds as the
// benchmark metric unit.
func (l ClosedLoop) ReportMillis(b *testing.B, q int, unit string) {
	b.ReportMetric(float64(l.Percentile(q).Microseconds())/1000, unit)
}
