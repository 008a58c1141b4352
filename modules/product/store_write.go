package product

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// createAttempts bounds how often a create is retried after a concurrent
// writer took the same derived handle (or SKU) between check and insert;
// each round lets at least one of the racing creates through.
const createAttempts = 5

// createProduct validates in, derives a unique handle when none is given,
// and inserts the product and its variants with a product.created event in
// one transaction. Errors: invalid (field paths into in), conflict on
// handle, external_id or variants[i].sku.
func (s *store) createProduct(ctx context.Context, in ProductInput) (Product, error) {
	if err := in.Validate(); err != nil {
		return Product{}, err
	}
	in = in.normalized()
	for attempt := 1; ; attempt++ {
		p, err := s.newProduct(in, s.now())
		if err != nil {
			return Product{}, err
		}
		err = s.db.Tx(ctx, func(tx *sqldb.Tx) error {
			if err := s.claimHandle(ctx, tx, &p, in.Handle != ""); err != nil {
				return err
			}
			if err := s.checkExternalIDFree(ctx, tx, p.ExternalID, p.ID); err != nil {
				return err
			}
			skus := make([]string, len(p.Variants))
			fields := make([]string, len(p.Variants))
			for i, v := range p.Variants {
				skus[i], fields[i] = v.SKU, fmt.Sprintf("variants[%d].sku", i)
			}
			if err := s.checkSKUsFree(ctx, tx, skus, fields, ""); err != nil {
				return err
			}
			if err := s.insertProduct(ctx, tx, p); err != nil {
				return err
			}
			for i, v := range p.Variants {
				if err := s.insertVariant(ctx, tx, v, i); err != nil {
					return err
				}
			}
			return s.emitProduct(ctx, tx, EventProductCreated, p)
		})
		if sqldb.IsUniqueViolation(err) {
			if attempt < createAttempts {
				continue // the checks of the next attempt name the field
			}
			return Product{}, &mdk.Error{Code: mdk.CodeConflict, Message: "another write took this handle or SKU at the same moment; retry", Retryable: true, Cause: err}
		}
		if err != nil {
			return Product{}, fmt.Errorf("create product %q: %w", in.Title, err)
		}
		return p, nil
	}
}

// newProduct builds the Product for in, with fresh IDs.
func (s *store) newProduct(in ProductInput, now time.Time) (Product, error) {
	id, err := newID(prefixProduct)
	if err != nil {
		return Product{}, err
	}
	p := Product{
		ID: id, Handle: in.Handle, ExternalID: in.ExternalID, Title: in.Title, Description: in.Description,
		Vendor: in.Vendor, ProductType: in.ProductType, Category: in.Category,
		Tags: nonNil(in.Tags), Attributes: nonNilMap(in.Attributes), Media: nonNil(in.Media),
		Status: in.Status, Options: nonNil(in.Options), Variants: []Variant{}, CreatedAt: now, UpdatedAt: now,
	}
	for _, vi := range in.Variants {
		v, err := s.newVariant(p, vi, now)
		if err != nil {
			return Product{}, err
		}
		p.Variants = append(p.Variants, v)
	}
	return p, nil
}

// newVariant builds a Variant of p from in, priced in the store currency.
func (s *store) newVariant(p Product, in VariantInput, now time.Time) (Variant, error) {
	id, err := newID(prefixVariant)
	if err != nil {
		return Variant{}, err
	}
	var stock int64
	if in.Stock != nil {
		stock = *in.Stock
	}
	v := Variant{
		ID: id, ProductID: p.ID, SKU: in.SKU, Title: variantTitle(p.Options, in.Options),
		Options: nonNilMap(in.Options), Price: Money{Amount: in.Price, Currency: s.currency},
		Barcode: in.Barcode, WeightGrams: in.WeightGrams,
		Inventory: Inventory{OnHand: stock, Available: stock},
	}
	if in.CompareAtPrice != nil {
		v.CompareAtPrice = &Money{Amount: *in.CompareAtPrice, Currency: s.currency}
	}
	return v, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// claimHandle checks an explicit handle is free, or derives a free one
// from the title: the slug, then slug-2, slug-3, ...
func (s *store) claimHandle(ctx context.Context, tx *sqldb.Tx, p *Product, explicit bool) error {
	if explicit {
		return s.checkHandleFree(ctx, tx, p.Handle, p.ID)
	}
	base := slugify(p.Title)
	rows, err := tx.QueryContext(ctx, `SELECT handle FROM product.products WHERE handle = $1 OR handle LIKE $2`, base, base+"-%")
	if err != nil {
		return fmt.Errorf("read handles like %s: %w", base, err)
	}
	defer rows.Close()
	taken := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return fmt.Errorf("read handles like %s: %w", base, err)
		}
		taken[h] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read handles like %s: %w", base, err)
	}
	p.Handle = base
	for n := 2; taken[p.Handle]; n++ {
		p.Handle = base + "-" + strconv.Itoa(n)
	}
	return nil
}

// checkHandleFree returns a conflict on handle when another product has it.
func (s *store) checkHandleFree(ctx context.Context, tx *sqldb.Tx, handle, self string) error {
	return s.checkFree(ctx, tx, "handle", handle, self, "handle %q is taken by product %s; choose another, or leave it empty to derive one from the title")
}

// checkExternalIDFree returns a conflict on external_id when another
// product has it.
func (s *store) checkExternalIDFree(ctx context.Context, tx *sqldb.Tx, externalID, self string) error {
	if externalID == "" {
		return nil
	}
	return s.checkFree(ctx, tx, "external_id", externalID, self, "external ID %q belongs to product %s; update that product instead")
}

// checkFree returns a conflict on column when a product other than self
// has value there; msg formats the value and the other product's ID.
func (s *store) checkFree(ctx context.Context, tx *sqldb.Tx, column, value, self, msg string) error {
	var other string
	err := tx.QueryRowContext(ctx, `SELECT id FROM product.products WHERE `+column+` = $1 AND id <> $2`, value, self).Scan(&other)
	switch {
	case err == nil:
		return &mdk.Error{Code: mdk.CodeConflict, Field: column, Message: fmt.Sprintf(msg, value, other)}
	case isNoRows(err):
		return nil
	}
	return fmt.Errorf("check %s %s: %w", column, value, err)
}

// checkSKUsFree returns conflicts on fields[i] for each skus[i] another
// variant (not self) already has.
func (s *store) checkSKUsFree(ctx context.Context, tx *sqldb.Tx, skus, fields []string, self string) error {
	taken, err := s.variantsBySKU(ctx, tx, skus)
	if err != nil {
		return fmt.Errorf("check SKUs: %w", err)
	}
	owner := map[string]Variant{}
	for _, v := range taken {
		if v.ID != self {
			owner[v.SKU] = v
		}
	}
	var errs []error
	for i, sku := range skus {
		if v, ok := owner[sku]; ok {
			errs = append(errs, &mdk.Error{Code: mdk.CodeConflict, Field: fields[i],
				Message: fmt.Sprintf("SKU %q is already used by variant %s of product %s; choose another SKU", sku, v.ID, v.ProductID)})
		}
	}
	return errors.Join(errs...)
}

func (s *store) insertProduct(ctx context.Context, tx *sqldb.Tx, p Product) error {
	tags, attrs, media, opts, err := encodeProductJSON(p)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO product.products (`+productCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		p.ID, p.Handle, nullable(p.ExternalID), p.Title, p.Description, p.Vendor, p.ProductType, p.Category,
		tags, attrs, media, opts, string(p.Status), p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert product %s: %w", p.ID, err)
	}
	return nil
}

// updateProductRow writes every column of p but id and created_at.
func (s *store) updateProductRow(ctx context.Context, tx *sqldb.Tx, p Product) error {
	tags, attrs, media, opts, err := encodeProductJSON(p)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE product.products SET handle = $1, external_id = $2, title = $3, description = $4,
		vendor = $5, product_type = $6, category = $7, tags = $8, attributes = $9, media = $10, options = $11,
		status = $12, updated_at = $13 WHERE id = $14`,
		p.Handle, nullable(p.ExternalID), p.Title, p.Description, p.Vendor, p.ProductType, p.Category,
		tags, attrs, media, opts, string(p.Status), p.UpdatedAt.UnixMilli(), p.ID)
	if err != nil {
		return fmt.Errorf("update product %s: %w", p.ID, err)
	}
	return nil
}

func encodeProductJSON(p Product) (tags, attrs, media, opts string, err error) {
	var out [4]string
	for i, v := range []any{nonNil(p.Tags), nonNilMap(p.Attributes), nonNil(p.Media), nonNil(p.Options)} {
		raw, err := json.Marshal(v)
		if err != nil {
			return "", "", "", "", fmt.Errorf("encode product %s: %w", p.ID, err)
		}
		out[i] = string(raw)
	}
	return out[0], out[1], out[2], out[3], nil
}

func (s *store) insertVariant(ctx context.Context, tx *sqldb.Tx, v Variant, position int) error {
	opts, err := json.Marshal(nonNilMap(v.Options))
	if err != nil {
		return fmt.Errorf("encode variant %s options: %w", v.ID, err)
	}
	now := s.now().UnixMilli()
	_, err = tx.ExecContext(ctx, `INSERT INTO product.variants (`+variantCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		v.ID, v.ProductID, position, v.SKU, v.Title, string(opts), v.Price.Amount, compareAt(v), v.Price.Currency,
		v.Barcode, v.WeightGrams, v.Inventory.OnHand, v.Inventory.Reserved, now, now)
	if err != nil {
		return fmt.Errorf("insert variant %s: %w", v.SKU, err)
	}
	return nil
}

// updateVariantRow writes a variant's descriptive columns. Stock columns
// are left alone: they change only through conditional updates
// (set_stock, reservations).
func (s *store) updateVariantRow(ctx context.Context, tx *sqldb.Tx, v Variant) error {
	opts, err := json.Marshal(nonNilMap(v.Options))
	if err != nil {
		return fmt.Errorf("encode variant %s options: %w", v.ID, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE product.variants SET sku = $1, title = $2, options = $3, price = $4,
		compare_at_price = $5, currency = $6, barcode = $7, weight_grams = $8, updated_at = $9 WHERE id = $10`,
		v.SKU, v.Title, string(opts), v.Price.Amount, compareAt(v), v.Price.Currency, v.Barcode, v.WeightGrams,
		s.now().UnixMilli(), v.ID)
	if err != nil {
		return fmt.Errorf("update variant %s: %w", v.ID, err)
	}
	return nil
}

func compareAt(v Variant) any {
	if v.CompareAtPrice == nil {
		return nil
	}
	return v.CompareAtPrice.Amount
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// updateProduct applies the set fields of in to a product and emits
// product.updated (product.archived when the status becomes archived). An
// update that changes nothing writes nothing and emits nothing. Errors:
// not_found on id, invalid (options that no longer fit the variants),
// conflict on handle or external_id.
func (s *store) updateProduct(ctx context.Context, in UpdateProductInput) (Product, error) {
	if err := in.Validate(); err != nil {
		return Product{}, err
	}
	in = in.normalized()
	var out Product
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		p, err := s.lockProduct(ctx, tx, in.ID, "id")
		if err != nil {
			return err
		}
		next, changed, err := in.apply(p)
		if err != nil || !changed {
			out = p
			return err
		}
		if next.Handle != p.Handle {
			if err := s.checkHandleFree(ctx, tx, next.Handle, p.ID); err != nil {
				return err
			}
		}
		if next.ExternalID != p.ExternalID {
			if err := s.checkExternalIDFree(ctx, tx, next.ExternalID, p.ID); err != nil {
				return err
			}
		}
		next.UpdatedAt = s.now()
		if err := s.updateProductRow(ctx, tx, next); err != nil {
			return err
		}
		for i, v := range next.Variants {
			if v.Title != p.Variants[i].Title {
				if err := s.updateVariantRow(ctx, tx, v); err != nil {
					return err
				}
			}
		}
		typ := EventProductUpdated
		if next.Status == StatusArchived && p.Status != StatusArchived {
			typ = EventProductArchived
		}
		out = next
		return s.emitProduct(ctx, tx, typ, next)
	})
	if sqldb.IsUniqueViolation(err) {
		return Product{}, &mdk.Error{Code: mdk.CodeConflict, Message: "another write took this handle or external ID at the same moment; choose another", Cause: err}
	}
	if err != nil {
		return Product{}, fmt.Errorf("update product %s: %w", in.ID, err)
	}
	return out, nil
}

// apply returns p with the set fields of in, and whether anything
// changed. New options must keep the option names and every value a
// variant uses; variant titles follow the new value order.
func (in UpdateProductInput) apply(p Product) (Product, bool, error) {
	next := p
	changed := false
	for _, f := range []struct {
		dst *string
		src *string
	}{
		{&next.Handle, in.Handle}, {&next.ExternalID, in.ExternalID}, {&next.Title, in.Title},
		{&next.Description, in.Description}, {&next.Vendor, in.Vendor}, {&next.ProductType, in.ProductType},
		{&next.Category, in.Category},
	} {
		if f.src != nil && *f.src != *f.dst {
			*f.dst, changed = *f.src, true
		}
	}
	if in.Status != nil && *in.Status != next.Status {
		next.Status, changed = *in.Status, true
	}
	if in.Tags != nil && !slices.Equal(*in.Tags, next.Tags) {
		next.Tags, changed = *in.Tags, true
	}
	if in.Media != nil && !slices.Equal(*in.Media, next.Media) {
		next.Media, changed = *in.Media, true
	}
	if in.Attributes != nil && !maps.Equal(*in.Attributes, next.Attributes) {
		next.Attributes, changed = *in.Attributes, true
	}
	if in.Options != nil && !optionsEqual(*in.Options, next.Options) {
		if err := fitOptions(*in.Options, p); err != nil {
			return p, false, err
		}
		next.Options, changed = *in.Options, true
		next.Variants = slices.Clone(p.Variants)
		for i := range next.Variants {
			next.Variants[i].Title = variantTitle(next.Options, next.Variants[i].Options)
		}
	}
	return next, changed, nil
}

func optionsEqual(a, b []Option) bool {
	return slices.EqualFunc(a, b, func(x, y Option) bool { return x.Name == y.Name && slices.Equal(x.Values, y.Values) })
}

// fitOptions checks that opts can replace p's options without touching a
// variant: same names, and every value in use still listed.
func fitOptions(opts []Option, p Product) error {
	if len(opts) != len(p.Options) || !slices.EqualFunc(sortedOptionNames(opts), sortedOptionNames(p.Options), func(a, b string) bool { return a == b }) {
		return mdk.Invalid("options", "option names can't change on an existing product (it has %s); values can be added, reordered or removed. To restructure variants, create a new product and archive this one", optionNames(p.Options))
	}
	for i, o := range opts {
		for _, v := range p.Variants {
			if val := v.Options[o.Name]; !slices.Contains(o.Values, val) {
				return mdk.Invalid(fmt.Sprintf("options[%d].values", i), "%s %q is used by variant %s (SKU %s); keep it, or change or remove that variant first", o.Name, val, v.ID, v.SKU)
			}
		}
	}
	return nil
}

func sortedOptionNames(opts []Option) []string {
	names := make([]string, len(opts))
	for i, o := range opts {
		names[i] = o.Name
	}
	slices.Sort(names)
	return names
}

// touchProduct bumps a product's updated_at after a change to one of its
// variants and emits product.updated, so the search index and caches see
// the change.
func (s *store) touchProduct(ctx context.Context, tx *sqldb.Tx, p Product) error {
	if _, err := tx.ExecContext(ctx, `UPDATE product.products SET updated_at = $1 WHERE id = $2`, s.now().UnixMilli(), p.ID); err != nil {
		return fmt.Errorf("touch product %s: %w", p.ID, err)
	}
	return s.emitProduct(ctx, tx, EventProductUpdated, p)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
