package mdk

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// SecretID returns prefix followed by n random bytes in lower-case base32.
// Use 20 bytes (160 bits) for IDs of a buyer's carts, checkouts and
// orders: they must not be guessable or enumerable.
func SecretID(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new %sID: %w", prefix, err)
	}
	return prefix + strings.ToLower(idEncoding.EncodeToString(b)), nil
}
