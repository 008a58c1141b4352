package relevance

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Product is one catalog entry, with the facts the judgments read.
type Product struct {
	ID          string
	Name        string
	Slug        string
	Description string
	Class       string // product type, the benchmark's productClass
	Category    string
	Color       string // keys of colors, materials and styles
	Material    string
	Style       string
	SKU         string
	Cents       int64 // price in US cents
	// Traits are the facts beyond color, material and style that a query
	// may ask for ("sleeper", "seats:6", "space-saving"), sorted. Every
	// trait is stated in the product's name or description.
	Traits []string
}

// Has reports whether the product has trait t.
func (p Product) Has(t string) bool {
	_, ok := slices.BinarySearch(p.Traits, t)
	return ok
}

// kind is a product type and everything needed to write products of it.
type kind struct {
	class     string
	category  string
	count     int // products generated at random
	names     []name
	materials []string
	colors    []string // allowed colors, narrowed by the material's
	styles    []string
	price     [2]int64 // base price range in dollars, scaled by material and size
	sizes     []size
	traits    []trait
	details   []string // sentences about construction and features
	uses      []string // sentences about where and how it is used
	care      []string // care, assembly or shipping sentences
}

// name is a way a product of the kind is called, with the traits that name
// implies, the size trait it needs ("Round Dining Table" needs a round
// size) and the materials it allows ("Upholstered Bed" is not oak).
type name struct {
	text   string
	traits []string
	size   string
	mats   []string // nil: any of the kind's
}

// size is a size a product of the kind comes in.
type size struct {
	label  string // for titles: `84"`, "Queen"; may be empty
	dims   string
	say    string // a sentence about the size; may be empty
	traits []string
	// only marks a size chosen only by a name asking for one of its traits
	// (a runner's size is not an area rug's).
	only bool
	pct  int64 // price scale in percent; 0 means 100
}

// trait is an optional feature: keys it adds, the chance in percent that a
// product gets it at random (0: only through a name), and how to say it.
type trait struct {
	keys []string
	pct  int
	say  []string
	mats []string // materials that may get it at random; nil: any
}

// n builds a name; with traits it implies them.
func n(text string, traits ...string) name { return name{text: text, traits: traits} }

// sized builds a name that needs a size with the given trait.
func sized(text, sizeTrait string, traits ...string) name {
	return name{text: text, traits: traits, size: sizeTrait}
}

// made restricts a name to some materials.
func made(nm name, mats ...string) name {
	nm.mats = mats
	return nm
}

// pins narrow the attribute choices of a built product to those with the
// given terms; empty pins leave a choice free.
type pins struct {
	color, material, style string
}

// build writes one product of k, or reports false when the pins leave no
// choice.
func build(r *rng, k *kind, pin pins) (Product, bool) {
	nm := pick(r, k.names)
	mats := filter(k.materials, func(m string) bool {
		return (nm.mats == nil || slices.Contains(nm.mats, m)) && (pin.material == "" || slices.Contains(materials[m].terms, pin.material))
	})
	if len(mats) == 0 {
		return Product{}, false
	}
	matName := pick(r, mats)
	mat := materials[matName]
	cols := filter(k.colors, func(c string) bool {
		return mat.fits(c) && (pin.color == "" || slices.Contains(colors[c].terms, pin.color))
	})
	stys := filter(k.styles, func(s string) bool { return pin.style == "" || slices.Contains(styles[s].terms, pin.style) })
	if len(cols) == 0 || len(stys) == 0 {
		return Product{}, false
	}
	sz := pick(r, filter(k.sizes, func(s size) bool {
		if nm.size != "" {
			return slices.Contains(s.traits, nm.size)
		}
		return !s.only
	}))
	p := Product{Class: k.class, Category: k.category, Material: matName, Color: pick(r, cols), Style: pick(r, stys)}
	traits := set{}
	traits.add(nm.traits...)
	traits.add(sz.traits...)
	var says []string
	for _, t := range k.traits {
		if t.pct > 0 && r.intn(100) < t.pct && (t.mats == nil || slices.Contains(t.mats, matName)) {
			traits.add(t.keys...)
		}
		if traits.hasAny(t.keys) && len(t.say) > 0 {
			says = append(says, pick(r, t.say))
		}
	}
	p.Traits = traits.sorted()
	p.Cents = price(r, k, mat, sz)
	w := writer{r: r, k: k, p: &p, noun: lowerNoun(nm.text), model: pick(r, models)}
	p.Name = w.title(nm.text, sz.label)
	p.Description = w.description(sz, says)
	return p, true
}

// price draws a price in the kind's range, scales it by material and size,
// and ends it the way shop prices end (.99, .00, .95).
func price(r *rng, k *kind, m material, s size) int64 {
	// The lower of two draws: shops stock more at the low end of a range.
	span := int(k.price[1] - k.price[0] + 1)
	dollars := k.price[0] + int64(min(r.intn(span), r.intn(span)))
	dollars = dollars * m.pct / 100
	if s.pct != 0 {
		dollars = dollars * s.pct / 100
	}
	dollars = max(dollars, 6)
	switch r.intn(10) {
	case 0, 1, 2:
		return dollars * 100
	case 3, 4:
		return dollars*100 - 5
	default:
		return dollars*100 - 1
	}
}

// writer writes a product's title and description.
type writer struct {
	r     *rng
	k     *kind
	p     *Product
	noun  string // the name in running text: "media console"
	model string
}

// titles are title shapes: {B} brand, {N} model, {T} type name, {M}
// material, {C} color, {S} style, {L} size label.
var titles = []string{
	"{B} {N} {T}",
	"{N} {T}",
	"{N} {M} {T}",
	"{B} {S} {M} {T}",
	"{N} {L} {T}",
	"{N} {C} {M} {T}",
	"{N} {T}, {C}",
	"{B} {N} {M} {T} in {C}",
	"{N} {S} {T}",
	"{B} {N} {L} {M} {T}",
}

func (w writer) title(typeName, label string) string {
	shapes := titles
	if label == "" {
		shapes = filter(titles, func(s string) bool { return !strings.Contains(s, "{L}") })
	}
	t := strings.NewReplacer(
		"{B}", pick(w.r, brands), "{N}", w.model, "{T}", typeName, "{M}", w.p.Material,
		"{C}", w.p.Color, "{S}", w.p.Style, "{L}", label,
	).Replace(pick(w.r, shapes))
	return strings.Join(strings.Fields(t), " ")
}

// openers start a description: {S} style adjective, {T} type name, {MC}
// material and color, {N} model, {B} brand.
var openers = []string{
	"A {S} {T} made of {MC}.",
	"The {N} {T} brings {S} character to any room with {MC}.",
	"Crafted from {MC}, this {S} {T} is built for everyday use.",
	"Meet the {N}: {a S} {T} in {MC}.",
	"Simple, sturdy and {S}, the {N} is {a T} made from {MC}.",
	"Our {N} {T} keeps things {S}, with {MC}.",
	"Designed for real homes, the {N} {T} combines {MC} with {S} styling.",
	"Looking for {a S} {T}? The {N} is made of {MC}.",
	"{MC} gives the {N} {T} its {S} look.",
	"This {S} {T} is made from {MC}.",
	"Part of the {N} collection, this {S} {T} pairs {MC} with careful details.",
	"With {MC} and {S} proportions, the {N} {T} feels at home almost anywhere.",
	"Made to last, the {N} is {a S} {T} in {MC}.",
	"From {B}: the {N}, {a S} {T} in {MC}.",
}

// dimsForms say a size.
var dimsForms = []string{"Measures %s.", "Dimensions: %s.", "Overall: %s.", "Size: %s."}

func (w writer) description(sz size, says []string) string {
	adj := styles[w.p.Style].adj
	opener := strings.NewReplacer(
		"{a S}", article(adj)+" "+adj, "{S}", adj, "{a T}", article(w.noun)+" "+w.noun, "{T}", w.noun, "{MC}", w.materialColor(),
		"{N}", w.model, "{B}", pick(w.r, brands),
	).Replace(pick(w.r, openers))
	var middle []string
	if sz.say != "" {
		middle = append(middle, sz.say)
	}
	middle = append(middle, says...)
	middle = append(middle, pickN(w.r, w.k.details, 1+w.r.intn(2))...)
	if sz.dims != "" {
		middle = append(middle, fmt.Sprintf(pick(w.r, dimsForms), sz.dims))
	}
	middle = append(middle, pick(w.r, w.k.uses))
	shuffle(w.r, middle)
	sentences := append([]string{capitalize(opener)}, middle...)
	if len(w.k.care) > 0 {
		sentences = append(sentences, pick(w.r, w.k.care))
	}
	return strings.Join(sentences, " ")
}

// materialColor says the material and color together: "navy velvet",
// "solid oak with a natural finish".
func (w writer) materialColor() string {
	m := materials[w.p.Material]
	mat := pick(w.r, m.say)
	col := pick(w.r, colors[w.p.Color].say)
	switch {
	case w.p.Color == "Clear":
		return "clear " + mat
	case m.group == soft && w.r.intn(2) == 0:
		return col + " " + mat
	case m.group == soft:
		return mat + " in " + col
	case w.p.Color == "Natural":
		return pick(w.r, []string{mat + " with a natural finish", mat + " in its natural tone"})
	}
	return pick(w.r, []string{mat + " with " + article(col) + " " + col + " finish", mat + " in " + col, col + "-finished " + mat})
}

// lowerNoun lowercases a type name for running text but keeps acronyms and
// letter shapes: "TV Stand" → "TV stand", "L-Shaped Desk" → "L-shaped desk".
func lowerNoun(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		switch {
		case w == strings.ToUpper(w) && len(w) > 1:
			// an acronym such as TV or LED
		case len(w) > 2 && w[1] == '-' && unicode.IsUpper(rune(w[0])):
			words[i] = w[:2] + strings.ToLower(w[2:])
		default:
			words[i] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

// article returns "a" or "an" for the word that follows it, by sound for
// a letter shape ("an L-shaped", "a U-shaped").
func article(word string) string {
	if len(word) > 1 && word[1] == '-' && unicode.IsUpper(rune(word[0])) {
		if strings.ContainsRune("AEFHILMNORSX", rune(word[0])) {
			return "an"
		}
		return "a"
	}
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

func capitalize(s string) string {
	for i, r := range s {
		return s[:i] + string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// slugify makes a URL handle: lowercase letters and digits, runs of
// anything else one hyphen.
func slugify(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == 'é':
			r = 'e'
		case r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)):
			hyphen = b.Len() > 0
			continue
		}
		if hyphen {
			b.WriteByte('-')
			hyphen = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// set is a set of trait keys.
type set map[string]bool

func (s set) add(keys ...string) {
	for _, k := range keys {
		s[k] = true
	}
}

func (s set) hasAny(keys []string) bool {
	for _, k := range keys {
		if s[k] {
			return true
		}
	}
	return false
}

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}
