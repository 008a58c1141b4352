// Package vector holds vector indexes for semantic search: the in-process
// ANN index (the embedded default) and Milvus (scale-out), both tested by
// one shared suite (vectortest).
package vector

import "context"

// Item is a vector and the scalar fields filtered search can test.
type Item struct {
	ID     string
	Vector []float32
	// Fields are string attributes a Filter can test, e.g. "status":
	// "active", "category": "Outdoor".
	Fields map[string]string
}

// Filter keeps items whose field has one of the listed values, for every
// field listed (OR within a field, AND across fields). Nil keeps all.
type Filter map[string][]string

// Hit is a search result: higher Score is closer (cosine similarity of
// L2-normalised vectors).
type Hit struct {
	ID    string
	Score float32
}

// Index stores vectors by ID and finds the nearest ones to a query.
type Index interface {
	// Upsert inserts or replaces items.
	Upsert(ctx context.Context, items ...Item) error
	// Delete removes items; unknown IDs are ignored.
	Delete(ctx context.Context, ids ...string) error
	// Search returns up to k items passing f, nearest first.
	Search(ctx context.Context, query []float32, k int, f Filter) ([]Hit, error)
	// Count returns how many items the index holds.
	Count(ctx context.Context) (int, error)
	// Close releases the index's resources.
	Close() error
}
