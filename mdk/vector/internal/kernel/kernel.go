// Package kernel holds the arithmetic every in-process vector index shares:
// the dot product (the similarity of unit vectors) and bounded top-k
// selection. It works on slots (positions in an index's storage), not IDs,
// so the hot loops never touch strings.
package kernel

import "math"

// dotGo is the portable dot product. The loop is unrolled by eight with
// four accumulators: the Go compiler does not vectorise, and this is about
// three times faster than the plain loop at 256 dimensions.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0]*bb[0] + aa[4]*bb[4]
		s1 += aa[1]*bb[1] + aa[5]*bb[5]
		s2 += aa[2]*bb[2] + aa[6]*bb[6]
		s3 += aa[3]*bb[3] + aa[7]*bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Normalize returns a unit-length copy of v, or false when v has no
// direction (all zeros) or holds NaN or ±Inf.
func Normalize(v []float32) ([]float32, bool) {
	var sum float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		sum += f * f
	}
	if sum == 0 || math.IsInf(sum, 0) {
		return nil, false
	}
	inv := 1 / math.Sqrt(sum)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out, true
}

// Candidate is a slot and its similarity to a query.
type Candidate struct {
	Slot  int32
	Score float32
}

// Better orders candidates best first: higher score, then lower slot, so
// equal scores come out in a stable order.
func Better(a, b Candidate) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Slot < b.Slot
}

// heap is a binary heap of candidates with the worst (by Better) at the
// root.
type heap []Candidate

func (h *heap) push(c Candidate) {
	*h = append(*h, c)
	h.up(len(*h) - 1)
}

func (h *heap) pop() Candidate {
	old := *h
	root, last := old[0], len(old)-1
	old[0] = old[last]
	*h = old[:last]
	if last > 0 {
		h.down(0)
	}
	return root
}

func (h heap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !Better(h[p], h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (h heap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		worst := l
		if r := l + 1; r < n && Better(h[l], h[r]) {
			worst = r
		}
		if !Better(h[i], h[worst]) {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// TopK keeps the k best candidates pushed into it: the worst kept one is
// at the root of a heap, so a better one replaces it in O(log k).
type TopK struct {
	k int
	h heap
}

// Reset empties t and sets its capacity to k (k ≥ 1).
func (t *TopK) Reset(k int) {
	t.k = k
	if cap(t.h) < k {
		t.h = make(heap, 0, k)
	}
	t.h = t.h[:0]
}

// Len is how many candidates t holds.
func (t *TopK) Len() int { return len(t.h) }

// Full reports whether t holds k candidates.
func (t *TopK) Full() bool { return len(t.h) >= t.k }

// Worst returns the worst kept candidate; t must not be empty.
func (t *TopK) Worst() Candidate { return t.h[0] }

// Push offers a candidate and reports whether it was kept.
func (t *TopK) Push(c Candidate) bool {
	if len(t.h) < t.k {
		t.h.push(c)
		return true
	}
	if !Better(c, t.h[0]) {
		return false
	}
	t.h[0] = c
	t.h.down(0)
	return true
}

// Pop removes and returns the worst kept candidate; t must not be empty.
func (t *TopK) Pop() Candidate { return t.h.pop() }

// Sorted empties t and returns its candidates best first.
func (t *TopK) Sorted() []Candidate {
	out := make([]Candidate, len(t.h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = t.h.pop()
	}
	return out
}

// Queue is an unbounded heap whose Pop returns the best candidate: the
// frontier of a graph search. It stores candidates mirrored (score
// negated, slot complemented), so the best is the "worst" at the root of
// the shared heap, ties included.
type Queue struct {
	h heap
}

// Reset empties q, keeping its memory.
func (q *Queue) Reset() { q.h = q.h[:0] }

// Len is how many candidates q holds.
func (q *Queue) Len() int { return len(q.h) }

// Push adds a candidate.
func (q *Queue) Push(c Candidate) {
	q.h.push(mirror(c))
}

// Pop removes and returns the best candidate; q must not be empty.
func (q *Queue) Pop() Candidate {
	return mirror(q.h.pop())
}

// mirror reverses the order of Better, and undoes itself.
func mirror(c Candidate) Candidate {
	return Candidate{Slot: ^c.Slot, Score: -c.Score}
}
