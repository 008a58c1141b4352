package gateway

import (
	"context"
	"time"

	"github.com/hyperrr/hyperrr/mdk/idempotency"
	"github.com/hyperrr/hyperrr/mdk/outbox"
)

const (
	// janitorInterval is how often expired bookkeeping rows are removed.
	janitorInterval = 10 * time.Minute
	// processedRetention keeps handled event IDs far longer than any
	// redelivery can arrive, so dedupe still holds.
	processedRetention = 7 * 24 * time.Hour
)

// janitor removes expired idempotency keys and old processed-event marks,
// so the bookkeeping tables stay small. Several instances may run it at
// once: the deletes are idempotent.
func (g *Gateway) janitor(ctx context.Context) error {
	keys := idempotency.New(g.db, idempotency.Options{})
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	for {
		now := time.Now()
		if n, err := keys.Purge(ctx, now); err != nil {
			g.log.Warn("purge idempotency keys", "err", err)
		} else if n > 0 {
			g.log.Debug("purged expired idempotency keys", "rows", n)
		}
		if n, err := outbox.PurgeProcessed(ctx, g.db, now.Add(-processedRetention)); err != nil {
			g.log.Warn("purge processed events", "err", err)
		} else if n > 0 {
			g.log.Debug("purged processed-event marks", "rows", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
