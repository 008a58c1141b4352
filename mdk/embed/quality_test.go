package embed_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/embed"
)

// intentQueries are shopper requests over the benchmark catalog, each with
// the product classes that answer it and, after "&", words the product
// text must also hold. Most are phrased the way the catalog is not
// ("couch", "somewhere to keep my spices"): what the concept lexicon is
// for.
var intentQueries = []struct{ query, want string }{
	{"couch", "Sofa|Loveseat"},
	{"comfy couch for the living room", "Sofa|Loveseat"},
	{"somewhere to keep my spices", "Spice Rack"},
	{"something to hold my books", "Bookcase"},
	{"lighting above the dining table", "Pendant Light|Chandelier"},
	{"somewhere to sit in the garden", "Outdoor Bench|Adirondack Chair|Patio Dining Set|Hammock"},
	{"a place to work from home", "Desk"},
	{"relax in the backyard", "Hammock|Adirondack Chair|Outdoor Bench"},
	{"pot for my plants", "Planter|Vase"},
	{"drinks trolley", "Bar Cart"},
	{"chest of drawers", "Dresser"},
	{"tv console", "TV Stand|Console Table"},
	{"bedside table", "Nightstand"},
	{"bedside lamp", "Table Lamp"},
	{"rug for the living room", "Area Rug"},
	{"something for the wall", "Wall Art|Wall Mirror|Wall Sconce|Clock"},
	{"seat at the kitchen counter", "Bar Stool"},
	{"plates and bowls", "Dinnerware Set"},
	{"candles", "Candle Holder"},
	{"flowers", "Vase|Planter"},
	{"footrest", "Ottoman"},
	{"cushion for the sofa", "Throw Pillow"},
	{"reading light", "Floor Lamp|Table Lamp"},
	{"eat outside", "Patio Dining Set"},
	{"kitchen storage", "Spice Rack|Kitchen Island|Bar Cart"},
	{"bookshelf", "Bookcase"},
	{"bokcase", "Bookcase"},
	{"armchair", "Accent Chair"},
	{"velvet sofa", "Sofa"},
	{"oak dining table", "Dining Table"},
	{"hanging light", "Pendant Light|Chandelier"},
	{"bar stools", "Bar Stool"},
	{"navy velvet sofa", "Sofa&navy&velvet"},
	{"teak outdoor bench", "Outdoor Bench&teak"},
	{"industrial metal floor lamp", "Floor Lamp&industrial&metal"},
	{"scandinavian oak desk", "Desk&scandinavian&oak"},
	{"rattan planter", "Planter&rattan"},
	{"marble coffee table", "Coffee Table&marble"},
	{"rustic walnut dresser", "Dresser&rustic&walnut"},
	{"gold wall mirror", "Wall Mirror&gold"},
}

// precisionAt10 is the mean share of the ten nearest products (by exact
// scan) that answer each intent query.
func precisionAt10(t *testing.T, e embed.Embedder, products []benchProduct, texts []string) float64 {
	t.Helper()
	docs := embedAll(t, e, texts...)
	var total float64
	for _, q := range intentQueries {
		qv := embedAll(t, e, q.query)[0]
		order := make([]int, len(docs))
		scores := make([]float32, len(docs))
		for i, d := range docs {
			order[i], scores[i] = i, dot(qv, d)
		}
		slices.SortFunc(order, func(a, b int) int {
			switch {
			case scores[a] > scores[b]:
				return -1
			case scores[a] < scores[b]:
				return 1
			}
			return a - b
		})
		parts := strings.Split(q.want, "&")
		classes := strings.Split(parts[0], "|")
		good := 0
		for _, i := range order[:10] {
			ok := slices.Contains(classes, products[i].ProductClass)
			for _, word := range parts[1:] {
				ok = ok && strings.Contains(strings.ToLower(texts[i]), word)
			}
			if ok {
				good++
			}
		}
		total += float64(good) / 10
	}
	return total / float64(len(intentQueries))
}

// TestLocalQuality guards the local embedder's relevance on the benchmark
// catalog (name + description per product, exact nearest neighbours).
// Measured: P@10 0.63 at 256 dimensions, 0.68 at 1024; an IDF table
// lowers them to 0.59 and 0.67 on these queries, which is why it is off by
// default.
func TestLocalQuality(t *testing.T) {
	products := loadCatalog(t)
	texts := make([]string, len(products))
	for i, p := range products {
		texts[i] = p.Name + ". " + p.Description
	}
	for _, tc := range []struct {
		dims  int
		floor float64
	}{{256, 0.58}, {1024, 0.64}} {
		l := embed.NewLocal(tc.dims)
		p := precisionAt10(t, l, products, texts)
		pIDF := precisionAt10(t, l.WithIDF(embed.FitIDF(texts)), products, texts)
		t.Logf("%d dimensions: P@10 %.3f, with IDF %.3f", tc.dims, p, pIDF)
		if p < tc.floor {
			t.Errorf("%d dimensions: P@10 %.3f, want at least %.2f", tc.dims, p, tc.floor)
		}
	}
}
