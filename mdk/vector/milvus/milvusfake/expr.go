package milvusfake

import (
	"fmt"
	"strconv"
	"strings"
)

// predicate is a parsed expression of the subset the milvus index emits:
//
//	expr   = clause { "&&" clause }
//	clause = field "in" "[" string { "," string } "]"
//
// where field names a VARCHAR field (the primary key included) and string
// is a double-quoted literal, unescaped as Milvus does (strconv.Unquote).
// Every clause must hold. An empty predicate matches every row.
type predicate []clause

type clause struct {
	field  string
	values map[string]bool
}

// match reports whether the row with primary key id passes p.
func (p predicate) match(c *collection, id string, r row) bool {
	for _, cl := range p {
		v, ok := r.values[cl.field]
		if cl.field == c.pk {
			v, ok = id, true
		}
		// NULL (an absent value) is in no list, as in Milvus.
		if !ok || !cl.values[v] {
			return false
		}
	}
	return true
}

// parseExpr parses expr against c's fields; anything outside the subset
// is an InvalidArgument error.
func (c *collection) parseExpr(expr string) (predicate, error) {
	l := &lexer{s: expr}
	if l.skipSpace(); l.done() {
		return nil, nil
	}
	var p predicate
	for {
		cl, err := c.parseClause(l)
		if err != nil {
			return nil, invalid("expression %q: %v", expr, err)
		}
		p = append(p, cl)
		if l.skipSpace(); l.done() {
			return p, nil
		}
		if !l.punct("&&") {
			return nil, invalid("expression %q: want && or the end at offset %d; the fake supports only `field in [\"...\"] && ...`", expr, l.pos)
		}
	}
}

func (c *collection) parseClause(l *lexer) (clause, error) {
	field := l.ident()
	if _, ok := c.maxLen[field]; !ok {
		return clause{}, fmt.Errorf("want a VARCHAR field name at offset %d, got %q", l.pos, field)
	}
	if kw := l.ident(); kw != "in" {
		return clause{}, fmt.Errorf("want `in` after %s, got %q", field, kw)
	}
	if !l.punct("[") {
		return clause{}, fmt.Errorf("want [ at offset %d", l.pos)
	}
	cl := clause{field: field, values: map[string]bool{}}
	for {
		v, err := l.str()
		if err != nil {
			return clause{}, err
		}
		cl.values[v] = true
		if l.punct("]") {
			return cl, nil
		}
		if !l.punct(",") {
			return clause{}, fmt.Errorf("want , or ] at offset %d", l.pos)
		}
	}
}

// lexer reads tokens from s, skipping spaces before each.
type lexer struct {
	s   string
	pos int
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.s) && (l.s[l.pos] == ' ' || l.s[l.pos] == '\t') {
		l.pos++
	}
}

func (l *lexer) done() bool { return l.pos == len(l.s) }

// ident reads an identifier, "" if there is none.
func (l *lexer) ident() string {
	l.skipSpace()
	start := l.pos
	for l.pos < len(l.s) {
		ch := l.s[l.pos]
		if ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || l.pos > start && ch >= '0' && ch <= '9' {
			l.pos++
			continue
		}
		break
	}
	return l.s[start:l.pos]
}

// punct consumes tok if it comes next.
func (l *lexer) punct(tok string) bool {
	l.skipSpace()
	if strings.HasPrefix(l.s[l.pos:], tok) {
		l.pos += len(tok)
		return true
	}
	return false
}

// str reads a double-quoted string literal. Like Milvus's grammar, it ends
// at the first quote not escaped by a backslash and may not span lines.
func (l *lexer) str() (string, error) {
	l.skipSpace()
	if l.pos >= len(l.s) || l.s[l.pos] != '"' {
		return "", fmt.Errorf("want a double-quoted string at offset %d", l.pos)
	}
	for i := l.pos + 1; i < len(l.s); i++ {
		switch l.s[i] {
		case '\\':
			i++
		case '\n', '\r':
			return "", fmt.Errorf("raw line break in the string at offset %d", l.pos)
		case '"':
			v, err := strconv.Unquote(l.s[l.pos : i+1])
			if err != nil {
				return "", fmt.Errorf("bad string literal %s: %v", l.s[l.pos:i+1], err)
			}
			l.pos = i + 1
			return v, nil
		}
	}
	return "", fmt.Errorf("unterminated string at offset %d", l.pos)
}
