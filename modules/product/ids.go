package product

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
)

// ID prefixes say what an ID names, so a lookup by one opaque string
// (lookup_catalog, get_product) knows where to look, and a person reading a
// log knows what they are looking at.
const (
	prefixProduct     = "prod_"
	prefixVariant     = "var_"
	prefixReservation = "res_"
)

// newID returns prefix followed by a UUIDv7 in hex: IDs sort by creation
// time, which keeps index inserts local and gives keyset pagination a
// stable order.
func newID(prefix string) (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new %sID: %w", prefix, err)
	}
	return prefix + hex.EncodeToString(u[:]), nil
}

// keyedID derives an ID from an idempotency key and an index, so a step
// that runs again (after a crash, before its result was journaled) finds
// the rows it wrote the first time instead of writing new ones.
func keyedID(prefix, key string, i int) string {
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s%s_%d", prefix, hex.EncodeToString(sum[:12]), i)
}

// maxHandleLen bounds handles so URLs stay readable.
const maxHandleLen = 100

var handleRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// slugify turns a title into a handle: accents folded ("Café" → "cafe"),
// lower case, runs of anything but letters and digits become one hyphen.
// A title with no Latin letters or digits gives "product"; uniqueness is
// the store's job (-2, -3, ...).
func slugify(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // combining accent left by NFKD
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
		default:
			hyphen = true
		}
	}
	s := b.String()
	// Leave room for a "-NNN" suffix and cut at a word boundary.
	const room = maxHandleLen - 8
	if len(s) > room {
		s = s[:room]
		if i := strings.LastIndexByte(s, '-'); i > room/2 {
			s = s[:i]
		}
		s = strings.TrimRight(s, "-")
	}
	if s == "" {
		return "product"
	}
	return s
}
