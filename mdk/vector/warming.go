package vector

import (
	"context"
	"fmt"
	"sync"
)

// Warming serves from a fast-to-build index (Exact) while a better one (an
// ANN graph, which takes seconds to build for a large catalog) is built in
// the background, then switches to it. Start-up therefore costs what the
// exact index costs, and search never waits for the graph.
type Warming struct {
	mu      sync.RWMutex
	current Index
	// While warming, every item and every write since the build began, so
	// the built index can be brought up to date before it takes over.
	items    map[string]Item
	building bool
	log      []warmOp
	switched bool
}

type warmOp struct {
	upsert []Item
	delete []string
}

// NewWarming returns an index that serves from initial until Build
// succeeds.
func NewWarming(initial Index) *Warming {
	return &Warming{current: initial, items: map[string]Item{}}
}

// Upsert implements Index.
func (w *Warming) Upsert(ctx context.Context, items ...Item) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.current.Upsert(ctx, items...); err != nil {
		return err
	}
	if !w.switched {
		for _, it := range items {
			w.items[it.ID] = it
		}
		if w.building {
			w.log = append(w.log, warmOp{upsert: items})
		}
	}
	return nil
}

// Delete implements Index.
func (w *Warming) Delete(ctx context.Context, ids ...string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.current.Delete(ctx, ids...); err != nil {
		return err
	}
	if !w.switched {
		for _, id := range ids {
			delete(w.items, id)
		}
		if w.building {
			w.log = append(w.log, warmOp{delete: ids})
		}
	}
	return nil
}

// Search implements Index.
func (w *Warming) Search(ctx context.Context, q []float32, k int, f Filter) ([]Hit, error) {
	w.mu.RLock()
	cur := w.current
	w.mu.RUnlock()
	return cur.Search(ctx, q, k, f)
}

// Count implements Index.
func (w *Warming) Count(ctx context.Context) (int, error) {
	w.mu.RLock()
	cur := w.current
	w.mu.RUnlock()
	return cur.Count(ctx)
}

// Close implements Index.
func (w *Warming) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current.Close()
}

// Switched reports whether the built index has taken over.
func (w *Warming) Switched() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.switched
}

// Build fills the index made by newIndex with every item, outside the lock,
// replays the writes that arrived meanwhile, and switches to it. The
// initial index is dropped, not closed, since searches that began on it may
// still be running (it must hold no resources but memory). Build may be
// called once; a failure keeps serving from the initial index.
func (w *Warming) Build(ctx context.Context, newIndex func() (Index, error)) error {
	w.mu.Lock()
	if w.building || w.switched {
		w.mu.Unlock()
		return fmt.Errorf("vector index is already built or building")
	}
	w.building = true
	snapshot := make([]Item, 0, len(w.items))
	for _, it := range w.items {
		snapshot = append(snapshot, it)
	}
	w.mu.Unlock()

	next, err := newIndex()
	if err == nil {
		err = next.Upsert(ctx, snapshot...)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.building = false
	if err != nil {
		w.log = nil
		if next != nil {
			next.Close() //nolint:errcheck // abandoned before use; the build error is what matters
		}
		return fmt.Errorf("build vector index: %w", err)
	}
	for _, op := range w.log {
		if op.upsert != nil {
			err = next.Upsert(ctx, op.upsert...)
		} else {
			err = next.Delete(ctx, op.delete...)
		}
		if err != nil {
			w.log = nil
			next.Close() //nolint:errcheck // abandoned before use
			return fmt.Errorf("catch up vector index: %w", err)
		}
	}
	w.current, w.switched, w.log, w.items = next, true, nil, nil
	return nil
}
