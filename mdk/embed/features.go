package embed

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Feature kinds, hashed into every feature so that the word "bar" and the
// character trigram "bar" land in different places.
const (
	kindWord    = 'w'
	kindBigram  = 'b'
	kindGram    = 'g'
	kindConcept = 'c'
	kindEmpty   = 'e'
)

// Relative weights of the feature kinds, tuned on the benchmark catalog
// (quality_test.go). A word is the unit. A word's character n-grams (a
// seven-letter word has 11) together weigh about half a word: enough that a
// typo or a compound ("bookshelf", "book shelf") still lands near, not so
// much that words sharing letters look alike. Bigrams reward a matching
// phrase. A concept outweighs a word, since it is how a request in the
// shopper's words reaches a product in the merchant's.
var kindWeight = [256]float32{
	kindWord:    1.0,
	kindBigram:  0.4,
	kindGram:    0.2,
	kindConcept: 1.2,
	kindEmpty:   1.0,
}

// FNV-1a, then a finaliser (murmur3's fmix64) so that the low 32 bits (the
// dimension), the next bits (the IDF bucket) and the top bit (the sign)
// are independent.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashStart(kind byte) uint64 { return (fnvOffset ^ uint64(kind)) * fnvPrime }

func hashBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

func hashFinish(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	if h == 0 { // 0 marks an empty slot in the counter
		h = 1
	}
	return h
}

// counter accumulates feature occurrences: open addressing on the
// feature hash, reset in time proportional to what was used.
type counter struct {
	keys   []uint64
	counts []float32
	kinds  []byte
	used   []int32
}

func (c *counter) reset() {
	for _, i := range c.used {
		c.keys[i] = 0
	}
	c.used = c.used[:0]
	if len(c.keys) == 0 {
		c.grow(1024)
	}
}

func (c *counter) grow(size int) {
	old := c.used
	oldKeys, oldCounts, oldKinds := c.keys, c.counts, c.kinds
	c.keys, c.counts, c.kinds = make([]uint64, size), make([]float32, size), make([]byte, size)
	c.used = make([]int32, 0, size/2)
	for _, i := range old {
		c.insert(oldKeys[i], oldKinds[i], oldCounts[i])
	}
}

func (c *counter) add(h uint64, kind byte) { c.insert(h, kind, 1) }

func (c *counter) insert(h uint64, kind byte, n float32) {
	if 2*(len(c.used)+1) > len(c.keys) {
		c.grow(2 * len(c.keys))
	}
	mask := uint64(len(c.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch c.keys[i] {
		case h:
			c.counts[i] += n
			return
		case 0:
			c.keys[i], c.counts[i], c.kinds[i] = h, n, kind
			c.used = append(c.used, int32(i))
			return
		}
	}
}

// extractor turns a text into hashed features. It holds reusable buffers
// and is pooled; it is not safe for concurrent use.
type extractor struct {
	buf     []byte     // the folded text: lower case, no accents
	words   [][2]int32 // word spans in buf
	content []int32    // indexes of the words that are not stop words
	gram    []byte
	feats   counter
	stems   map[string]string
}

var extractors = sync.Pool{New: func() any { return new(extractor) }}

// extract fills e.feats with the features of text: stemmed words, stemmed
// word bigrams, character 3- and 4-grams of each word (with '<' and '>'
// marking its ends) and the concepts its words trigger.
func (e *extractor) extract(text string) {
	e.feats.reset()
	e.tokenize(text)
	e.content = e.content[:0]
	for i, w := range e.words {
		if !isStopWord(e.buf[w[0]:w[1]]) {
			e.content = append(e.content, int32(i))
		}
	}
	if len(e.content) == 0 { // "the one" still means something
		for i := range e.words {
			e.content = append(e.content, int32(i))
		}
	}
	if len(e.content) == 0 {
		e.feats.add(hashFinish(hashStart(kindEmpty)), kindEmpty)
		return
	}
	prev := ""
	for n, wi := range e.content {
		word := e.buf[e.words[wi][0]:e.words[wi][1]]
		stem := e.stem(word)
		e.feats.add(hashFinish(hashString(hashStart(kindWord), stem)), kindWord)
		if n > 0 {
			h := hashString(hashStart(kindBigram), prev)
			h = (h ^ ' ') * fnvPrime
			e.feats.add(hashFinish(hashString(h, stem)), kindBigram)
		}
		for _, c := range lexicon()[stem] {
			e.feats.add(c, kindConcept)
		}
		e.grams(word)
		prev = stem
	}
}

// grams adds the character 3- and 4-grams of word. They are byte n-grams:
// exact for the ASCII most catalog text folds to, and still consistent
// (the same text gives the same features) for other scripts.
func (e *extractor) grams(word []byte) {
	g := append(append(append(e.gram[:0], '<'), word...), '>')
	e.gram = g
	for n := 3; n <= 4; n++ {
		for i := 0; i+n <= len(g); i++ {
			e.feats.add(hashFinish(hashBytes(hashStart(kindGram), g[i:i+n])), kindGram)
		}
	}
}

// tokenize folds text into e.buf (lower case, accents removed) and records
// its words: runs of letters and digits. An apostrophe inside a word is
// dropped ("kid's" is "kids"), anything else separates words.
func (e *extractor) tokenize(text string) {
	if !isASCII(text) {
		text = foldAccents(text)
	}
	e.buf, e.words = e.buf[:0], e.words[:0]
	start := -1
	end := func() {
		if start >= 0 && len(e.buf) > start {
			e.words = append(e.words, [2]int32{int32(start), int32(len(e.buf))})
		}
		start = -1
	}
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			e.open(&start)
			e.buf = append(e.buf, byte(r))
		case r >= 'A' && r <= 'Z':
			e.open(&start)
			e.buf = append(e.buf, byte(r+'a'-'A'))
		case (r == '\'' || r == '’') && start >= 0 && i < len(text) && isWordByte(text[i]):
			// joined: the next letter continues the word
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			e.open(&start)
			e.buf = utf8.AppendRune(e.buf, unicode.ToLower(r))
		default:
			end()
		}
	}
	end()
}

func (e *extractor) open(start *int) {
	if *start < 0 {
		*start = len(e.buf)
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldAccents strips combining marks after canonical decomposition, so
// "Café Crème" matches "cafe creme".
func foldAccents(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil { // only on invalid UTF-8, which then keeps its accents
		return s
	}
	return out
}

// maxStems bounds an extractor's stem cache: catalog vocabularies are a
// few thousand words; past the bound the long tail is stemmed each time.
const maxStems = 1 << 14

// stem returns the Snowball English stem of a folded word, memoised: the
// stemmer costs about 600 ns a word, more than everything else an
// embedding does per word. Each extractor keeps its own cache, so
// parallel embedding shares no lock.
func (e *extractor) stem(word []byte) string {
	if s, ok := e.stems[string(word)]; ok {
		return s
	}
	w := string(word)
	s := english.Stem(w, false)
	if e.stems == nil {
		e.stems = make(map[string]string)
	}
	if len(e.stems) < maxStems {
		e.stems[w] = s
	}
	return s
}

// stem stems one already folded word (for building the lexicon).
func stem(word string) string {
	return english.Stem(strings.ToLower(word), false)
}

// dimension places a feature hash: the low 32 bits scaled to [0, dims).
func dimension(h uint64, dims int) int {
	return int((h & 0xffffffff) * uint64(dims) >> 32)
}

// sign is the feature's sign, from its top bit: with signs, colliding
// features cancel on average instead of piling up.
func sign(h uint64) float32 {
	return 1 - 2*float32(h>>63)
}

// bucket is the feature's slot in an IDF table of 2^b entries.
func bucket(h uint64, b int) int {
	return int((h >> 32) & (1<<b - 1))
}
