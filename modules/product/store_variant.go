package product

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// addVariant adds a variant to a product with options and emits
// product.updated. Errors: not_found on product_id, invalid (options that
// do not match the product's, a product without options), conflict on sku
// or options (a combination another variant has).
func (s *store) addVariant(ctx context.Context, in AddVariantInput) (Variant, error) {
	if err := in.Validate(); err != nil {
		return Variant{}, err
	}
	vi := in.VariantInput.normalized()
	var out Variant
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		p, err := s.lockProduct(ctx, tx, in.ProductID, "product_id")
		if err != nil {
			return err
		}
		if len(p.Options) == 0 {
			return mdk.Invalid("options", "product %s has no options, so it has exactly one variant; change that one with update_variant, or create a product with options (e.g. Size) for several", p.ID)
		}
		if len(p.Variants) >= maxVariants {
			return mdk.Invalid("product_id", "product %s already has the most variants allowed (%d)", p.ID, maxVariants)
		}
		if err := s.checkVariantFits(p, "", vi.Options); err != nil {
			return err
		}
		if err := s.checkSKUsFree(ctx, tx, []string{vi.SKU}, []string{"sku"}, ""); err != nil {
			return err
		}
		v, err := s.newVariant(p, vi, s.now())
		if err != nil {
			return err
		}
		var position int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), -1) + 1 FROM product.variants WHERE product_id = $1`, p.ID).Scan(&position); err != nil {
			return fmt.Errorf("next variant position of %s: %w", p.ID, err)
		}
		if err := s.insertVariant(ctx, tx, v, position); err != nil {
			return err
		}
		out = v
		return s.touchProduct(ctx, tx, p)
	})
	if sqldb.IsUniqueViolation(err) {
		return Variant{}, &mdk.Error{Code: mdk.CodeConflict, Field: "sku", Message: fmt.Sprintf("SKU %q was taken by another write at the same moment; choose another", vi.SKU), Cause: err}
	}
	if err != nil {
		return Variant{}, fmt.Errorf("add variant to %s: %w", in.ProductID, err)
	}
	return out, nil
}

// checkVariantFits checks that chosen options match p's and that no other
// variant than self has the same combination.
func (s *store) checkVariantFits(p Product, self string, chosen map[string]string) error {
	if err := checkVariantOptions("options", p.Options, chosen); err != nil {
		return err
	}
	key := comboKey(p.Options, chosen)
	for _, v := range p.Variants {
		if v.ID != self && comboKey(p.Options, v.Options) == key {
			return &mdk.Error{Code: mdk.CodeConflict, Field: "options", Message: fmt.Sprintf("variant %s (SKU %s) already is %s; change that variant instead", v.ID, v.SKU, v.Title)}
		}
	}
	return nil
}

// lockVariant loads the product of variant id inside tx, locking the
// product row, and returns it with the variant's index. Errors: not_found
// on field.
func (s *store) lockVariant(ctx context.Context, tx *sqldb.Tx, id, field string) (Product, int, error) {
	var productID string
	err := tx.QueryRowContext(ctx, `SELECT product_id FROM product.variants WHERE id = $1`, id).Scan(&productID)
	if isNoRows(err) {
		return Product{}, 0, &mdk.Error{Code: mdk.CodeNotFound, Field: field, Message: fmt.Sprintf("no variant has the ID %q", id)}
	}
	if err != nil {
		return Product{}, 0, fmt.Errorf("find variant %s: %w", id, err)
	}
	p, err := s.lockProduct(ctx, tx, productID, field)
	if err != nil {
		return Product{}, 0, err
	}
	i := slices.IndexFunc(p.Variants, func(v Variant) bool { return v.ID == id })
	if i < 0 {
		// Removed between the two reads (PostgreSQL, before the lock).
		return Product{}, 0, &mdk.Error{Code: mdk.CodeNotFound, Field: field, Message: fmt.Sprintf("no variant has the ID %q", id)}
	}
	return p, i, nil
}

// updateVariant applies the set fields of in to a variant and emits
// product.updated; a price change also moves the variant to the store
// currency. An update that changes nothing writes nothing. Errors:
// not_found on id, invalid, conflict on sku or options.
func (s *store) updateVariant(ctx context.Context, in UpdateVariantInput) (Variant, error) {
	if err := in.Validate(); err != nil {
		return Variant{}, err
	}
	in = in.normalized()
	var out Variant
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		p, i, err := s.lockVariant(ctx, tx, in.ID, "id")
		if err != nil {
			return err
		}
		v, changed := in.apply(p.Variants[i], s.currency)
		if in.Options != nil && changed {
			if err := s.checkVariantFits(p, v.ID, v.Options); err != nil {
				return err
			}
			v.Title = variantTitle(p.Options, v.Options)
		}
		if !changed {
			out = v
			return nil
		}
		if v.SKU != p.Variants[i].SKU {
			if err := s.checkSKUsFree(ctx, tx, []string{v.SKU}, []string{"sku"}, v.ID); err != nil {
				return err
			}
		}
		if err := s.updateVariantRow(ctx, tx, v); err != nil {
			return err
		}
		out = v
		return s.touchProduct(ctx, tx, p)
	})
	if sqldb.IsUniqueViolation(err) {
		return Variant{}, &mdk.Error{Code: mdk.CodeConflict, Field: "sku", Message: "this SKU was taken by another write at the same moment; choose another", Cause: err}
	}
	if err != nil {
		return Variant{}, fmt.Errorf("update variant %s: %w", in.ID, err)
	}
	return out, nil
}

// apply returns v with the set fields of in and whether anything changed.
func (in UpdateVariantInput) apply(v Variant, currency string) (Variant, bool) {
	changed := false
	if in.SKU != nil && *in.SKU != v.SKU {
		v.SKU, changed = *in.SKU, true
	}
	if in.Barcode != nil && *in.Barcode != v.Barcode {
		v.Barcode, changed = *in.Barcode, true
	}
	if in.WeightGrams != nil && *in.WeightGrams != v.WeightGrams {
		v.WeightGrams, changed = *in.WeightGrams, true
	}
	if in.Options != nil && !maps.Equal(*in.Options, v.Options) {
		v.Options, changed = *in.Options, true
	}
	if in.Price != nil && (*in.Price != v.Price.Amount || v.Price.Currency != currency) {
		v.Price, changed = Money{Amount: *in.Price, Currency: currency}, true
		if v.CompareAtPrice != nil {
			v.CompareAtPrice = &Money{Amount: v.CompareAtPrice.Amount, Currency: currency}
		}
	}
	if in.CompareAtPrice != nil {
		switch {
		case *in.CompareAtPrice == 0 && v.CompareAtPrice != nil:
			v.CompareAtPrice, changed = nil, true
		case *in.CompareAtPrice > 0 && (v.CompareAtPrice == nil || v.CompareAtPrice.Amount != *in.CompareAtPrice):
			v.CompareAtPrice, changed = &Money{Amount: *in.CompareAtPrice, Currency: v.Price.Currency}, true
		}
	}
	return v, changed
}

// removeVariant deletes a variant that holds no reserved units and emits
// product.updated. Errors: not_found on id, conflict (the product's only
// variant, or units reserved by open checkouts).
func (s *store) removeVariant(ctx context.Context, id string) (Product, error) {
	var out Product
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		p, i, err := s.lockVariant(ctx, tx, id, "id")
		if err != nil {
			return err
		}
		v := p.Variants[i]
		if len(p.Variants) == 1 {
			return &mdk.Error{Code: mdk.CodeConflict, Field: "id", Message: fmt.Sprintf("%s is the only variant of product %s and a product keeps at least one; archive the product with archive_product instead", v.SKU, p.ID)}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM product.variants WHERE id = $1 AND reserved = 0`, id)
		if err != nil {
			return fmt.Errorf("delete variant %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete variant %s: %w", id, err)
		} else if n == 0 {
			return &mdk.Error{Code: mdk.CodeConflict, Field: "id", Message: fmt.Sprintf("%d units of %s are reserved by open checkouts; remove the variant once they are sold or released, or set its stock to the reserved count meanwhile", v.Inventory.Reserved, v.SKU)}
		}
		p.Variants = slices.Delete(p.Variants, i, i+1)
		p.UpdatedAt = s.now()
		out = p
		return s.touchProduct(ctx, tx, p)
	})
	if err != nil {
		return Product{}, fmt.Errorf("remove variant %s: %w", id, err)
	}
	return out, nil
}
