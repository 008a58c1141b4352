package search

// scratch recycles the posting-sized buffers of a search. Without it a
// query over common words allocates megabytes per call that the garbage
// collector must then chase, which shows in tail latency under load. Every
// buffer is requested with the capacity it can need, so appends never
// reallocate behind the scratch's back.
type scratch struct {
	scored  buffers[scored]
	matched buffers[matched]
}

type buffers[T any] struct {
	free, used [][]T
}

// get returns an empty buffer of capacity at least n: the smallest free
// one that fits, or a new one.
func (b *buffers[T]) get(n int) []T {
	best := -1
	for i, buf := range b.free {
		if cap(buf) >= n && (best < 0 || cap(buf) < cap(b.free[best])) {
			best = i
		}
	}
	var buf []T
	if best >= 0 {
		buf = b.free[best][:0]
		last := len(b.free) - 1
		b.free[best], b.free = b.free[last], b.free[:last]
	} else {
		buf = make([]T, 0, max(n, 256))
	}
	b.used = append(b.used, buf)
	return buf
}

// reset makes every buffer handed out free again; the caller no longer
// uses them.
func (b *buffers[T]) reset() {
	b.free = append(b.free, b.used...)
	clear(b.used)
	b.used = b.used[:0]
}

func (sc *scratch) reset() {
	sc.scored.reset()
	sc.matched.reset()
}
