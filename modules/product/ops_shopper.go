package product

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// maxLookupIDs bounds one lookup_catalog request (UCP lets a server set
// its batch limit and reject larger requests).
const maxLookupIDs = 50

// CatalogFilters is UCP shopping/types/search_filters.json.
type CatalogFilters struct {
	Categories []string     `json:"categories,omitempty" jsonschema:"keep products in any of these categories (a parent category includes its children)"`
	Price      *PriceFilter `json:"price,omitempty" jsonschema:"keep variants priced within this range"`
}

// PriceFilter is UCP common/types/price_filter.json: an inclusive range in
// minor units of context.currency (the store currency when absent).
type PriceFilter struct {
	Min *int64 `json:"min,omitempty" jsonschema:"lowest price in minor units"`
	Max *int64 `json:"max,omitempty" jsonschema:"highest price in minor units"`
}

// CatalogContext is UCP common/types/context.json: hints about the buyer.
// The catalog has one market, so only currency changes anything (a price
// filter in another currency is ignored, with a message).
type CatalogContext struct {
	AddressCountry string `json:"address_country,omitempty"`
	AddressRegion  string `json:"address_region,omitempty"`
	PostalCode     string `json:"postal_code,omitempty"`
	Location       string `json:"location,omitempty"`
	Intent         string `json:"intent,omitempty" jsonschema:"what the buyer is looking for, in their words"`
	Language       string `json:"language,omitempty"`
	Currency       string `json:"currency,omitempty" jsonschema:"ISO 4217 currency of the price filter"`
}

// CatalogRequest is what every UCP catalog request may carry besides its
// identifiers or query. Search embeds it too.
type CatalogRequest struct {
	Filters     *CatalogFilters   `json:"filters,omitempty"`
	Context     *CatalogContext   `json:"context,omitempty"`
	Signals     map[string]string `json:"signals,omitempty" jsonschema:"platform signals such as dev.ucp.buyer_ip; accepted and not used"`
	Attribution map[string]string `json:"attribution,omitempty" jsonschema:"campaign parameters; accepted and not used"`
}

// Validate checks the price range.
func (r CatalogRequest) Validate() error {
	if r.Filters != nil && r.Filters.Price != nil {
		p := r.Filters.Price
		if (p.Min != nil && *p.Min < 0) || (p.Max != nil && *p.Max < 0) {
			return mdk.Invalid("filters.price", "prices are zero or more, in minor units")
		}
		if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
			return mdk.Invalid("filters.price", "min (%d) is above max (%d)", *p.Min, *p.Max)
		}
	}
	return nil
}

// variantFilter returns the predicate the request's filters put on
// variants of p (nil: keep all), and a message when the price filter is
// ignored because it is in another currency.
func (r CatalogRequest) variantFilter(storeCurrency string) (func(Product, Variant) bool, []UCPMessage) {
	if r.Filters == nil {
		return nil, nil
	}
	var msgs []UCPMessage
	cats := r.Filters.Categories
	price := r.Filters.Price
	if price != nil && r.Context != nil && r.Context.Currency != "" && r.Context.Currency != storeCurrency {
		msgs = append(msgs, UCPMessage{Type: "info", Code: "filter_ignored",
			Content: fmt.Sprintf("prices are in %s; the price filter in %s was not applied", storeCurrency, r.Context.Currency)})
		price = nil
	}
	if len(cats) == 0 && price == nil {
		return nil, msgs
	}
	return func(p Product, v Variant) bool {
		if len(cats) > 0 && !slices.ContainsFunc(cats, func(c string) bool { return inCategory(p.Category, c) }) {
			return false
		}
		if price != nil && ((price.Min != nil && v.Price.Amount < *price.Min) || (price.Max != nil && v.Price.Amount > *price.Max)) {
			return false
		}
		return true
	}, msgs
}

// inCategory reports whether path is category c or below it, ignoring
// case and spacing around separators.
func inCategory(path, c string) bool {
	path, c = strings.ToLower(path), strings.ToLower(normalizeCategory(c))
	return c != "" && (path == c || strings.HasPrefix(path, c+" / "))
}

// LookupInput is UCP catalog_lookup.json lookup_request.
type LookupInput struct {
	IDs []string `json:"ids" jsonschema:"up to 50 product IDs, variant IDs, SKUs or handles"`
	CatalogRequest
}

// Validate checks the identifiers and filters.
func (in LookupInput) Validate() error {
	var errs []error
	if len(in.IDs) == 0 || len(in.IDs) > maxLookupIDs {
		errs = append(errs, mdk.Invalid("ids", "give between 1 and %d identifiers", maxLookupIDs))
	}
	for i, id := range in.IDs {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("ids[%d]", i), "is empty"))
		}
	}
	errs = append(errs, in.CatalogRequest.Validate())
	return errors.Join(errs...)
}

// LookupOutput is UCP lookup_response without the ucp envelope.
type LookupOutput struct {
	Products []UCPProduct `json:"products" jsonschema:"each product once; its variants carry inputs saying which identifiers resolved to them"`
	Messages []UCPMessage `json:"messages,omitempty" jsonschema:"a not_found message per identifier that matched nothing"`
}

// GetProductInput is UCP catalog_lookup.json get_product_request.
type GetProductInput struct {
	ID          string              `json:"id" jsonschema:"product ID, variant ID, handle or SKU"`
	Selected    []UCPSelectedOption `json:"selected,omitempty" jsonschema:"option values chosen so far, e.g. Color: Blue; the answer says which other values are available with them"`
	Preferences []string            `json:"preferences,omitempty" jsonschema:"option names to keep first when no variant matches every selection, e.g. [Color, Size] gives up Size before Color"`
	CatalogRequest
}

// Validate checks the identifier, selections and filters.
func (in GetProductInput) Validate() error {
	var errs []error
	if strings.TrimSpace(in.ID) == "" {
		errs = append(errs, mdk.Invalid("id", "is required: a product ID, variant ID, handle or SKU"))
	}
	seen := map[string]bool{}
	for i, s := range in.Selected {
		if seen[s.Name] {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("selected[%d].name", i), "%s is selected twice; give one value per option", s.Name))
		}
		seen[s.Name] = true
	}
	errs = append(errs, in.CatalogRequest.Validate())
	return errors.Join(errs...)
}

// GetProductOutput is UCP get_product_response without the ucp envelope.
type GetProductOutput struct {
	Product  UCPProduct   `json:"product"`
	Messages []UCPMessage `json:"messages,omitempty"`
}

func (m *Module) registerShopperOps(r *mdk.Registry) error {
	return errors.Join(
		mdk.Register(r, mdk.Operation[GetProductInput, GetProductOutput]{
			Name: "get_product",
			Description: "Get one product in full for a purchase decision, by product ID, variant ID, handle or SKU: description, images, options, price range and its variants with price and availability. " +
				"Pass selected option values (e.g. Color: Blue) to narrow to matching variants; every option value then says whether it exists and is available with the others. " +
				"The first variant is the featured one; put its ID in the cart. Only products for sale are found.",
			Access: mdk.AccessPublic, Effect: mdk.EffectRead, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: "dev.ucp.shopping.catalog.lookup", Object: "catalog", Resource: "products"},
			Handle: m.getProduct,
		}),
		mdk.Register(r, mdk.Operation[LookupInput, LookupOutput]{
			Name: "lookup_catalog",
			Description: "Look up several products at once by identifiers you already have (product IDs, variant IDs, SKUs or handles; up to 50), e.g. to refresh saved items or check prices. " +
				"A product ID or handle returns the product with one featured variant; a variant ID or SKU returns that variant. Each variant's inputs says which identifiers matched it; " +
				"identifiers that match nothing come back as not_found messages. To find products by words, use search_catalog.",
			Access: mdk.AccessPublic, Effect: mdk.EffectRead, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: "dev.ucp.shopping.catalog.lookup", Object: "catalog"},
			Handle: m.lookup,
		}),
	)
}

// visible reports whether the caller may see p: shoppers and anonymous
// callers see active products only, merchants see everything.
func visible(ctx context.Context, p Product) bool {
	return p.Status == StatusActive || mdk.PrincipalFrom(ctx).IsMerchant()
}

// lookupHit is one product of a lookup answer and the identifiers that
// resolved to each of its variants.
type lookupHit struct {
	product Product
	inputs  map[string][]UCPInputCorrelation // variant ID → inputs
}

// lookup resolves every identifier as a product ID, handle, variant ID and
// SKU at once (an identifier may be several), then groups the matches by
// product, each product once.
func (m *Module) lookup(ctx context.Context, in LookupInput) (LookupOutput, error) {
	ids := make([]string, len(in.IDs))
	for i, id := range in.IDs {
		ids[i] = strings.TrimSpace(id)
	}
	ids = dedupe(ids)
	s, q := m.store, m.store.db
	var (
		byID, byHandle  []Product
		variants, bySKU []Variant
	)
	for _, load := range []func() error{
		func() (err error) { byID, err = s.getProducts(ctx, q, ids); return err },
		func() (err error) { byHandle, err = s.productsByHandles(ctx, q, ids); return err },
		func() (err error) { variants, err = s.getVariants(ctx, q, ids); return err },
		func() (err error) { bySKU, err = s.variantsBySKU(ctx, q, ids); return err },
	} {
		if err := load(); err != nil {
			return LookupOutput{}, fmt.Errorf("lookup catalog: %w", err)
		}
	}
	products := map[string]Product{}
	for _, p := range append(byID, byHandle...) {
		products[p.ID] = p
	}
	var missing []string
	for _, v := range append(variants, bySKU...) {
		if _, ok := products[v.ProductID]; !ok {
			missing = append(missing, v.ProductID)
		}
	}
	parents, err := s.getProducts(ctx, q, missing)
	if err != nil {
		return LookupOutput{}, err
	}
	for _, p := range parents {
		products[p.ID] = p
	}
	keep, msgs := in.variantFilter(m.currency)
	if keep == nil {
		keep = func(Product, Variant) bool { return true }
	}

	var order []string
	hits := map[string]*lookupHit{}
	matched := map[string]bool{}
	add := func(input, productID, variantID, match string) {
		p, ok := products[productID]
		if !ok || !visible(ctx, p) {
			return
		}
		matched[input] = true
		if variantID == "" { // a product-level identifier: pick the featured variant
			variantID = featured(p, func(v Variant) bool { return keep(p, v) })
			if variantID == "" {
				return // no variant passes the filters
			}
		} else if i := slices.IndexFunc(p.Variants, func(v Variant) bool { return v.ID == variantID }); i < 0 || !keep(p, p.Variants[i]) {
			return
		}
		h := hits[productID]
		if h == nil {
			h = &lookupHit{product: p, inputs: map[string][]UCPInputCorrelation{}}
			hits[productID] = h
			order = append(order, productID)
		}
		h.inputs[variantID] = append(h.inputs[variantID], UCPInputCorrelation{ID: input, Match: match})
	}
	for _, id := range ids {
		for _, p := range byID {
			if p.ID == id {
				add(id, p.ID, "", "featured")
			}
		}
		for _, p := range byHandle {
			if p.Handle == id {
				add(id, p.ID, "", "featured")
			}
		}
		for _, v := range variants {
			if v.ID == id {
				add(id, v.ProductID, v.ID, "exact")
			}
		}
		for _, v := range bySKU {
			if v.SKU == id {
				add(id, v.ProductID, v.ID, "exact")
			}
		}
	}
	out := LookupOutput{Products: []UCPProduct{}, Messages: msgs}
	for _, pid := range order {
		h := hits[pid]
		var shown []Variant
		for _, v := range h.product.Variants {
			if len(h.inputs[v.ID]) > 0 {
				shown = append(shown, v)
			}
		}
		up := toUCPProduct(h.product, shown)
		for i := range up.Variants {
			up.Variants[i].Inputs = h.inputs[up.Variants[i].ID]
		}
		out.Products = append(out.Products, up)
	}
	for _, id := range ids {
		if !matched[id] {
			out.Messages = append(out.Messages, UCPMessage{Type: "info", Code: "not_found",
				Content: fmt.Sprintf("no product or variant for sale has the identifier %q", id)})
		}
	}
	return out, nil
}

// featured picks the variant to show for p among those keep accepts: the
// first that can be bought now, else the first. "" if keep accepts none.
func featured(p Product, keep func(Variant) bool) string {
	first := ""
	for _, v := range p.Variants {
		if keep != nil && !keep(v) {
			continue
		}
		if sellable(p, v) {
			return v.ID
		}
		if first == "" {
			first = v.ID
		}
	}
	return first
}
