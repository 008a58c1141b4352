package kernel_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/vector/internal/kernel"
)

// TestDot checks the dot product (the assembly one on amd64) against a
// float64 reference at every length up to 300, so every path of the
// unrolled loops and their tails is taken.
func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		a, b := make([]float32, n), make([]float32, n+3) // b longer than a is allowed
		var want float64
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			want += float64(a[i]) * float64(b[i])
		}
		got := kernel.Dot(a, b)
		if math.Abs(float64(got)-want) > 1e-4*math.Max(1, math.Sqrt(float64(n))) {
			t.Errorf("n=%d: Dot = %f, want %f", n, got, want)
		}
	}
}

func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var top kernel.TopK
	top.Reset(5)
	var all []kernel.Candidate
	for i := range 100 {
		c := kernel.Candidate{Slot: int32(i), Score: float32(rng.IntN(20))} // ties on purpose
		all = append(all, c)
		top.Push(c)
	}
	got := top.Sorted()
	if len(got) != 5 {
		t.Fatalf("got %d, want 5", len(got))
	}
	for _, c := range all {
		if kernel.Better(c, got[4]) && !contains(got, c) {
			t.Errorf("%v is better than the 5th kept (%v) but was dropped", c, got[4])
		}
	}
	for i := 1; i < len(got); i++ {
		if kernel.Better(got[i], got[i-1]) {
			t.Errorf("not best first at %d: %v before %v", i, got[i-1], got[i])
		}
	}
	var q kernel.Queue
	for _, c := range all {
		q.Push(c)
	}
	prev := q.Pop()
	for q.Len() > 0 {
		c := q.Pop()
		if kernel.Better(c, prev) {
			t.Fatalf("queue popped %v after %v", c, prev)
		}
		prev = c
	}
}

func contains(cs []kernel.Candidate, c kernel.Candidate) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func BenchmarkDot256(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float32, 256), make([]float32, 256)
	for i := range x {
		x[i], y[i] = rng.Float32(), rng.Float32()
	}
	for b.Loop() {
		sink += kernel.Dot(x, y)
	}
}

// sink keeps the benchmarked result alive.
var sink float32
