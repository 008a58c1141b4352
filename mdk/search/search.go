// Package search is the in-process hybrid search engine: a lexical ranker
// (BM25F over weighted fields, with stemming, synonyms and typo tolerance)
// and a vector ranker (mdk/vector over mdk/embed embeddings), fused by
// reciprocal rank fusion, with keyword and range filters, facet counts,
// sorting and stable cursor pagination. It knows documents, not products:
// the product module maps its catalog onto Documents.
package search

// Document is what the index knows about one searchable item.
type Document struct {
	ID string
	// Text holds the analysed fields by name ("title", "description",
	// "category", "vendor", "type", "tags", "attributes"); each field's
	// weight comes from Config.FieldWeights.
	Text map[string]string
	// Keywords are exact values for filters and facets. A category path is
	// given with all its prefixes ("Furniture", "Furniture / Tables") so a
	// filter on a parent matches its children.
	Keywords map[string][]string
	// Numbers are for range filters, range facets and sorting: "price"
	// (lowest variant price in minor units), "created_at" (unix ms).
	Numbers map[string]int64
	// Vector is the document's embedding (by Config.Embedder's model); nil
	// leaves the document out of the vector ranker.
	Vector []float32
}

// Range is an inclusive numeric range; a nil end is open.
type Range struct {
	Min *int64 `json:"min,omitempty"`
	Max *int64 `json:"max,omitempty"`
}

// Contains reports whether v is in r.
func (r Range) Contains(v int64) bool {
	return (r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max)
}

// Band is a labelled range for range facets ("Under $50").
type Band struct {
	Label string
	Range Range
}

// Mode selects the rankers, for evaluation and ablation.
type Mode string

const (
	ModeHybrid  Mode = ""        // lexical and vector, fused (the default)
	ModeLexical Mode = "lexical" // lexical only
	ModeVector  Mode = "vector"  // vector only
)

// Sort orders results. The zero value is by relevance (or newest first when
// there is no text); ties always break by ID so pages are stable.
type Sort struct {
	Field string // "" for relevance, or a Numbers field such as "price"
	Desc  bool
}

// Query is one search.
type Query struct {
	Text string
	// Filter keeps documents having, for every listed keyword field, one of
	// the listed values.
	Filter map[string][]string
	// Ranges keeps documents whose number field is in range.
	Ranges map[string]Range
	// Facets are keyword fields to count values of, over all matches.
	Facets []string
	// RangeFacets count matches per band of a number field.
	RangeFacets map[string][]Band
	Sort        Sort
	// Limit is the page size: default 20, at most 100.
	Limit int
	// Cursor continues from the page that returned it.
	Cursor string
	Mode   Mode
}

// Hit is one result.
type Hit struct {
	ID    string
	Score float64
}

// FacetCount is how many matches have a value.
type FacetCount struct {
	Value string
	Count int
}

// Result is one page of matches.
type Result struct {
	Hits []Hit
	// Total counts every match of the query and filters, not the page.
	Total int
	// Facets maps a field (keyword or range facet) to its counts, most
	// frequent first (range facets in band order).
	Facets map[string][]FacetCount
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string
}
