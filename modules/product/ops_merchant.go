package product

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// UpdateProductInput changes a product; only the fields given change.
type UpdateProductInput struct {
	ID          string             `json:"id" jsonschema:"product ID (prod_...)"`
	Handle      *string            `json:"handle,omitempty" jsonschema:"new URL-safe handle; changing it breaks old links"`
	ExternalID  *string            `json:"external_id,omitempty" jsonschema:"ID in the merchant's own system; empty clears it"`
	Title       *string            `json:"title,omitempty"`
	Description *string            `json:"description,omitempty"`
	Vendor      *string            `json:"vendor,omitempty"`
	ProductType *string            `json:"product_type,omitempty"`
	Category    *string            `json:"category,omitempty" jsonschema:"category path, segments separated by ' / '"`
	Tags        *[]string          `json:"tags,omitempty" jsonschema:"replaces all tags"`
	Attributes  *map[string]string `json:"attributes,omitempty" jsonschema:"replaces all attributes"`
	Media       *[]string          `json:"media,omitempty" jsonschema:"replaces all image URLs; the first is the featured one"`
	Status      *Status            `json:"status,omitempty" jsonschema:"draft, active or archived"`
	Options     *[]Option          `json:"options,omitempty" jsonschema:"replaces the option list: names stay the same; values may be added, reordered, or removed when no variant uses them"`
}

// Validate checks the fields that are set.
func (in UpdateProductInput) Validate() error {
	in = in.normalized()
	var errs fieldErrors
	add := errs.add
	if in.ID == "" {
		add(mdk.Invalid("id", "is required"))
	}
	if in.Title != nil {
		add(checkTitle("title", *in.Title))
	}
	if in.Handle != nil {
		add(checkHandle("handle", *in.Handle))
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"external_id", in.ExternalID, maxShortText}, {"description", in.Description, maxDescriptionLen},
		{"vendor", in.Vendor, maxShortText}, {"product_type", in.ProductType, maxShortText}} {
		if f.v != nil {
			add(checkText(f.name, *f.v, f.max))
		}
	}
	if in.Category != nil {
		add(checkCategory("category", *in.Category))
	}
	if in.Tags != nil {
		add(checkTags("tags", *in.Tags)...)
	}
	if in.Attributes != nil {
		add(checkAttributes("attributes", *in.Attributes)...)
	}
	if in.Media != nil {
		add(checkMedia("media", *in.Media)...)
	}
	if in.Status != nil {
		add(checkStatus("status", *in.Status))
	}
	if in.Options != nil {
		add(checkOptions("options", *in.Options)...)
	}
	return errs.err()
}

func (in UpdateProductInput) normalized() UpdateProductInput {
	trim := func(p *string, f func(string) string) *string {
		if p == nil {
			return nil
		}
		v := f(*p)
		return &v
	}
	in.ID = strings.TrimSpace(in.ID)
	for _, f := range []**string{&in.Handle, &in.ExternalID, &in.Title, &in.Description, &in.Vendor, &in.ProductType} {
		*f = trim(*f, strings.TrimSpace)
	}
	in.Category = trim(in.Category, normalizeCategory)
	if in.Tags != nil {
		tags := normalizeTags(*in.Tags)
		in.Tags = &tags
	}
	if in.Media != nil {
		media := trimAll(*in.Media)
		in.Media = &media
	}
	if in.Options != nil {
		opts := normalizeOptions(*in.Options)
		in.Options = &opts
	}
	return in
}

// IDInput names one product or variant.
type IDInput struct {
	ID string `json:"id" jsonschema:"the ID"`
}

// Validate requires the ID.
func (in IDInput) Validate() error {
	if strings.TrimSpace(in.ID) == "" {
		return mdk.Invalid("id", "is required")
	}
	return nil
}

// AddVariantInput adds a variant to a product that has options.
type AddVariantInput struct {
	ProductID string `json:"product_id" jsonschema:"product ID (prod_...)"`
	VariantInput
}

// Validate checks the variant's own fields; its options are checked
// against the product's by the store.
func (in AddVariantInput) Validate() error {
	var errs []error
	if in.ProductID == "" {
		errs = append(errs, mdk.Invalid("product_id", "is required"))
	}
	errs = append(errs, in.VariantInput.normalized().check("")...)
	return errors.Join(errs...)
}

// UpdateVariantInput changes a variant; only the fields given change.
// Stock changes go through set_stock.
type UpdateVariantInput struct {
	ID             string             `json:"id" jsonschema:"variant ID (var_...)"`
	SKU            *string            `json:"sku,omitempty" jsonschema:"new unique SKU"`
	Options        *map[string]string `json:"options,omitempty" jsonschema:"option name to value; every product option must be set"`
	Price          *int64             `json:"price,omitempty" jsonschema:"price in minor units of the store currency (2500 is 25.00)"`
	CompareAtPrice *int64             `json:"compare_at_price,omitempty" jsonschema:"list price before discount in minor units; 0 removes it"`
	Barcode        *string            `json:"barcode,omitempty"`
	WeightGrams    *int64             `json:"weight_grams,omitempty"`
}

// Validate checks the fields that are set.
func (in UpdateVariantInput) Validate() error {
	in = in.normalized()
	var errs fieldErrors
	add := errs.add
	if in.ID == "" {
		add(mdk.Invalid("id", "is required"))
	}
	if in.SKU != nil {
		add(checkSKU("sku", *in.SKU))
	}
	if in.Price != nil {
		add(checkAmount("price", *in.Price))
	}
	if in.CompareAtPrice != nil {
		add(checkAmount("compare_at_price", *in.CompareAtPrice))
	}
	if in.Barcode != nil {
		add(checkText("barcode", *in.Barcode, maxBarcodeLen))
	}
	if in.WeightGrams != nil && (*in.WeightGrams < 0 || *in.WeightGrams > maxWeight) {
		add(mdk.Invalid("weight_grams", "must be between 0 and %d grams", maxWeight))
	}
	return errs.err()
}

func (in UpdateVariantInput) normalized() UpdateVariantInput {
	in.ID = strings.TrimSpace(in.ID)
	if in.SKU != nil || in.Barcode != nil || in.Options != nil {
		v := VariantInput{}
		if in.SKU != nil {
			v.SKU = *in.SKU
		}
		if in.Barcode != nil {
			v.Barcode = *in.Barcode
		}
		if in.Options != nil {
			v.Options = *in.Options
		}
		v = v.normalized()
		if in.SKU != nil {
			in.SKU = &v.SKU
		}
		if in.Barcode != nil {
			in.Barcode = &v.Barcode
		}
		if in.Options != nil {
			opts := nonNilMap(v.Options)
			in.Options = &opts
		}
	}
	return in
}

// SetStockInput sets a variant's on-hand units, naming it by ID or SKU.
type SetStockInput struct {
	VariantID string `json:"variant_id,omitempty" jsonschema:"variant ID (var_...); give this or sku"`
	SKU       string `json:"sku,omitempty" jsonschema:"the variant's SKU; give this or variant_id"`
	OnHand    int64  `json:"on_hand" jsonschema:"units physically in stock, absolute (not a change)"`
}

// Validate requires exactly one of variant_id and sku.
func (in SetStockInput) Validate() error {
	var errs []error
	if (in.VariantID == "") == (in.SKU == "") {
		errs = append(errs, mdk.Invalid("variant_id", "give either variant_id or sku"))
	}
	if err := checkStock("on_hand", in.OnHand); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// LowStockInput pages through variants that are running out.
type LowStockInput struct {
	Threshold *int64 `json:"threshold,omitempty" jsonschema:"list variants with at most this many units available; default the store's low-stock threshold"`
	Limit     int    `json:"limit,omitempty" jsonschema:"page size, 1 to 200; default 50"`
	Cursor    string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page (or the cursor of a variant) to continue after it; leave out for the first page"`
}

// LowStockOutput is one page of low-stock variants, fewest available
// first.
type LowStockOutput struct {
	Variants   []LowStockVariant `json:"variants"`
	NextCursor string            `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last page"`
}

// ListProductsInput pages through the catalog, newest first.
type ListProductsInput struct {
	Status Status `json:"status,omitempty" jsonschema:"only products with this status: draft, active or archived"`
	Limit  int    `json:"limit,omitempty" jsonschema:"page size, 1 to 200; default 50"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page (or the cursor of a product) to continue after it; leave out for the first page"`
}

// Validate checks the status and page size.
func (in ListProductsInput) Validate() error {
	var errs []error
	if in.Status != "" {
		if err := checkStatus("status", in.Status); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkLimit(in.Limit); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Validate checks the threshold and page size.
func (in LowStockInput) Validate() error {
	var errs []error
	if in.Threshold != nil && *in.Threshold < 0 {
		errs = append(errs, mdk.Invalid("threshold", "must be zero or more"))
	}
	if err := checkLimit(in.Limit); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func checkLimit(limit int) error {
	if limit < 0 || limit > maxPageSize {
		return mdk.Invalid("limit", "must be between 1 and %d (0 for the default of %d)", maxPageSize, defaultPageSize)
	}
	return nil
}

func pageSize(limit int) int {
	if limit == 0 {
		return defaultPageSize
	}
	return limit
}

// ListProductsOutput is one page of products.
type ListProductsOutput struct {
	Products   []ListedProduct `json:"products"`
	NextCursor string          `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last page"`
}

func (m *Module) registerMerchantOps(r *mdk.Registry) error {
	s := m.store
	return errors.Join(
		mdk.Register(r, mdk.Operation[ProductInput, Product]{
			Name: "create_product",
			Description: "Create a product with its variants. Give a title and at least one variant (SKU and price in minor units of the store currency: 2500 is 25.00). " +
				"For a product sold in sizes or colors, list options (e.g. Size: S, M, L) and one variant per combination, each naming its value of every option; " +
				"without options the product has exactly one variant. Status defaults to active (visible to shoppers); use draft to prepare it first. " +
				"The handle is derived from the title when omitted. Returns the created product with IDs and stock.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite,
			Handle: s.createProduct,
		}),
		mdk.Register(r, mdk.Operation[UpdateProductInput, Product]{
			Name: "update_product",
			Description: "Change a product's title, description, category, tags, attributes, images, handle, status or option values; only the fields given change, and lists given replace the old ones. " +
				"Prices, SKUs and stock are per variant: use update_variant and set_stock. Returns the updated product.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite, Idempotent: true,
			Handle: s.updateProduct,
		}),
		mdk.Register(r, mdk.Operation[IDInput, Product]{
			Name: "archive_product",
			Description: "Archive a product: shoppers no longer see or buy it; orders already placed are unaffected. " +
				"It can be restored with update_product (status active). Returns the archived product.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectDestructive, Idempotent: true,
			Handle: func(ctx context.Context, in IDInput) (Product, error) {
				archived := StatusArchived
				return s.updateProduct(ctx, UpdateProductInput{ID: in.ID, Status: &archived})
			},
		}),
		mdk.Register(r, mdk.Operation[AddVariantInput, Variant]{
			Name: "add_variant",
			Description: "Add a variant (a new combination of option values, with its own SKU, price and initial stock) to a product that has options. " +
				"The options must set every product option to one of its values; add a new value to the product first with update_product. Returns the new variant.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite,
			Handle: s.addVariant,
		}),
		mdk.Register(r, mdk.Operation[UpdateVariantInput, Variant]{
			Name: "update_variant",
			Description: "Change a variant's price, compare-at (list) price, SKU, options, barcode or weight; only the fields given change. " +
				"Use it for price changes and discounts (set compare_at_price to the old price to show a strike-through). Stock goes through set_stock. Returns the updated variant.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite, Idempotent: true,
			Handle: s.updateVariant,
		}),
		mdk.Register(r, mdk.Operation[IDInput, Product]{
			Name: "remove_variant",
			Description: "Delete a variant from its product. A product keeps at least one variant, and a variant with units reserved by open checkouts can't be removed. " +
				"Returns the product without the variant.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectDestructive, Idempotent: true,
			Handle: func(ctx context.Context, in IDInput) (Product, error) { return s.removeVariant(ctx, in.ID) },
		}),
		mdk.Register(r, mdk.Operation[SetStockInput, Variant]{
			Name: "set_stock",
			Description: "Set how many units of a variant are on hand (an absolute count, e.g. after a stock take or a delivery), naming it by variant ID or SKU. " +
				"It can't go below the units reserved by open checkouts. Returns the variant with on hand, reserved and available units.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite, Idempotent: true,
			Handle: m.setStock,
		}),
		mdk.Register(r, mdk.Operation[LowStockInput, LowStockOutput]{
			Name: "list_low_stock",
			Description: "List variants of active products that are running out (available units at or below a threshold, the store's by default), fewest first, with on hand, reserved and available counts. " +
				"Use it to decide what to restock; page with next_cursor.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectRead, Idempotent: true,
			Handle: func(ctx context.Context, in LowStockInput) (LowStockOutput, error) {
				threshold := m.lowStockThreshold
				if in.Threshold != nil {
					threshold = *in.Threshold
				}
				vs, next, err := s.lowStock(ctx, threshold, pageSize(in.Limit), in.Cursor)
				return LowStockOutput{Variants: vs, NextCursor: next}, err
			},
		}),
		mdk.Register(r, mdk.Operation[IDInput, Product]{
			Name: "get_product_admin",
			Description: "Get a product as the merchant sees it, by product ID, variant ID or handle: any status (draft, active, archived), with external ID, compare-at prices, barcodes, weights and on hand / reserved / available stock per variant. " +
				"Shoppers' get_product shows only what is for sale, in the UCP shape.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectRead, Idempotent: true,
			Handle: func(ctx context.Context, in IDInput) (Product, error) { return m.productByAnyID(ctx, in.ID) },
		}),
		mdk.Register(r, mdk.Operation[ListProductsInput, ListProductsOutput]{
			Name: "list_products",
			Description: "List the catalog newest first, optionally only drafts, active or archived products, with variants and stock. " +
				"Use it to review drafts or archived products, which search does not show; page with next_cursor.",
			Access: mdk.AccessMerchant, Effect: mdk.EffectRead, Idempotent: true,
			Handle: func(ctx context.Context, in ListProductsInput) (ListProductsOutput, error) {
				ps, next, err := s.listProducts(ctx, in.Status, pageSize(in.Limit), in.Cursor)
				return ListProductsOutput{Products: ps, NextCursor: next}, err
			},
		}),
	)
}

// setStock resolves a SKU to its variant and sets its stock.
func (m *Module) setStock(ctx context.Context, in SetStockInput) (Variant, error) {
	id := strings.TrimSpace(in.VariantID)
	if sku := strings.TrimSpace(in.SKU); sku != "" {
		vs, err := m.store.variantsBySKU(ctx, m.store.db, []string{sku})
		if err != nil {
			return Variant{}, fmt.Errorf("find SKU %s: %w", sku, err)
		}
		if len(vs) == 0 {
			return Variant{}, &mdk.Error{Code: mdk.CodeNotFound, Field: "sku", Message: fmt.Sprintf("no variant has the SKU %q", sku)}
		}
		id = vs[0].ID
	}
	return m.store.setStock(ctx, id, in.OnHand)
}

// productByAnyID finds a product by product ID, handle or one of its
// variant IDs. Errors: not_found.
func (m *Module) productByAnyID(ctx context.Context, id string) (Product, error) {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, prefixVariant) {
		vs, err := m.store.getVariants(ctx, m.store.db, []string{id})
		if err != nil {
			return Product{}, fmt.Errorf("find variant %s: %w", id, err)
		}
		if len(vs) == 1 {
			id = vs[0].ProductID
		}
	}
	return m.store.getProduct(ctx, m.store.db, id)
}
