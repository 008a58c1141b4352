package milvus

import (
	"slices"
	"strconv"
	"strings"

	"github.com/hyperrr/hyperrr/mdk/vector"
)

// Milvus filters are text in its boolean expression language, so every
// value written into one goes through quote: product categories and IDs
// come from merchants and agents and may hold quotes, brackets or
// backslashes. Field names are never quoted; New admits only identifiers.

// quote renders s as a Milvus string literal. Milvus reads a double-quoted
// literal with Go's strconv.Unquote rules (its grammar accepts every escape
// strconv.Quote writes), so the value Milvus compares is exactly s.
func quote(s string) string {
	return strconv.Quote(s)
}

// inExpr is `field in ["a", "b"]`; values must not be empty.
func inExpr(field string, values []string) string {
	var b strings.Builder
	b.WriteString(field)
	b.WriteString(" in [")
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(v))
	}
	b.WriteString("]")
	return b.String()
}

// filterExpr turns f into `a in [...] && b in [...]`, fields in name order
// so equal filters give equal expressions. none reports a filter no item
// can pass: a field listed with no values, or a field the collection does
// not store.
func (x *Index) filterExpr(f vector.Filter) (expr string, none bool) {
	fields := make([]string, 0, len(f))
	for field, values := range f {
		if len(values) == 0 || !slices.Contains(x.cfg.FilterFields, field) {
			return "", true
		}
		fields = append(fields, field)
	}
	slices.Sort(fields)
	parts := make([]string, len(fields))
	for i, field := range fields {
		parts[i] = inExpr(field, f[field])
	}
	return strings.Join(parts, " && "), false
}
