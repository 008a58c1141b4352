package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Stemming selects how words are reduced to index terms. Full English
// stemming lets "lighting" find "light"; plural folding is the conservative
// choice for catalogs where Snowball conflates too much.
type Stemming string

const (
	StemEnglish Stemming = ""        // Snowball (Porter2) English, after irregular plurals (the default)
	StemPlurals Stemming = "plurals" // irregular plurals and the S-stemmer only
	StemNone    Stemming = "none"    // lower-cased, accent-folded words as they are
)

// maxTokenBytes bounds a token: longer runs (URLs, hashes, base64) are cut
// there so one document cannot blow up the vocabulary with huge terms.
const maxTokenBytes = 48

// stopWords are Lucene's English stop words: too common to rank by, so they
// are neither indexed nor required in queries.
var stopWords = setOf("a", "an", "and", "are", "as", "at", "be", "but", "by",
	"for", "if", "in", "into", "is", "it", "no", "not", "of", "on", "or",
	"such", "that", "the", "their", "then", "there", "these", "they", "this",
	"to", "was", "will", "with")

// irregularPlurals maps plurals that neither Snowball nor the S-stemmer
// bring to their singular's stem ("shelves" would stem to "shelv", "shelf"
// to "shelf").
var irregularPlurals = map[string]string{
	"shelves": "shelf", "bookshelves": "bookshelf", "knives": "knife",
	"leaves": "leaf", "halves": "half", "loaves": "loaf", "scarves": "scarf",
	"wolves": "wolf", "calves": "calf", "thieves": "thief", "wives": "wife",
	"lives": "life", "elves": "elf", "hooves": "hoof", "wharves": "wharf",
	"mice": "mouse", "geese": "goose", "feet": "foot", "teeth": "tooth",
	"men": "man", "women": "woman", "children": "child", "people": "person",
	"oxen": "ox", "dice": "die", "cacti": "cactus", "fungi": "fungus",
}

func setOf(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

func isStopWord(w string) bool {
	_, ok := stopWords[w]
	return ok
}

// stem reduces a normalised surface word to its index term.
func stem(mode Stemming, w string) string {
	if mode == StemNone || !isASCIIWord(w) {
		return w
	}
	if s, ok := irregularPlurals[w]; ok {
		w = s
	}
	if mode == StemPlurals {
		return sStem(w)
	}
	return english.Stem(w, false)
}

// sStem is Harman's S-stemmer: it folds regular English plurals and nothing
// else.
func sStem(w string) string {
	n := len(w)
	switch {
	case n > 3 && strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:n-3] + "y"
	case n > 3 && strings.HasSuffix(w, "es") && !strings.HasSuffix(w, "aes") && !strings.HasSuffix(w, "ees") && !strings.HasSuffix(w, "oes"):
		return w[:n-1]
	case n > 2 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "ss"):
		return w[:n-1]
	}
	return w
}

func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// scanWords splits text into normalised words: runs of letters and digits,
// lower-cased, with accents folded ("Café" → "cafe"), apostrophes inside a
// word dropped ("don't" → "dont") and a possessive "'s" removed. emit
// receives a buffer that is reused after it returns.
func scanWords(text string, emit func(word []byte)) {
	var buf [maxTokenBytes + utf8.UTFMax]byte
	w := buf[:0]
	flush := func() {
		if len(w) > 0 {
			emit(w)
			w = buf[:0]
		}
	}
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case isWordRune(r):
			if len(w) < maxTokenBytes {
				w = appendFolded(w, r)
			}
		case (r == '\'' || r == '’') && len(w) > 0:
			next, nsize := utf8.DecodeRuneInString(text[i:])
			if !isWordRune(next) {
				flush()
				continue
			}
			if next == 's' || next == 'S' {
				if after, _ := utf8.DecodeRuneInString(text[i+nsize:]); !isWordRune(after) {
					i += nsize // possessive: "kid's" is "kid"
				}
			}
		case unicode.Is(unicode.Mn, r):
			// A combining mark of decomposed input: drop it, as appendFolded
			// drops the marks of precomposed letters.
		default:
			flush()
		}
	}
	flush()
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// appendFolded appends r lower-cased and without diacritics.
func appendFolded(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	r = unicode.ToLower(r)
	var one [utf8.UTFMax]byte
	n := utf8.EncodeRune(one[:], r)
	if !norm.NFD.IsNormal(one[:n]) {
		for _, d := range norm.NFD.String(string(one[:n])) {
			if !unicode.Is(unicode.Mn, d) {
				dst = utf8.AppendRune(dst, d)
			}
		}
		return dst
	}
	return append(dst, one[:n]...)
}

// queryWord is one word of a query, before it is looked up.
type queryWord struct {
	surface string // normalised word, as in the vocabulary of surfaces
	term    string // its stem
	// last marks the final word of a query that does not end in a
	// separator: it may be incomplete (search-as-you-type).
	last bool
}

// maxQueryWords bounds the work of one query; words beyond are ignored.
const maxQueryWords = 32

// analyseQuery returns the query's words without stop words.
func analyseQuery(mode Stemming, text string) []queryWord {
	var words []queryWord
	lastKept := false
	scanWords(text, func(w []byte) {
		s := string(w)
		lastKept = len(words) < maxQueryWords && !isStopWord(s)
		if lastKept {
			words = append(words, queryWord{surface: s, term: stem(mode, s)})
		}
	})
	if r, _ := utf8.DecodeLastRuneInString(text); lastKept && isWordRune(r) {
		words[len(words)-1].last = true
	}
	return words
}
