package search

import "math/bits"

// bitset is a set of document ordinals, one bit each: 50,000 documents fit
// in 6 KB, so filters are combined with word-wide AND/OR instead of maps.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i uint32) bool {
	w := int(i >> 6)
	return w < len(b) && b[w]&(1<<(i&63)) != 0
}

// set marks i; the caller sized b to hold it.
func (b bitset) set(i uint32) { b[i>>6] |= 1 << (i & 63) }

func (b bitset) clear(i uint32) {
	if w := int(i >> 6); w < len(b) {
		b[w] &^= 1 << (i & 63)
	}
}

// grow returns b able to hold ordinal i.
func (b bitset) grow(i uint32) bitset {
	need := int(i>>6) + 1
	if need <= len(b) {
		return b
	}
	if need <= cap(b) {
		return b[:need]
	}
	nb := make(bitset, need, max(need, 2*cap(b)))
	copy(nb, b)
	return nb
}

func (b bitset) and(o bitset) {
	for i := range b {
		if i < len(o) {
			b[i] &= o[i]
		} else {
			b[i] = 0
		}
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls fn for every member in ascending order.
func (b bitset) each(fn func(uint32)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(uint32(wi<<6 + t))
			w &= w - 1
		}
	}
}

// eachDesc calls fn for every member in descending order.
func (b bitset) eachDesc(fn func(uint32)) {
	for wi := len(b) - 1; wi >= 0; wi-- {
		for w := b[wi]; w != 0; {
			t := 63 - bits.LeadingZeros64(w)
			fn(uint32(wi<<6 + t))
			w &^= 1 << t
		}
	}
}
