// Package relevance generates the search relevance fixture in
// testdata/relevance: a furniture and home catalog in the benchmark
// catalog format, evaluation queries of seven kinds, and graded judgments
// derived from each product's attributes by the rules on Want. It is
// deterministic: the same code writes the same bytes, which a test checks
// against the committed files, so the fixture can only change together
// with the rules that made it.
package relevance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hyperrr/hyperrr/internal/benchfmt"
)

// seed fixes the catalog; change it only on purpose (every judgment moves).
const seed = 20260301

// minExact is the fewest grade-3 products a query gets: when the random
// catalog has fewer, products that fit the query are added.
const minExact = 2

// Fixture is the generated catalog, queries and judgments.
type Fixture struct {
	Catalog []Product
	Specs   []Spec
	// Judgments maps a query ID to external product ID → grade.
	Judgments map[string]map[string]int
	// Planted counts products added so that every query has minExact
	// grade-3 products.
	Planted int
}

// allKinds are the product types, in generation order.
func allKinds() []*kind {
	var out []*kind
	for _, group := range [][]kind{furniture, home, outdoor} {
		for i := range group {
			out = append(out, &group[i])
		}
	}
	return out
}

// Build generates the fixture.
func Build() (Fixture, error) {
	kinds := allKinds()
	if err := checkKinds(kinds, Specs); err != nil {
		return Fixture{}, err
	}
	r := newRNG(seed)
	var catalog []Product
	for _, k := range kinds {
		for range k.count {
			p, ok := build(r, k, pins{})
			if !ok {
				return Fixture{}, fmt.Errorf("build a %s: no material and color fit together", k.class)
			}
			catalog = append(catalog, p)
		}
	}
	random := len(catalog)
	catalog, err := plant(r, kinds, catalog)
	if err != nil {
		return Fixture{}, err
	}
	shuffle(r, catalog)
	for i := range catalog {
		p := &catalog[i]
		p.ID = fmt.Sprintf("rel-%04d", i+1)
		p.Slug = fmt.Sprintf("%s-%d", slugify(p.Name), i+1)
		p.SKU = fmt.Sprintf("%s-%04d-%s", classCode(p.Class), i+1, strings.ToUpper(strings.ReplaceAll(p.Color, " ", "")[:2]))
	}
	f := Fixture{Catalog: catalog, Specs: Specs, Judgments: map[string]map[string]int{}, Planted: len(catalog) - random}
	for _, s := range Specs {
		f.Judgments[s.ID] = Judge(s, catalog)
	}
	return f, nil
}

// plant adds products until every query has minExact grade-3 products,
// drawing products of the query's Exact types with its stated attributes
// pinned and keeping the first that earns a 3.
func plant(r *rng, kinds []*kind, catalog []Product) ([]Product, error) {
	byClass := map[string]*kind{}
	for _, k := range kinds {
		byClass[k.class] = k
	}
	for _, s := range Specs {
		have := 0
		for _, p := range catalog {
			if g, _ := s.Want.Grade(p); g == 3 {
				have++
			}
		}
		pin := pinsFor(s.Want.Attrs)
		for i := 0; have < minExact; i++ {
			k := byClass[s.Want.Exact[i%len(s.Want.Exact)]]
			p, ok := drawExact(r, k, pin, s.Want)
			if !ok {
				return nil, fmt.Errorf("query %s %q: no %s the generator can make earns a 3; fix the query or the %s vocabulary", s.ID, s.Text, k.class, k.class)
			}
			catalog = append(catalog, p)
			have++
		}
	}
	return catalog, nil
}

// drawExact draws products of k until one earns a 3 for w.
func drawExact(r *rng, k *kind, pin pins, w Want) (Product, bool) {
	for range 20000 {
		p, ok := build(r, k, pin)
		if g, _ := w.Grade(p); ok && g == 3 {
			return p, true
		}
	}
	return Product{}, false
}

// pinsFor sorts stated attribute terms into color, material and style.
func pinsFor(attrs []string) pins {
	var p pins
	for _, a := range attrs {
		switch {
		case anyHasTerm(colors, func(c color) []string { return c.terms }, a):
			p.color = a
		case anyHasTerm(materials, func(m material) []string { return m.terms }, a):
			p.material = a
		default:
			p.style = a
		}
	}
	return p
}

func anyHasTerm[V any](m map[string]V, terms func(V) []string, term string) bool {
	for _, v := range m {
		if slices.Contains(terms(v), term) {
			return true
		}
	}
	return false
}

// checkKinds finds vocabulary mistakes before they turn into a panic or a
// silently wrong judgment.
func checkKinds(kinds []*kind, specs []Spec) error {
	var errs []error
	classes := map[string]bool{}
	traits := map[string]bool{}
	for _, k := range kinds {
		if classes[k.class] {
			errs = append(errs, fmt.Errorf("class %s is defined twice", k.class))
		}
		classes[k.class] = true
		if len(k.names) == 0 || len(k.sizes) == 0 || len(k.details) == 0 || len(k.uses) == 0 {
			errs = append(errs, fmt.Errorf("%s: names, sizes, details and uses must not be empty", k.class))
		}
		for _, m := range k.materials {
			if _, ok := materials[m]; !ok {
				errs = append(errs, fmt.Errorf("%s: unknown material %s", k.class, m))
			} else if !slices.ContainsFunc(k.colors, materials[m].fits) {
				errs = append(errs, fmt.Errorf("%s: no color of the type fits material %s", k.class, m))
			}
		}
		for _, c := range k.colors {
			if _, ok := colors[c]; !ok {
				errs = append(errs, fmt.Errorf("%s: unknown color %s", k.class, c))
			}
		}
		for _, s := range k.styles {
			if _, ok := styles[s]; !ok {
				errs = append(errs, fmt.Errorf("%s: unknown style %s", k.class, s))
			}
		}
		for _, nm := range k.names {
			traits[nm.size] = true
			if nm.size != "" && !slices.ContainsFunc(k.sizes, func(s size) bool { return slices.Contains(s.traits, nm.size) }) {
				errs = append(errs, fmt.Errorf("%s: name %q needs a size with trait %s", k.class, nm.text, nm.size))
			}
			if !slices.ContainsFunc(k.materials, func(m string) bool { return nm.mats == nil || slices.Contains(nm.mats, m) }) {
				errs = append(errs, fmt.Errorf("%s: name %q allows none of the type's materials", k.class, nm.text))
			}
			for _, t := range nm.traits {
				traits[t] = true
			}
		}
		if !slices.ContainsFunc(k.sizes, func(s size) bool { return !s.only }) {
			errs = append(errs, fmt.Errorf("%s: every size is 'only'", k.class))
		}
		for _, s := range k.sizes {
			for _, t := range s.traits {
				traits[t] = true
			}
		}
		for _, t := range k.traits {
			for _, key := range t.keys {
				traits[key] = true
			}
		}
	}
	for _, s := range specs {
		for _, c := range slices.Concat(s.Want.Exact, s.Want.Near, s.Want.Related) {
			if !classes[c] {
				errs = append(errs, fmt.Errorf("query %s: unknown class %s", s.ID, c))
			}
		}
		for _, t := range slices.Concat(s.Want.Traits, s.Want.Essential) {
			if !traits[t] {
				errs = append(errs, fmt.Errorf("query %s: no product can have trait %s", s.ID, t))
			}
		}
		if len(s.Want.Exact) == 0 {
			errs = append(errs, fmt.Errorf("query %s: no Exact type", s.ID))
		}
	}
	return errors.Join(errs...)
}

// classCode abbreviates a class for SKUs: "Coffee Table" → "CT", "Sofa" →
// "SOF".
func classCode(class string) string {
	words := strings.Fields(class)
	if len(words) == 1 {
		return strings.ToUpper(class[:min(3, len(class))])
	}
	var b strings.Builder
	for _, w := range words {
		b.WriteByte(w[0])
	}
	return strings.ToUpper(b.String())
}

// Files names the fixture's files, in the order Write writes them.
var Files = []string{"catalog.jsonl", "queries.tsv", "qrels.txt"}

// Encode returns the contents of each file in Files.
func (f Fixture) Encode() (map[string][]byte, error) {
	catalog, err := f.encodeCatalog()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"catalog.jsonl": catalog, "queries.tsv": f.encodeQueries(), "qrels.txt": f.encodeQrels()}, nil
}

// Write writes the fixture's files into dir, creating it if needed.
func (f Fixture) Write(dir string) error {
	files, err := f.Encode()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, name := range Files {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// benchProduct is one line of the benchmark catalog format
// (../shared/data/bench/README.md), fields in its order.
type benchProduct = benchfmt.Row

func (f Fixture) encodeCatalog() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "Juniper & Vine", not "Juniper \u0026 Vine"
	for _, p := range f.Catalog {
		line := benchProduct{
			ID: p.ID, Name: p.Name, Slug: p.Slug, Description: p.Description, ProductClass: p.Class, Category: p.Category,
			Features: fmt.Sprintf("color:%s|material:%s|style:%s", p.Color, p.Material, p.Style), SKU: p.SKU, Price: benchfmt.Dollars(p.Cents),
		}
		if err := enc.Encode(line); err != nil {
			return nil, fmt.Errorf("encode product %s: %w", p.ID, err)
		}
	}
	return buf.Bytes(), nil
}

func (f Fixture) encodeQueries() []byte {
	var b bytes.Buffer
	b.WriteString("# Search relevance queries: id<TAB>text. Generated by\n")
	b.WriteString("# mdk/search/searcheval/internal/genrelevance; do not edit (see README.md).\n")
	kind := ""
	for _, s := range f.Specs {
		if s.Kind != kind {
			kind = s.Kind
			fmt.Fprintf(&b, "\n# kind: %s\n", kind)
		}
		fmt.Fprintf(&b, "%s\t%s\n", s.ID, s.Text)
	}
	return b.Bytes()
}

// encodeQrels writes TREC qrels, by query in file order, then product ID.
// No comments: trec_eval reads it as is.
func (f Fixture) encodeQrels() []byte {
	var b bytes.Buffer
	for _, s := range f.Specs {
		judged := f.Judgments[s.ID]
		ids := make([]string, 0, len(judged))
		for id := range judged {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(&b, "%s 0 %s %d\n", s.ID, id, judged[id])
		}
	}
	return b.Bytes()
}
