package mdk

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// EncodeCursor returns the cursor of a keyset position: a row sorted by a
// number n (a time, a quantity), ties broken by its ID. Lists are cut by
// keyset rather than offset so that rows added or removed while a client
// pages neither repeat nor vanish; the cursor is opaque (base64url) so
// clients pass it back unchanged instead of building or editing positions,
// and stable, so any item's cursor resumes the list right after that item.
func EncodeCursor(n int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10) + "/" + id))
}

// DecodeCursor reverses EncodeCursor. ok is false unless s is a cursor
// whose ID starts with idPrefix (the list's ID kind, e.g. "ord_"), so a
// cursor of another list is rejected rather than silently misread; the
// caller reports that with its own, list-specific error.
func DecodeCursor(s, idPrefix string) (n int64, id string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", false
	}
	num, id, found := strings.Cut(string(raw), "/")
	n, err = strconv.ParseInt(num, 10, 64)
	if !found || err != nil || !strings.HasPrefix(id, idPrefix) || len(id) == len(idPrefix) {
		return 0, "", false
	}
	return n, id, true
}
