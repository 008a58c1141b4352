package product

import (
	"encoding/json"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// defaultSearchCacheSize is how many search_catalog results an instance
// remembers (HYPERRR_PRODUCT_SEARCH_CACHE_SIZE; 0 turns the cache off). A
// result of 10 products takes some tens of KB.
const defaultSearchCacheSize = 1024

// resultCache remembers final search_catalog outputs. Shoppers and agents
// repeat searches (the same query again, the next page, the same refinement)
// and a search's answer changes only when the index does: every change to
// what a search reads (the index, and the product and stock rows results
// are read from) reaches this instance as a product or inventory event, and
// applying one to the index moves the generation on. Entries are keyed by
// generation, so after a change no earlier answer is served again; the
// dead entries age out of the LRU.
//
// So a change shows in remembered answers when its event reaches the index
// (the outbox relay's delivery), the same moment the index's filters and
// ranking see it; an uncached search could show a new price read from SQL
// a little earlier, beside the old ranking.
//
// A result is computed under the generation read before the search started:
// a search racing a change stores its answer under the old generation,
// which no later lookup asks for.
//
// Cached outputs are shared between callers and must not be modified
// (callers encode them; nothing writes to them).
type resultCache struct {
	gen     atomic.Uint64
	entries *lru.Cache[cacheKey, SearchOutput] // nil: caching off
}

type cacheKey struct {
	gen   uint64
	input string
}

func newResultCache(size int) (*resultCache, error) {
	c := &resultCache{}
	if size <= 0 {
		return c, nil
	}
	entries, err := lru.New[cacheKey, SearchOutput](size)
	if err != nil {
		return nil, err
	}
	c.entries = entries
	return c, nil
}

// key is in's cache key at the current generation; ok is false when
// caching is off. Signals and attribution are accepted and not used, so
// they don't split the cache.
func (c *resultCache) key(in SearchInput) (k cacheKey, ok bool) {
	if c == nil || c.entries == nil {
		return cacheKey{}, false
	}
	in.Signals, in.Attribution = nil, nil
	raw, err := json.Marshal(in) // struct fields in order, map keys sorted: one text per input
	if err != nil {
		return cacheKey{}, false
	}
	return cacheKey{gen: c.gen.Load(), input: string(raw)}, true
}

func (c *resultCache) get(k cacheKey) (SearchOutput, bool) {
	return c.entries.Get(k)
}

func (c *resultCache) put(k cacheKey, out SearchOutput) {
	c.entries.Add(k, out)
}

// changed moves the generation on: call it after every change to the index
// is applied (and after a failed one, which may have been applied in part).
func (c *resultCache) changed() {
	if c != nil {
		c.gen.Add(1)
	}
}
