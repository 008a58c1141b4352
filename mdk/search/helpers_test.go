package search_test

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/search"
	"github.com/hyperrr/hyperrr/mdk/vector"
)

// conceptEmbedder is a deterministic test embedder: each word (or its
// concept, when listed) is hashed to one dimension with a sign, and the sum
// is normalised. Words of one concept land on the same dimension, so
// "somewhere to sleep" is near a bed without sharing a word with it.
type conceptEmbedder struct {
	dims  int
	calls int
	mu    sync.Mutex
	fail  error
}

var concepts = map[string]string{
	"sleep": "sleep", "bed": "sleep", "beds": "sleep", "bunk": "sleep", "mattress": "sleep", "nap": "sleep",
	"sit": "seat", "seat": "seat", "seating": "seat", "chair": "seat", "chairs": "seat", "stool": "seat",
	"glow": "light", "lamp": "light", "lighting": "light", "bright": "light",
}

func (e *conceptEmbedder) Model() string   { return "test-concepts" }
func (e *conceptEmbedder) Dimensions() int { return e.dims }

func (e *conceptEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.mu.Lock()
	e.calls++
	fail := e.fail
	e.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = e.vector(t)
	}
	return out, nil
}

func (e *conceptEmbedder) vector(text string) []float32 {
	v := make([]float32, e.dims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r < 'a' || r > 'z' }) {
		if c, ok := concepts[w]; ok {
			w = c
		}
		h := fnv.New64a()
		h.Write([]byte(w))
		sum := h.Sum64()
		sign := float32(1)
		if sum&1 == 1 {
			sign = -1
		}
		v[int(sum>>1)%e.dims] += sign
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n == 0 {
		v[0] = 1
		return v
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

// bruteIndex is an exact vector.Index that records the searches it gets.
type bruteIndex struct {
	mu       sync.Mutex
	items    map[string]vector.Item
	searches []vector.Filter
	fail     error
}

func newBruteIndex() *bruteIndex { return &bruteIndex{items: map[string]vector.Item{}} }

func (b *bruteIndex) Upsert(_ context.Context, items ...vector.Item) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, it := range items {
		b.items[it.ID] = it
	}
	return nil
}

func (b *bruteIndex) Delete(_ context.Context, ids ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		delete(b.items, id)
	}
	return nil
}

func (b *bruteIndex) Search(_ context.Context, q []float32, k int, f vector.Filter) ([]vector.Hit, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.searches = append(b.searches, f)
	if b.fail != nil {
		return nil, b.fail
	}
	var hits []vector.Hit
	for _, it := range b.items {
		if !matchesFilter(f, it.Fields) {
			continue
		}
		var dot float32
		for i := range q {
			dot += q[i] * it.Vector[i]
		}
		hits = append(hits, vector.Hit{ID: it.ID, Score: dot})
	}
	slices.SortFunc(hits, func(a, b vector.Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return hits[:min(k, len(hits))], nil
}

func matchesFilter(f vector.Filter, fields map[string]string) bool {
	for k, vs := range f {
		if !slices.Contains(vs, fields[k]) {
			return false
		}
	}
	return true
}

func (b *bruteIndex) Count(context.Context) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items), nil
}

func (b *bruteIndex) Close() error { return nil }

func (b *bruteIndex) searchCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.searches)
}

// fixture is a small furniture catalog written by hand for relevance and
// behaviour tests.
type fixtureDoc struct {
	id, title, typ, category, vendor, color, material string
	price                                             int64 // cents; 0 leaves the price out
	desc                                              string
}

var fixture = []fixtureDoc{
	{"p01", "Harbor Velvet Sofa", "Sofa", "Furniture / Living Room", "Harbor", "Blue", "Velvet", 89900, "A deep three-seat sofa in blue velvet."},
	{"p02", "Oslo Linen Sofa", "Sofa", "Furniture / Living Room", "Oslo", "Gray", "Linen", 74900, "Scandinavian sofa with linen upholstery and oak legs."},
	{"p03", "Chesterfield Leather Sofa", "Sofa", "Furniture / Living Room", "Harbor", "Brown", "Leather", 129900, "Tufted leather sofa with rolled arms."},
	{"p04", "Sleeper Sofa with Storage", "Sofa Bed", "Furniture / Living Room", "Oslo", "Gray", "Polyester", 99900, "Folds out for guests; storage under the seat."},
	{"p05", "Walnut Coffee Table", "Coffee Table", "Furniture / Living Room / Tables", "Elm & Co", "Brown", "Walnut", 34900, "Round coffee table in solid walnut."},
	{"p06", "Marble Coffee Table", "Coffee Table", "Furniture / Living Room / Tables", "Harbor", "White", "Marble", 59900, "Oval coffee table with a marble top and brass base."},
	{"p07", "Glass Side Table", "Side Table", "Furniture / Living Room / Tables", "Oslo", "Clear", "Glass", 14900, "A small table for beside the sofa."},
	{"p08", "Oak Dining Table", "Dining Table", "Furniture / Dining Room", "Elm & Co", "Natural", "Oak", 99900, "Solid oak dining table that seats six."},
	{"p09", "Oak Dining Chair", "Dining Chair", "Furniture / Dining Room", "Elm & Co", "Natural", "Oak", 14900, "Spindle-back dining chair in oak."},
	{"p10", "Velvet Accent Chair", "Accent Chair", "Furniture / Living Room", "Harbor", "Green", "Velvet", 29900, "A cosy chair for a reading corner."},
	{"p11", "Leather Armchair", "Armchair", "Furniture / Living Room", "Harbor", "Brown", "Leather", 45900, "Club-style armchair in aged leather."},
	{"p12", "Mesh Office Chair", "Office Chair", "Furniture / Office", "Workwell", "Black", "Mesh", 24900, "Ergonomic desk chair with lumbar support."},
	{"p13", "Standing Desk", "Desk", "Furniture / Office", "Workwell", "Brown", "Walnut", 54900, "Height-adjustable standing desk with a walnut top."},
	{"p14", "Writing Desk", "Desk", "Furniture / Office", "Elm & Co", "Natural", "Oak", 29900, "A compact writing desk with one drawer."},
	{"p15", "Six-Drawer Dresser", "Dresser", "Furniture / Bedroom", "Oslo", "White", "Pine", 39900, "A wide dresser with six deep drawers."},
	{"p16", "Tall Chest of Drawers", "Chest of Drawers", "Furniture / Bedroom", "Elm & Co", "Natural", "Oak", 44900, "Five drawers in a narrow oak frame."},
	{"p17", "Oak Nightstand", "Nightstand", "Furniture / Bedroom", "Elm & Co", "Natural", "Oak", 12900, "A bedside companion with one drawer and a shelf."},
	{"p18", "Wool Area Rug", "Rug", "Decor / Rugs", "Loomhouse", "Gray", "Wool", 19900, "Hand-woven wool rug, five by eight feet."},
	{"p19", "Jute Rug", "Rug", "Decor / Rugs", "Loomhouse", "Natural", "Jute", 9900, "Braided jute rug for entryways."},
	{"p20", "Walnut Media Console", "Media Console", "Furniture / Living Room", "Elm & Co", "Brown", "Walnut", 49900, "Low console with cable management for a television."},
	{"p21", "TV Stand with Drawers", "TV Stand", "Furniture / Living Room", "Workwell", "Black", "Engineered Wood", 29900, "Holds screens up to 65 inches."},
	{"p22", "Five-Shelf Bookcase", "Bookcase", "Furniture / Office", "Elm & Co", "Natural", "Oak", 19900, "Open bookcase with five shelves."},
	{"p23", "Floating Wall Shelf", "Shelf", "Decor / Shelving", "Loomhouse", "Brown", "Walnut", 4900, "A single walnut shelf for books or plants."},
	{"p24", "Brass Floor Lamp", "Floor Lamp", "Lighting", "Lumen", "Gold", "Brass", 15900, "Arc floor lamp with a linen shade."},
	{"p25", "Ceramic Table Lamp", "Table Lamp", "Lighting", "Lumen", "White", "Ceramic", 6900, "Glazed ceramic lamp for a desk or nightstand."},
	{"p26", "Linen Throw Pillow", "Throw Pillow", "Decor / Pillows", "Loomhouse", "Beige", "Linen", 2900, "Square pillow with a feather insert."},
	{"p27", "Velvet Cushion Cover", "Cushion Cover", "Decor / Pillows", "Loomhouse", "Green", "Velvet", 1900, "Zipped cover for a square cushion."},
	{"p28", "Teak Garden Bench", "Outdoor Bench", "Outdoor", "Harbor", "Natural", "Teak", 32900, "Weatherproof teak bench for the garden."},
	{"p29", "Patio Dining Set", "Dining Set", "Outdoor", "Harbor", "Black", "Aluminum", 89900, "Table and four chairs for the patio."},
	{"p30", "Metal Bar Stool", "Bar Stool", "Furniture / Kitchen", "Workwell", "Black", "Metal", 8900, "Backless stool with a footrest."},
	{"p31", "Bunk Bed", "Bed", "Furniture / Bedroom", "Oslo", "White", "Pine", 59900, "Twin-over-twin bunk for kids' rooms."},
	{"p32", "Platform Bed", "Bed", "Furniture / Bedroom", "Elm & Co", "Natural", "Oak", 79900, "Low platform frame, queen size."},
	{"p33", "Café Bistro Table", "Bistro Table", "Furniture / Kitchen", "Harbor", "Black", "Metal", 17900, "A little round table for two."},
	{"p34", "Mid-Century Sideboard", "Sideboard", "Furniture / Dining Room", "Elm & Co", "Brown", "Walnut", 79900, "Sliding doors and tapered legs."},
	{"p35", "Pine Wardrobe", "Wardrobe", "Furniture / Bedroom", "Oslo", "White", "Pine", 0, "Hanging rail and two shelves."},
	{"p36", "Round Tufted Ottoman", "Ottoman", "Furniture / Living Room", "Harbor", "Blue", "Velvet", 0, "Doubles as a footrest or extra seat."},
	{"p37", "Stoneware Coffee Mug", "Mug", "Kitchen & Tabletop", "Loomhouse", "White", "Stoneware", 1500, "Holds twelve ounces of coffee."},
	{"p38", "Linen Table Runner", "Table Runner", "Kitchen & Tabletop", "Loomhouse", "Beige", "Linen", 2500, "A runner for a long dining table."},
}

// categoryPath returns a category with all its prefixes, as Document
// expects.
func categoryPath(c string) []string {
	parts := strings.Split(c, " / ")
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = strings.Join(parts[:i+1], " / ")
	}
	return out
}

func (f fixtureDoc) document(created int64) search.Document {
	d := search.Document{
		ID: f.id,
		Text: map[string]string{"title": f.title, "type": f.typ, "category": f.category, "vendor": f.vendor,
			"attributes": f.color + " " + f.material, "description": f.desc},
		Keywords: map[string][]string{"category": categoryPath(f.category), "type": {f.typ}, "vendor": {f.vendor},
			"color": {f.color}, "material": {f.material}, "status": {"active"}},
		Numbers: map[string]int64{"created_at": created},
	}
	if f.price > 0 {
		d.Numbers["price"] = f.price
	}
	return d
}

func fixtureDocs() []search.Document {
	docs := make([]search.Document, len(fixture))
	for i, f := range fixture {
		docs[i] = f.document(int64(1000 + i))
	}
	return docs
}

// newFixtureIndex returns an index of the fixture (lexical only unless cfg
// sets vectors, in which case documents get the embedder's vectors).
func newFixtureIndex(t testing.TB, cfg search.Config) *search.Index {
	t.Helper()
	x := search.New(cfg)
	docs := fixtureDocs()
	if cfg.Embedder != nil {
		for i := range docs {
			v, err := cfg.Embedder.Embed(context.Background(), []string{docs[i].Text["title"] + " " + docs[i].Text["description"]})
			if err != nil {
				t.Fatal(err)
			}
			docs[i].Vector = v[0]
		}
	}
	if err := x.Upsert(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return x
}

func mustSearch(t testing.TB, x *search.Index, q search.Query) search.Result {
	t.Helper()
	res, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return res
}

func ids(res search.Result) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out
}

// walk pages through q and returns every hit in order.
func walk(t testing.TB, x *search.Index, q search.Query) []string {
	t.Helper()
	var all []string
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("pagination does not end")
		}
		res := mustSearch(t, x, q)
		all = append(all, ids(res)...)
		if res.NextCursor == "" {
			return all
		}
		q.Cursor = res.NextCursor
	}
}

func ptr(v int64) *int64 { return &v }

var errBoom = errors.New("boom")
