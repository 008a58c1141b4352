package search

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	"github.com/hyperrr/hyperrr/mdk"
)

// sortKey places a match in the result order. For relevance, tier 0 (fused
// or ranked documents) comes before tier 1 (lexical matches beyond the
// fusion depth), then score descending; for a field sort, tier 1 marks
// documents without the field (they come last), then value. ID breaks every
// tie, so the order is total and a page boundary is exact.
type sortKey struct {
	tier  uint8
	score float64
	value int64
	id    string
}

// cursor is a page boundary: the last hit's sort key and the fingerprint of
// the query it belongs to. Being a key rather than an offset, it is not
// shifted by documents added or removed before it.
type cursor struct {
	Version     int     `json:"v"`
	Fingerprint string  `json:"q"`
	Tier        uint8   `json:"t,omitempty"`
	Score       float64 `json:"s,omitempty"`
	Value       int64   `json:"n,omitempty"`
	ID          string  `json:"id"`
}

const cursorVersion = 1

func encodeCursor(fp string, k sortKey) string {
	b, err := json.Marshal(cursor{Version: cursorVersion, Fingerprint: fp, Tier: k.tier, Score: k.score, Value: k.value, ID: k.id})
	if err != nil {
		// Unreachable: the struct holds only finite numbers (scores are
		// sums of finite terms) and strings.
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, fp string) (sortKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Version != cursorVersion || c.ID == "" {
		return sortKey{}, mdk.Invalid("cursor", "the cursor is not one this search returned; start again without a cursor")
	}
	if c.Fingerprint != fp {
		return sortKey{}, mdk.Invalid("cursor", "the cursor belongs to a different search; repeat the same text, filters, sort and mode, or start again without a cursor")
	}
	return sortKey{tier: c.Tier, score: c.Score, value: c.Value, id: c.ID}, nil
}

// fingerprint identifies what decides a query's matches and order: text,
// filters, ranges, sort and mode. Limit and facets are left out, so a
// client may change its page size between pages.
func fingerprint(q Query) string {
	h := fnv.New64a()
	write := func(parts ...string) {
		for _, p := range parts {
			var n [binary.MaxVarintLen64]byte
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
			h.Write([]byte(p))
		}
	}
	write(q.Text, string(q.Mode), q.Sort.Field, strconv.FormatBool(q.Sort.Desc))
	for _, field := range slices.Sorted(maps.Keys(q.Filter)) {
		values := slices.Sorted(slices.Values(q.Filter[field]))
		write("f", field, strconv.Itoa(len(values)))
		write(values...)
	}
	for _, field := range slices.Sorted(maps.Keys(q.Ranges)) {
		r := q.Ranges[field]
		write("r", field, bound(r.Min), bound(r.Max))
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func bound(v *int64) string {
	if v == nil {
		return "*"
	}
	return strconv.FormatInt(*v, 10)
}
