package product

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"github.com/hyperrr/hyperrr/mdk/search"
)

// productDocument maps a product onto what the search index knows.
func productDocument(p Product) search.Document {
	attrs := make([]string, 0, len(p.Attributes))
	keys := map[string][]string{
		"status": {string(p.Status)},
	}
	for _, name := range sortedKeys(p.Attributes) {
		v := p.Attributes[name]
		attrs = append(attrs, v)
		keys["attr."+strings.ToLower(name)] = []string{strings.ToLower(v)}
	}
	if p.Category != "" {
		keys["category"] = categoryPrefixes(p.Category)
	}
	if p.Vendor != "" {
		keys["vendor"] = []string{p.Vendor}
	}
	if p.ProductType != "" {
		keys["type"] = []string{p.ProductType}
	}
	minPrice, inStock := int64(math.MaxInt64), false
	for _, v := range p.Variants {
		minPrice = min(minPrice, v.Price.Amount)
		inStock = inStock || v.Inventory.Available > 0
	}
	keys["in_stock"] = []string{fmt.Sprint(inStock)}
	nums := map[string]int64{"created_at": p.CreatedAt.UnixMilli()}
	if len(p.Variants) > 0 {
		nums["price"] = minPrice
	}
	return search.Document{
		ID: p.ID,
		Text: map[string]string{
			"title": p.Title, "description": p.Description, "category": p.Category, "vendor": p.Vendor,
			"type": p.ProductType, "tags": strings.Join(p.Tags, " "), "attributes": strings.Join(attrs, " "),
		},
		Keywords: keys,
		Numbers:  nums,
	}
}

// categoryPrefixes returns "A", "A / B", "A / B / C" for a path, so a
// filter on a parent category matches its children.
func categoryPrefixes(path string) []string {
	parts := strings.Split(path, "/")
	out := make([]string, 0, len(parts))
	for i := range parts {
		segs := make([]string, 0, i+1)
		for _, p := range parts[:i+1] {
			segs = append(segs, strings.TrimSpace(p))
		}
		out = append(out, strings.Join(segs, " / "))
	}
	return out
}

// embedText is what a product's embedding is made from: the words a
// shopper would use for it, title first.
func embedText(p Product) string {
	var b strings.Builder
	b.WriteString(p.Title)
	for _, s := range []string{p.ProductType, p.Category, strings.Join(p.Tags, " ")} {
		if s != "" {
			b.WriteString(". ")
			b.WriteString(s)
		}
	}
	for _, k := range sortedKeys(p.Attributes) {
		b.WriteString(". ")
		b.WriteString(k + " " + p.Attributes[k])
	}
	b.WriteString(". ")
	b.WriteString(p.Description)
	return b.String()
}

// embedHash identifies the embedded text, so only changed products are
// re-embedded.
func embedHash(p Product) string {
	sum := sha256.Sum256([]byte(embedText(p)))
	return hex.EncodeToString(sum[:12])
}

func encodeVector(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

func decodeVector(raw []byte, dims int) ([]float32, error) {
	if len(raw) != 4*dims {
		return nil, fmt.Errorf("stored vector has %d bytes, want %d", len(raw), 4*dims)
	}
	v := make([]float32, dims)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}
