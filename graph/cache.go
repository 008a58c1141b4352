package graph

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// lru is a bounded least-recently-used map, safe for concurrent use. It
// backs the parsed-query cache, automatic persisted queries and the
// response cache.
type lru[T any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // front is the most recent
	items map[string]*list.Element
}

type lruEntry[T any] struct {
	key   string
	value T
}

func newLRU[T any](max int) *lru[T] {
	return &lru[T]{max: max, order: list.New(), items: map[string]*list.Element{}}
}

// Get implements graphql.Cache.
func (c *lru[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero T
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[T]).value, true
}

// Add implements graphql.Cache.
func (c *lru[T]) Add(_ context.Context, key string, value T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*lruEntry[T]).value = value
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry[T]{key, value})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry[T]).key)
	}
}

// responses caches whole response bodies of public catalog queries.
// Entries remember the catalog generation they were computed in; a
// product or inventory event bumps the generation, so every older entry is
// dead at once, and a response computed while an event arrived is never
// served. Other subscribers (the search index) apply the same event on
// their own time, so the generation is bumped again once events settle,
// and no entry lives longer than maxAge whatever happens.
type responses struct {
	gen     atomic.Uint64
	entries *lru[cachedResponse]
	mu      sync.Mutex
	settle  *time.Timer
}

const (
	// settleDelay is how long after the last catalog event the cache is
	// emptied once more, for answers computed before the search index
	// caught up with the event.
	settleDelay = time.Second
	// maxAge bounds how stale an answer can be if an event is lost.
	maxAge = 10 * time.Second
)

type cachedResponse struct {
	gen  uint64
	at   time.Time
	body []byte
}

func newResponses(max int) *responses { return &responses{entries: newLRU[cachedResponse](max)} }

func (c *responses) get(key string) ([]byte, bool) {
	e, ok := c.entries.Get(context.Background(), key)
	if !ok || e.gen != c.gen.Load() || time.Since(e.at) > maxAge {
		return nil, false
	}
	return e.body, true
}

// put stores body computed at generation gen (read before computing it).
func (c *responses) put(key string, gen uint64, body []byte) {
	if gen == c.gen.Load() {
		c.entries.Add(context.Background(), key, cachedResponse{gen: gen, at: time.Now(), body: body})
	}
}

// invalidate is the bus handler for catalog events.
func (c *responses) invalidate(context.Context, mdk.Event) error {
	c.gen.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.settle == nil {
		c.settle = time.AfterFunc(settleDelay, func() { c.gen.Add(1) })
	} else {
		c.settle.Reset(settleDelay)
	}
	return nil
}
