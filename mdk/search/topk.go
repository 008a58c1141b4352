package search

import "slices"

// topK keeps the k best items pushed to it in a heap whose root is the
// worst kept, so selecting a page or a ranking depth from n matches costs
// O(n log k) instead of sorting all n.
type topK[T any] struct {
	k     int
	items []T
	// better reports whether a ranks before b; it must be a strict total
	// order (ties broken by ID) for pages to be stable.
	better func(a, b T) bool
}

func newTopK[T any](k int, better func(a, b T) bool) *topK[T] {
	return &topK[T]{k: k, items: make([]T, 0, min(k, 1024)), better: better}
}

func (h *topK[T]) push(x T) {
	if h.k <= 0 {
		return
	}
	if len(h.items) < h.k {
		h.items = append(h.items, x)
		h.up(len(h.items) - 1)
		return
	}
	if h.better(x, h.items[0]) {
		h.items[0] = x
		h.down(0)
	}
}

// sorted returns the kept items best first; h is spent.
func (h *topK[T]) sorted() []T {
	slices.SortFunc(h.items, func(a, b T) int {
		if h.better(a, b) {
			return -1
		}
		if h.better(b, a) {
			return 1
		}
		return 0
	})
	return h.items
}

// The heap is ordered worst first: parent is worse than its children.
func (h *topK[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.better(h.items[p], h.items[i]) {
			break
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

func (h *topK[T]) down(i int) {
	n := len(h.items)
	for {
		w := i
		if l := 2*i + 1; l < n && h.better(h.items[w], h.items[l]) {
			w = l
		}
		if r := 2*i + 2; r < n && h.better(h.items[w], h.items[r]) {
			w = r
		}
		if w == i {
			return
		}
		h.items[i], h.items[w] = h.items[w], h.items[i]
		i = w
	}
}
