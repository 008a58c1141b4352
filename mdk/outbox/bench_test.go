package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/membus"
	"github.com/hyperrr/hyperrr/mdk/natsbus"
	"github.com/hyperrr/hyperrr/mdk/natsbus/natstest"
	"github.com/hyperrr/hyperrr/mdk/outbox"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// BenchmarkOutboxToBus measures events per second from Emit, through the
// relay, to a subscriber of the in-memory bus; one op is one event.
func BenchmarkOutboxToBus(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		for _, perTx := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/events_per_tx=%d", engine, perTx), func(b *testing.B) {
				benchOutboxToBus(b, engine, perTx, memoryBus)
			})
		}
	}
}

// BenchmarkOutboxToJetStream is BenchmarkOutboxToBus through NATS
// JetStream (an in-process server, file storage): every event is stored by
// the server and acked by the subscriber one at a time.
func BenchmarkOutboxToJetStream(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		for _, perTx := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/events_per_tx=%d", engine, perTx), func(b *testing.B) {
				srv := natstest.Start(b)
				benchOutboxToBus(b, engine, perTx, func(log *slog.Logger) (mdk.Bus, error) {
					return natsbus.New(context.Background(), natsbus.Options{URL: srv.URL(), Logger: log})
				})
			})
		}
	}
}

func memoryBus(log *slog.Logger) (mdk.Bus, error) {
	return membus.New(membus.Options{Logger: log, QueueSize: 4096})
}

func benchOutboxToBus(b *testing.B, engine sqldb.Engine, perTx int, newBus func(*slog.Logger) (mdk.Bus, error)) {
	ctx := context.Background()
	db := dbtest.Open(b, engine, schema)
	Migrate(b, db, schema)
	quiet := slog.New(slog.DiscardHandler)
	bus, err := newBus(quiet)
	if err != nil {
		b.Fatal(err)
	}
	var delivered atomic.Int64
	err = bus.Subscribe(mdk.Subscription{Name: "bench", Types: []string{"*.*"}}, func(context.Context, mdk.Event) error {
		delivered.Add(1)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	relay, err := outbox.NewRelay(db, bus, []string{schema}, outbox.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- relay.Serve(serveCtx) }()
	b.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			b.Errorf("serve: %v", err)
		}
		if err := bus.Close(ctx); err != nil {
			b.Errorf("close bus: %v", err)
		}
	})
	events := make([]mdk.Event, b.N)
	for i := range events {
		if events[i], err = mdk.NewEvent("bench.event", fmt.Sprint(i%16), i); err != nil {
			b.Fatal(err)
		}
	}
	w := relay.Writer(schema)
	b.ResetTimer()
	for i := 0; i < b.N; i += perTx {
		batch := events[i:min(i+perTx, b.N)]
		if err := db.Tx(ctx, func(tx *sqldb.Tx) error { return w.Emit(ctx, tx, batch...) }); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for delivered.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d events in a minute", delivered.Load(), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
