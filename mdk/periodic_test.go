package mdk_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

func TestPeriodic(t *testing.T) {
	var p mdk.Periodic
	var runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	p.Start(ctx, 5*time.Millisecond, func(context.Context) { runs.Add(1) })
	p.Start(ctx, time.Millisecond, func(context.Context) { t.Error("second Start ran a job") })
	cancel() // the caller's context ending does not stop the job
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if runs.Load() < 3 {
		t.Fatalf("ran %d times", runs.Load())
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := runs.Load()
	time.Sleep(20 * time.Millisecond)
	if runs.Load() != after {
		t.Fatal("ran after Stop")
	}
	t.Run("StopWaitsForRunUntilDeadline", func(t *testing.T) {
		var q mdk.Periodic
		started, release := make(chan struct{}), make(chan struct{})
		q.Start(context.Background(), time.Millisecond, func(context.Context) {
			select {
			case started <- struct{}{}:
				<-release
			default:
			}
		})
		<-started
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer scancel()
		if err := q.Stop(sctx); err == nil {
			t.Fatal("Stop returned before the running job finished")
		}
		close(release)
	})
}
