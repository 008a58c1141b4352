package product

import (
	"context"
	"sync"
	"time"
)

// reloads are the products whose content changed and that the search index
// must re-read. A product.* event only marks its product here and is
// acknowledged; one loop re-reads what is marked. So a burst of events
// about one product (an edit and its variants, an import touching it
// twice) costs one read: marks made while a read is running cause one more
// read, after it, which sees all of them.
//
// Acknowledging before the read loses nothing: the index lives in this
// process only and is rebuilt from SQL when it starts, and a failed read
// is retried here until it succeeds.
type reloads struct {
	mu    sync.Mutex
	dirty map[string]struct{}
	wake  chan struct{} // holds a token while something is marked
}

func newReloads() *reloads {
	return &reloads{dirty: map[string]struct{}{}, wake: make(chan struct{}, 1)}
}

// mark asks for product id to be re-read.
func (r *reloads) mark(ids ...string) {
	r.mu.Lock()
	for _, id := range ids {
		r.dirty[id] = struct{}{}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take returns and clears what is marked.
func (r *reloads) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.dirty))
	for id := range r.dirty {
		ids = append(ids, id)
	}
	clear(r.dirty)
	return ids
}

// reloadLoop re-reads marked products until ctx ends, backing off while
// reads fail (the database is down).
func (s *searchPart) reloadLoop(ctx context.Context) {
	const minWait, maxWait = 100 * time.Millisecond, 5 * time.Second
	wait := minWait
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.toReload.wake:
		}
		var failed []string
		for _, id := range s.toReload.take() {
			if err := s.refresh(ctx, id); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.m.log.Warn("re-read product for the search index; retrying", "product", id, "err", err)
				failed = append(failed, id)
			}
		}
		if len(failed) == 0 {
			wait = minWait
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
		s.toReload.mark(failed...)
	}
}
