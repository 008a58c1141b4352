package hnsw

import (
	"math/bits"
	"slices"
)

// bitset is a set of slots. A nil *bitset admits every slot, which is how
// a search without filter or deletions skips the check.
type bitset struct {
	words []uint64
}

func newBitset(n int) *bitset { return &bitset{words: make([]uint64, (n+63)/64)} }

func (b *bitset) has(s int32) bool {
	return b == nil || (int(s)>>6 < len(b.words) && b.words[s>>6]&(1<<(uint(s)&63)) != 0)
}

func (b *bitset) set(s int32) {
	for int(s)>>6 >= len(b.words) {
		b.words = append(b.words, 0)
	}
	b.words[s>>6] |= 1 << (uint(s) & 63)
}

func (b *bitset) clear(s int32) {
	if int(s)>>6 < len(b.words) {
		b.words[s>>6] &^= 1 << (uint(s) & 63)
	}
}

// and keeps only the slots also in o.
func (b *bitset) and(o *bitset) {
	for i := range b.words {
		if i < len(o.words) {
			b.words[i] &= o.words[i]
		} else {
			b.words[i] = 0
		}
	}
}

func (b *bitset) count() int {
	n := 0
	for _, w := range b.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls fn for every slot in b, in increasing order.
func (b *bitset) each(fn func(s int32)) {
	for i, w := range b.words {
		for w != 0 {
			fn(int32(i<<6 + bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
}

// postings maps each field value to the sorted live slots that hold it: an
// inverted index, so a filter's matching set costs the size of its
// postings, not a scan of every item's fields.
type postings map[string]map[string][]int32

func (p postings) add(s int32, fields map[string]string) {
	for name, value := range fields {
		byValue := p[name]
		if byValue == nil {
			byValue = make(map[string][]int32)
			p[name] = byValue
		}
		// Slots only grow, so appending keeps the list sorted.
		byValue[value] = append(byValue[value], s)
	}
}

func (p postings) remove(s int32, fields map[string]string) {
	for name, value := range fields {
		list := p[name][value]
		if i, ok := slices.BinarySearch(list, s); ok {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(p[name], value)
			continue
		}
		p[name][value] = list
	}
}

// match returns the slots (of n) whose fields pass the filter: the union of
// the listed values' postings for each field, intersected across fields.
func (p postings) match(filter map[string][]string, n int) *bitset {
	var out *bitset
	for name, values := range filter {
		field := newBitset(n)
		for _, v := range values {
			for _, s := range p[name][v] {
				field.set(s)
			}
		}
		if out == nil {
			out = field
		} else {
			out.and(field)
		}
	}
	return out
}
