package mdk_test

import (
	"encoding/base64"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
)

func TestCursor(t *testing.T) {
	t.Run("OKRoundTrip", func(t *testing.T) {
		for _, n := range []int64{0, 1, -3, 1763798400123, -1 << 62} {
			c := mdk.EncodeCursor(n, "ord_abc/def")
			got, id, ok := mdk.DecodeCursor(c, "ord_")
			if !ok || got != n || id != "ord_abc/def" {
				t.Fatalf("cursor %q of %d decodes to %d %q %v", c, n, got, id, ok)
			}
		}
	})
	t.Run("OKOpaque", func(t *testing.T) {
		// URL-safe without escaping: it goes in query strings and JSON as is.
		c := mdk.EncodeCursor(42, "var_x")
		for _, r := range c {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				t.Fatalf("cursor %q has %q", c, r)
			}
		}
	})
	t.Run("ErrRejected", func(t *testing.T) {
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for name, s := range map[string]string{
			"Empty":       "",
			"NotBase64":   "garbage!",
			"NoSeparator": enc("12var_x"),
			"NotNumber":   enc("x/var_x"),
			"Overflow":    enc("99999999999999999999/var_x"),
			"OtherPrefix": enc("12/ord_x"),
			"BareID":      enc("var_x"),
			"EmptyID":     enc("12/var_"),
			"OtherList":   mdk.EncodeCursor(12, "prod_x"),
		} {
			t.Run(name, func(t *testing.T) {
				if n, id, ok := mdk.DecodeCursor(s, "var_"); ok {
					t.Fatalf("%q decodes to %d %q", s, n, id)
				}
			})
		}
	})
}
