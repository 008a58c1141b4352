package relevance

// rng is SplitMix64: tiny, fast and, unlike math/rand's helpers, fixed
// here, so the fixture is the same byte for byte on every Go release.
type rng struct{ state uint64 }

func newRNG(seed uint64) *rng { return &rng{state: seed} }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive. The modulo bias is
// below 1e-15 for the small n used here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// pickN returns up to n distinct elements of xs in random order.
func pickN[T any](r *rng, xs []T, n int) []T {
	c := append([]T(nil), xs...)
	shuffle(r, c)
	return c[:min(n, len(c))]
}

func shuffle[T any](r *rng, xs []T) {
	for i := len(xs) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		xs[i], xs[j] = xs[j], xs[i]
	}
}
