package natsbus

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// validType reports whether an event type can be a NATS subject suffix:
// dot-separated, non-empty tokens without wildcards or whitespace.
func validType(typ string) error {
	if typ == "" {
		return fmt.Errorf("an event needs a type")
	}
	for tok := range strings.SplitSeq(typ, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("event type %q is not a NATS subject: use dot-separated words without spaces, '*' or '>' (e.g. product.created)", typ)
		}
	}
	return nil
}

// filterSubjects turns path.Match patterns into NATS consumer filters that
// take at least what the patterns match. path.Match's '*' also spans dots,
// so a pattern's literal tokens up to its first wildcard are kept and the
// rest becomes '>'; the subscriber checks the exact pattern on each event.
// Filters that another filter covers are dropped, since the server refuses
// overlapping filters.
func filterSubjects(prefix string, patterns []string) []string {
	var out []string
	for _, p := range patterns {
		var lit []string
		wild := false
		for tok := range strings.SplitSeq(p, ".") {
			if tok == "" || strings.ContainsAny(tok, `*?[\> `) {
				wild = true
				break
			}
			lit = append(lit, tok)
		}
		f := strings.Join(append([]string{prefix}, lit...), ".")
		if wild {
			f += ".>"
		}
		out = append(out, f)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(slices.Clone(out), func(f string) bool {
		for _, g := range out {
			if g != f && strings.HasSuffix(g, ".>") && strings.HasPrefix(f, strings.TrimSuffix(g, ">")) {
				return true
			}
		}
		return false
	})
}

// consumerName makes a JetStream consumer name from a subscription name:
// characters NATS forbids ('.', '*', '>', whitespace, path separators)
// become '_', and a hash of the original keeps two names that differ only
// there apart.
func consumerName(parts ...string) string {
	name := strings.Join(parts, "-")
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	if clean == name {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name)) //nolint:errcheck // hash writes never fail
	return fmt.Sprintf("%s_%08x", clean, h.Sum32())
}
