package product

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/search"
)

// SearchInput is UCP catalog_search.json's search_request, with Hyperrr
// extensions UCP allows (more filters, sort, facets).
type SearchInput struct {
	Query       string            `json:"query,omitempty" jsonschema:"free-text search, e.g. 'green pine bar cart' or 'oak coffee table under $300'; a price phrase such as 'under $300' becomes a price filter"`
	Filters     *SearchFilters    `json:"filters,omitempty"`
	Context     *CatalogContext   `json:"context,omitempty"`
	Signals     map[string]string `json:"signals,omitempty" jsonschema:"platform signals; accepted and not used"`
	Attribution map[string]string `json:"attribution,omitempty" jsonschema:"campaign parameters; accepted and not used"`
	Pagination  *PageRequest      `json:"pagination,omitempty"`
	Sort        string            `json:"sort,omitempty" jsonschema:"relevance (default), price_asc, price_desc or newest"`
}

// SearchFilters is UCP search_filters.json plus Hyperrr's extensions.
type SearchFilters struct {
	Categories []string            `json:"categories,omitempty" jsonschema:"keep products in any of these categories (a parent category includes its children)"`
	Price      *PriceFilter        `json:"price,omitempty" jsonschema:"keep products whose lowest price is in this range (minor units)"`
	InStock    *bool               `json:"in_stock,omitempty" jsonschema:"true keeps products with a variant available to buy"`
	Vendors    []string            `json:"vendors,omitempty" jsonschema:"keep products of any of these vendors"`
	Attributes map[string][]string `json:"attributes,omitempty" jsonschema:"attribute name to accepted values, e.g. material: [oak, walnut]"`
}

// PageRequest is UCP pagination.json's request.
type PageRequest struct {
	Cursor string `json:"cursor,omitempty" jsonschema:"cursor from the previous page"`
	Limit  int    `json:"limit,omitempty" jsonschema:"page size, 1 to 100; default 10"`
}

// PageInfo is UCP pagination.json's response.
type PageInfo struct {
	Cursor      string `json:"cursor,omitempty" jsonschema:"pass back to get the next page"`
	HasNextPage bool   `json:"has_next_page"`
	TotalCount  int    `json:"total_count" jsonschema:"products matching the query and filters"`
}

// Facet counts matching products per value of one field.
type Facet struct {
	Name   string       `json:"name" jsonschema:"category, vendor or price"`
	Values []FacetValue `json:"values"`
}

// FacetValue is one value of a facet and how many matches have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// SearchOutput is UCP catalog_search.json's search_response (the MCP edge
// adds the ucp envelope) plus facets.
type SearchOutput struct {
	Products   []UCPProduct `json:"products"`
	Pagination PageInfo     `json:"pagination"`
	Facets     []Facet      `json:"facets" jsonschema:"counts per category, vendor and price band over all matches, for refining the search"`
	Messages   []UCPMessage `json:"messages,omitempty"`
}

const defaultSearchLimit = 10

// Validate checks ranges and the sort.
func (in SearchInput) Validate() error {
	var errs []error
	if f := in.Filters; f != nil && f.Price != nil {
		if (f.Price.Min != nil && *f.Price.Min < 0) || (f.Price.Max != nil && *f.Price.Max < 0) {
			errs = append(errs, mdk.Invalid("filters.price", "prices are zero or more, in minor units"))
		} else if f.Price.Min != nil && f.Price.Max != nil && *f.Price.Min > *f.Price.Max {
			errs = append(errs, mdk.Invalid("filters.price", "min (%d) is above max (%d)", *f.Price.Min, *f.Price.Max))
		}
	}
	if p := in.Pagination; p != nil && (p.Limit < 0 || p.Limit > search.MaxLimit) {
		errs = append(errs, mdk.Invalid("pagination.limit", "use 1 to %d", search.MaxLimit))
	}
	if _, ok := sorts[in.Sort]; !ok {
		errs = append(errs, mdk.Invalid("sort", "use relevance, price_asc, price_desc or newest"))
	}
	return errors.Join(errs...)
}

var sorts = map[string]search.Sort{
	"": {}, "relevance": {}, "price_asc": {Field: "price"}, "price_desc": {Field: "price", Desc: true},
	"newest": {Field: "created_at", Desc: true},
}

// priceBands are the price facet's bands, in the store currency's minor
// units (assumes two decimals, as USD/EUR/GBP).
var priceBands = []search.Band{
	{Label: "under 50", Range: search.Range{Max: ptr(int64(4999))}},
	{Label: "50-100", Range: search.Range{Min: ptr(int64(5000)), Max: ptr(int64(9999))}},
	{Label: "100-250", Range: search.Range{Min: ptr(int64(10000)), Max: ptr(int64(24999))}},
	{Label: "250-500", Range: search.Range{Min: ptr(int64(25000)), Max: ptr(int64(49999))}},
	{Label: "500-1000", Range: search.Range{Min: ptr(int64(50000)), Max: ptr(int64(99999))}},
	{Label: "1000 and up", Range: search.Range{Min: ptr(int64(100000))}},
}

func (s *searchPart) registerSearchOp(reg *mdk.Registry) error {
	return mdk.Register(reg, mdk.Operation[SearchInput, SearchOutput]{
		Name: "search_catalog",
		Description: "Search the store's catalog of active products by words and filters. Use it to find products for a shopper's request in their own words " +
			"(typos, synonyms and descriptions like 'something to hold spices' work); 'under $300' in the query filters by price. " +
			"Returns up to `pagination.limit` products (default 10) with variants, prices in minor units and availability, " +
			"a cursor for the next page, the total match count, and facet counts (category, vendor, price) for refining.",
		Access: mdk.AccessPublic, Effect: mdk.EffectRead, Idempotent: true,
		UCP:    &mdk.UCPMethod{Capability: "dev.ucp.shopping.catalog.search", Object: "catalog"},
		Handle: s.searchCatalog,
	})
}

func (s *searchPart) searchCatalog(ctx context.Context, in SearchInput) (SearchOutput, error) {
	key, cache := s.results.key(in)
	if cache {
		if out, ok := s.results.get(key); ok {
			return out, nil
		}
	}
	out, err := s.runSearch(ctx, in)
	if err == nil && cache {
		s.results.put(key, out)
	}
	return out, err
}

// runSearch answers a search from the index and the product rows.
func (s *searchPart) runSearch(ctx context.Context, in SearchInput) (SearchOutput, error) {
	q, msgs := s.query(in)
	res, err := s.index.Search(ctx, q)
	if err != nil {
		return SearchOutput{}, relocateSearchError(err)
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	ps, err := s.m.store.getProducts(ctx, s.m.rt.DB, ids)
	if err != nil {
		return SearchOutput{}, err
	}
	out := SearchOutput{
		Products:   make([]UCPProduct, 0, len(ps)),
		Pagination: PageInfo{Cursor: res.NextCursor, HasNextPage: res.NextCursor != "", TotalCount: res.Total},
		Facets:     []Facet{},
		Messages:   msgs,
	}
	for _, p := range ps {
		if p.Status == StatusActive { // an archive may land between index and read
			out.Products = append(out.Products, toUCPProduct(p, p.Variants))
		}
	}
	for _, name := range []string{"category", "vendor", "price"} {
		f := Facet{Name: name, Values: []FacetValue{}}
		for _, c := range res.Facets[name] {
			f.Values = append(f.Values, FacetValue{Value: c.Value, Count: c.Count})
		}
		out.Facets = append(out.Facets, f)
	}
	return out, nil
}

// query turns the request into an index query, reading a price intent out
// of the text ("under $300") and saying so in a message.
func (s *searchPart) query(in SearchInput) (search.Query, []UCPMessage) {
	text, intent, phrase := priceIntent(in.Query)
	q := search.Query{
		Text:        text,
		Filter:      map[string][]string{"status": {string(StatusActive)}},
		Ranges:      map[string]search.Range{},
		Facets:      []string{"category", "vendor"},
		RangeFacets: map[string][]search.Band{"price": priceBands},
		Sort:        sorts[in.Sort],
		Limit:       defaultSearchLimit,
	}
	if p := in.Pagination; p != nil {
		q.Cursor = p.Cursor
		if p.Limit > 0 {
			q.Limit = p.Limit
		}
	}
	var msgs []UCPMessage
	price := search.Range{}
	if f := in.Filters; f != nil {
		if len(f.Categories) > 0 {
			q.Filter["category"] = f.Categories
		}
		if len(f.Vendors) > 0 {
			q.Filter["vendor"] = f.Vendors
		}
		if f.InStock != nil {
			q.Filter["in_stock"] = []string{strconv.FormatBool(*f.InStock)}
		}
		for name, values := range f.Attributes {
			lower := make([]string, len(values))
			for i, v := range values {
				lower[i] = strings.ToLower(v)
			}
			q.Filter["attr."+strings.ToLower(name)] = lower
		}
		if f.Price != nil {
			if in.Context != nil && in.Context.Currency != "" && in.Context.Currency != s.m.currency {
				msgs = append(msgs, UCPMessage{Type: "warning", Code: "currency_not_supported", Path: "$.filters.price",
					Content: fmt.Sprintf("prices are in %s; the price filter in %s was ignored", s.m.currency, in.Context.Currency)})
			} else {
				price = search.Range{Min: f.Price.Min, Max: f.Price.Max}
			}
		}
	}
	if intent != nil && price.Min == nil && price.Max == nil {
		price = *intent
		msgs = append(msgs, UCPMessage{Type: "info", Code: "price_intent", Path: "$.query",
			Content: fmt.Sprintf("read %q as a price filter (%s, %s)", phrase, describeRange(price), s.m.currency)})
	}
	if price.Min != nil || price.Max != nil {
		q.Ranges["price"] = price
	}
	return q, msgs
}

var (
	money        = `\$?\s*(\d[\d,]*(?:\.\d{1,2})?)\s*(?:dollars|usd|bucks)?`
	priceUnder   = regexp.MustCompile(`(?i)\b(?:under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?|within)\s+` + money)
	priceOver    = regexp.MustCompile(`(?i)\b(?:over|above|more than|at least|from|min(?:imum)?)\s+` + money)
	priceBetween = regexp.MustCompile(`(?i)\b(?:between\s+)?\$\s*(\d[\d,]*(?:\.\d{1,2})?)\s*(?:and|to|-)\s*\$?\s*(\d[\d,]*(?:\.\d{1,2})?)`)
	spaceRunsRe  = regexp.MustCompile(`\s+`)
)

// priceIntent finds a price phrase in a query, returning the text without
// it, the range in minor units, and the phrase. "oak coffee table under
// $300" → "oak coffee table", ≤ 30000.
func priceIntent(text string) (string, *search.Range, string) {
	if m := priceBetween.FindStringSubmatchIndex(text); m != nil {
		lo, hi := parseMoney(text[m[2]:m[3]]), parseMoney(text[m[4]:m[5]])
		if lo >= 0 && hi >= lo {
			return cut(text, m), &search.Range{Min: &lo, Max: &hi}, strings.TrimSpace(text[m[0]:m[1]])
		}
	}
	if m := priceUnder.FindStringSubmatchIndex(text); m != nil {
		if v := parseMoney(text[m[2]:m[3]]); v > 0 {
			return cut(text, m), &search.Range{Max: &v}, strings.TrimSpace(text[m[0]:m[1]])
		}
	}
	if m := priceOver.FindStringSubmatchIndex(text); m != nil && (strings.Contains(text[m[0]:m[1]], "$") || priceWordFollows(text, m)) {
		if v := parseMoney(text[m[2]:m[3]]); v > 0 {
			return cut(text, m), &search.Range{Min: &v}, strings.TrimSpace(text[m[0]:m[1]])
		}
	}
	return text, nil, ""
}

// priceWordFollows tells "over 500 dollars" (a price) from "over 2 people"
// (not one) when no $ sign is given.
func priceWordFollows(text string, m []int) bool {
	phrase := strings.ToLower(text[m[0]:m[1]])
	return strings.Contains(phrase, "dollar") || strings.Contains(phrase, "usd") || strings.Contains(phrase, "bucks")
}

func cut(text string, m []int) string {
	return strings.TrimSpace(spaceRunsRe.ReplaceAllString(text[:m[0]]+" "+text[m[1]:], " "))
}

// parseMoney reads "1,299.50" as 129950 minor units; -1 if malformed.
func parseMoney(s string) int64 {
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1e12 {
		return -1
	}
	cents := int64(0)
	if frac != "" {
		f, err := strconv.ParseInt((frac + "0")[:2], 10, 64)
		if err != nil {
			return -1
		}
		cents = f
	}
	return w*100 + cents
}

func describeRange(r search.Range) string {
	switch {
	case r.Min != nil && r.Max != nil:
		return fmt.Sprintf("%s to %s", formatMinor(*r.Min), formatMinor(*r.Max))
	case r.Max != nil:
		return "at most " + formatMinor(*r.Max)
	case r.Min != nil:
		return "at least " + formatMinor(*r.Min)
	}
	return "any price"
}

func formatMinor(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

// relocateSearchError maps the index's field names onto this operation's
// input ("cursor" → "pagination.cursor").
func relocateSearchError(err error) error {
	e := mdk.AsError(err)
	switch e.Field {
	case "cursor", "limit":
		c := *e
		c.Field = "pagination." + e.Field
		return &c
	case "text":
		c := *e
		c.Field = "query"
		return &c
	}
	return err
}

func ptr[T any](v T) *T { return &v }

// SearchExternalIDs runs a search as search_catalog does (price intent
// included) and returns the external IDs of up to limit results (the
// product ID where a product has none), best first. mode selects the
// rankers. It is how `hyperrr eval search` scores relevance.
func (m *Module) SearchExternalIDs(ctx context.Context, text string, mode search.Mode, limit int) ([]string, error) {
	if m.search == nil {
		return nil, mdk.Errorf(mdk.CodeUnavailable, "search is not running")
	}
	q, _ := m.search.query(SearchInput{Query: text})
	q.Mode, q.Limit = mode, min(limit, search.MaxLimit)
	q.Facets, q.RangeFacets = nil, nil
	var ids []string
	for len(ids) < limit {
		res, err := m.search.index.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		if res.NextCursor == "" {
			break
		}
		q.Cursor = res.NextCursor
	}
	ps, err := m.store.getProducts(ctx, m.rt.DB, ids)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.ExternalID != "" {
			out = append(out, p.ExternalID)
		} else {
			out = append(out, p.ID)
		}
	}
	return out, nil
}

// WaitSearchReady blocks until the index is built and every queued
// embedding is stored, or ctx ends.
func (m *Module) WaitSearchReady(ctx context.Context) error {
	if m.search == nil {
		return mdk.Errorf(mdk.CodeUnavailable, "search is not running")
	}
	select {
	case <-m.search.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	m.search.waitEmbedded(ctx)
	return ctx.Err()
}

// SearchStatus reports how many products the search index holds and
// whether the ANN vector index has taken over from the exact one.
func (m *Module) SearchStatus() (products int, annReady bool) {
	if m.search == nil {
		return 0, false
	}
	return m.search.index.Len(), m.search.vectors != nil && m.search.vectors.Switched()
}

// SearchGeneration changes whenever this instance's search index applies a
// change (a product or inventory event, new embeddings, the ANN graph
// taking over). Benchmarks and tools wait for it to hold still to know
// that a bulk change has been taken in.
func (m *Module) SearchGeneration() uint64 {
	if m.search == nil || m.search.results == nil {
		return 0
	}
	return m.search.results.gen.Load()
}
