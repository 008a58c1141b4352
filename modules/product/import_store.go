package product

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

// The bulk upsert behind catalog import and the demo seed. A batch of
// products is written in one transaction with a handful of statements
// whatever its size: one read of the products it may update, one of their
// variants and SKUs, multi-row upserts, and one Emit of all its events.
// A product whose content hash matches the stored one costs only its
// share of the first read.

// importItem is one valid product ready to upsert.
type importItem struct {
	rec  importer.Record // where the product is in the file, for errors
	in   ProductInput    // normalized, Handle set
	hash string
}

type outcome int

const (
	outcomeFailed outcome = iota
	outcomeCreated
	outcomeUpdated
	outcomeUnchanged
)

// itemResult is what became of one item.
type itemResult struct {
	outcome outcome
	errs    []importer.LineError
}

func failed(errs ...importer.LineError) itemResult {
	return itemResult{outcome: outcomeFailed, errs: errs}
}

// importTarget is an existing product an item may update.
type importTarget struct {
	id, handle, externalID, hash string
	status                       Status
}

// productWrite is a product the batch creates or updates.
type productWrite struct {
	item    int
	target  *importTarget // nil: create
	hash    string
	product Product
	// drop are the IDs of the target's variants the file no longer lists.
	drop []string
}

// errConcurrentChange means another writer changed rows the batch had
// read (a variant got reserved before it was dropped); the batch is then
// retried one product at a time.
var errConcurrentChange = errors.New("catalog changed during import")

// upsertBatch writes items in one transaction and reports each item's
// outcome. When the batch fails on a constraint another writer broke
// between the batch's reads and its writes, it is retried one item at a
// time so that only the products involved fail. Any other error is
// returned: nothing of the batch was written.
func (s *store) upsertBatch(ctx context.Context, items []importItem) ([]itemResult, error) {
	var results []itemResult
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		var err error
		results, err = s.upsertInTx(ctx, tx, items)
		return err
	})
	raced := sqldb.IsUniqueViolation(err) || errors.Is(err, errConcurrentChange)
	switch {
	case err == nil:
		return results, nil
	case raced && len(items) > 1:
		results = make([]itemResult, len(items))
		for i := range items {
			one, err := s.upsertBatch(ctx, items[i:i+1])
			if err != nil {
				return nil, err
			}
			results[i] = one[0]
		}
		return results, nil
	case raced:
		return []itemResult{failed(items[0].rec.Problem(mdk.CodeConflict, "",
			"another write changed this product, its handle or its SKUs at the same moment; import the file again"))}, nil
	}
	return nil, err
}

func (s *store) upsertInTx(ctx context.Context, tx *sqldb.Tx, items []importItem) ([]itemResult, error) {
	results := make([]itemResult, len(items))
	byExt, byHandle, err := s.loadImportTargets(ctx, tx, items)
	if err != nil {
		return nil, err
	}
	claimed := map[string]int{}
	var writes []*productWrite
	for i, it := range items {
		target, lerr := matchTarget(it, byExt, byHandle)
		if lerr != nil {
			results[i] = failed(*lerr)
			continue
		}
		if target != nil {
			if prev, dup := claimed[target.id]; dup {
				results[i] = failed(it.rec.Problem(mdk.CodeConflict, "", fmt.Sprintf(
					"matches product %s, which line %d of the file updates too (one by handle, the other by external ID); give each product its own handle and external ID",
					target.id, items[prev].rec.Line)))
				continue
			}
			claimed[target.id] = i
			if target.hash == it.hash {
				results[i] = itemResult{outcome: outcomeUnchanged}
				continue
			}
		}
		writes = append(writes, &productWrite{item: i, target: target, hash: it.hash})
	}
	if len(writes) == 0 {
		return results, nil
	}
	writes, err = s.planVariants(ctx, tx, items, writes, results)
	if err != nil {
		return nil, err
	}
	if err := s.writeProducts(ctx, tx, writes); err != nil {
		return nil, err
	}
	events := make([]mdk.Event, 0, len(writes))
	for _, w := range writes {
		typ, oc := EventProductCreated, outcomeCreated
		if w.target != nil {
			typ, oc = EventProductUpdated, outcomeUpdated
			if w.product.Status == StatusArchived && w.target.status != StatusArchived {
				typ = EventProductArchived
			}
		}
		e, err := mdk.NewEvent(typ, w.product.ID, ProductEvent{ProductID: w.product.ID, Handle: w.product.Handle, Status: w.product.Status})
		if err != nil {
			return nil, err
		}
		events = append(events, e)
		results[w.item] = itemResult{outcome: oc}
	}
	if err := s.outbox.Emit(ctx, tx, events...); err != nil {
		return nil, fmt.Errorf("emit import events: %w", err)
	}
	return results, nil
}

// matchTarget finds the product an item updates: the one with its
// external ID; else the one with its handle, provided that product has no
// other external ID. nil means the item creates a product.
func matchTarget(it importItem, byExt, byHandle map[string]*importTarget) (*importTarget, *importer.LineError) {
	in := it.in
	conflict := func(field, format string, args ...any) *importer.LineError {
		e := it.rec.Problem(mdk.CodeConflict, field, fmt.Sprintf(format, args...))
		return &e
	}
	target := byExt[in.ExternalID]
	if in.ExternalID == "" || target == nil {
		target = byHandle[in.Handle]
		if target != nil && in.ExternalID != "" && target.externalID != "" {
			return nil, conflict("handle", "%q is the handle of product %s, whose external ID is %q; give this product another handle", in.Handle, target.id, target.externalID)
		}
		return target, nil
	}
	if other := byHandle[in.Handle]; other != nil && other.id != target.id {
		return nil, conflict("handle", "%q is the handle of another product (%s); give this product another handle", in.Handle, other.id)
	}
	return target, nil
}

// loadImportTargets reads the products the items may update, by external
// ID and by handle, locking them on PostgreSQL. The two keys are read by
// separate queries rather than one OR: PostgreSQL caches the plan of a
// repeated statement, and the plan it makes for an OR of two IN lists
// while the table is still small is a sequential scan, which an import
// that fills the table then runs for every batch.
func (s *store) loadImportTargets(ctx context.Context, tx *sqldb.Tx, items []importItem) (byExt, byHandle map[string]*importTarget, err error) {
	byExt, byHandle = map[string]*importTarget{}, map[string]*importTarget{}
	handles := make([]string, len(items))
	for i, it := range items {
		handles[i] = it.in.Handle
	}
	if err := s.readTargets(ctx, tx, "handle", handles, byExt, byHandle); err != nil {
		return nil, nil, err
	}
	// Most external IDs belong to the product with the item's handle,
	// found already.
	var exts []string
	for _, it := range items {
		if it.in.ExternalID != "" && byExt[it.in.ExternalID] == nil {
			exts = append(exts, it.in.ExternalID)
		}
	}
	if err := s.readTargets(ctx, tx, "external_id", exts, byExt, byHandle); err != nil {
		return nil, nil, err
	}
	return byExt, byHandle, nil
}

// readTargets adds the products whose column is in keys to byExt and
// byHandle.
func (s *store) readTargets(ctx context.Context, tx *sqldb.Tx, column string, keys []string, byExt, byHandle map[string]*importTarget) error {
	for chunk := range chunks(keys) {
		rows, err := tx.QueryContext(ctx, `SELECT id, handle, external_id, content_hash, status FROM product.products WHERE `+
			column+` IN (`+params(tx.Engine(), 1, len(chunk))+`)`+s.db.ForUpdate(), anyArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("read products to import over by %s: %w", column, err)
		}
		err = scanRows(rows, func() error {
			var t importTarget
			var ext sql.NullString
			if err := rows.Scan(&t.id, &t.handle, &ext, &t.hash, &t.status); err != nil {
				return err
			}
			t.externalID = ext.String
			byHandle[t.handle] = &t
			if t.externalID != "" {
				byExt[t.externalID] = &t
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read products to import over by %s: %w", column, err)
		}
	}
	return nil
}

// scanRows calls scan for every row and closes rows.
func scanRows(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// existingVariant is a stored variant of a product being updated.
type existingVariant struct {
	id, productID, sku string
	reserved           int64
}

// planVariants builds each write's product with variant IDs: a variant
// whose SKU the target already has keeps its ID (and its stock); others
// are new. It fails the items whose SKUs belong to other products or that
// drop variants holding reserved units, and returns the writes left.
func (s *store) planVariants(ctx context.Context, tx *sqldb.Tx, items []importItem, writes []*productWrite, results []itemResult) ([]*productWrite, error) {
	var targetIDs, skus []string
	for _, w := range writes {
		if w.target != nil {
			targetIDs = append(targetIDs, w.target.id)
		}
		for _, v := range items[w.item].in.Variants {
			skus = append(skus, v.SKU)
		}
	}
	current := map[string][]existingVariant{} // by product ID
	if err := s.eachVariantWhere(ctx, tx, "product_id", targetIDs, func(v existingVariant) {
		current[v.productID] = append(current[v.productID], v)
	}); err != nil {
		return nil, err
	}
	owner := map[string]string{} // SKU → product ID
	if err := s.eachVariantWhere(ctx, tx, "sku", skus, func(v existingVariant) { owner[v.sku] = v.productID }); err != nil {
		return nil, err
	}
	now := s.now()
	kept := writes[:0]
	for _, w := range writes {
		it := items[w.item]
		self := ""
		if w.target != nil {
			self = w.target.id
		}
		var errs []importer.LineError
		for i, v := range it.in.Variants {
			if o, ok := owner[v.SKU]; ok && o != self {
				errs = append(errs, it.rec.Problem(mdk.CodeConflict, fmt.Sprintf("variants[%d].sku", i),
					fmt.Sprintf("SKU %q is already used by product %s; choose another SKU", v.SKU, o)))
			}
		}
		ids := map[string]string{} // SKU → existing variant ID
		for _, v := range current[self] {
			if skuIndex(it.in.Variants, v.sku) >= 0 {
				ids[v.sku] = v.id
				continue
			}
			if v.reserved > 0 {
				errs = append(errs, it.rec.Problem(mdk.CodeConflict, "variants", fmt.Sprintf(
					"SKU %q is no longer listed but %d units of it are reserved by open checkouts; keep it until they complete", v.sku, v.reserved)))
			}
			w.drop = append(w.drop, v.id)
		}
		if len(errs) > 0 {
			results[w.item] = failed(errs...)
			continue
		}
		p, err := s.importedProduct(it.in, w.target, ids, now)
		if err != nil {
			return nil, err
		}
		w.product = p
		kept = append(kept, w)
	}
	return kept, nil
}

func skuIndex(vs []VariantInput, sku string) int {
	for i, v := range vs {
		if v.SKU == sku {
			return i
		}
	}
	return -1
}

// eachVariantWhere calls fn with every variant whose column (sku or
// product_id) is in keys.
func (s *store) eachVariantWhere(ctx context.Context, tx *sqldb.Tx, column string, keys []string, fn func(existingVariant)) error {
	for chunk := range chunks(keys) {
		rows, err := tx.QueryContext(ctx, `SELECT id, product_id, sku, reserved FROM product.variants WHERE `+column+` IN (`+params(tx.Engine(), 1, len(chunk))+`)`, anyArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("read variants by %s: %w", column, err)
		}
		err = scanRows(rows, func() error {
			var v existingVariant
			if err := rows.Scan(&v.id, &v.productID, &v.sku, &v.reserved); err != nil {
				return err
			}
			fn(v)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read variants by %s: %w", column, err)
		}
	}
	return nil
}

// importedProduct builds the product an item describes, reusing the
// target's ID and the IDs of variants it keeps. An item without an
// external ID keeps the target's.
func (s *store) importedProduct(in ProductInput, target *importTarget, variantIDs map[string]string, now time.Time) (Product, error) {
	p, err := s.newProduct(in, now)
	if err != nil {
		return Product{}, err
	}
	if target == nil {
		return p, nil
	}
	p.ID = target.id
	if p.ExternalID == "" {
		p.ExternalID = target.externalID
	}
	for i := range p.Variants {
		p.Variants[i].ProductID = p.ID
		if id, ok := variantIDs[p.Variants[i].SKU]; ok {
			p.Variants[i].ID = id
		}
	}
	return p, nil
}

// rowsPerStatement bounds a multi-row INSERT: a few thousand parameters
// keep statements quick to parse, far below SQLite's limit of 32766.
const rowsPerStatement = 250

// writeProducts deletes the variants writes drop, then upserts the
// products and their variants. Stock and creation times of existing rows
// are left alone: stock changes go through set_stock and reservations.
func (s *store) writeProducts(ctx context.Context, tx *sqldb.Tx, writes []*productWrite) error {
	var drop []string
	productRows := make([][]any, 0, len(writes))
	var variantRows [][]any
	for _, w := range writes {
		drop = append(drop, w.drop...)
		p := w.product
		tags, attrs, media, opts, err := encodeProductJSON(p)
		if err != nil {
			return err
		}
		productRows = append(productRows, []any{p.ID, p.Handle, nullable(p.ExternalID), p.Title, p.Description, p.Vendor,
			p.ProductType, p.Category, tags, attrs, media, opts, string(p.Status), p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli(), w.hash})
		for i, v := range p.Variants {
			vopts, err := json.Marshal(nonNilMap(v.Options))
			if err != nil {
				return fmt.Errorf("encode variant %s options: %w", v.SKU, err)
			}
			variantRows = append(variantRows, []any{v.ID, p.ID, i, v.SKU, v.Title, string(vopts), v.Price.Amount, compareAt(v),
				v.Price.Currency, v.Barcode, v.WeightGrams, v.Inventory.OnHand, int64(0), p.UpdatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()})
		}
	}
	for chunk := range chunks(drop) {
		res, err := tx.ExecContext(ctx, `DELETE FROM product.variants WHERE reserved = 0 AND id IN (`+params(tx.Engine(), 1, len(chunk))+`)`, anyArgs(chunk)...)
		if err != nil {
			return fmt.Errorf("delete variants dropped by import: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete variants dropped by import: %w", err)
		} else if n != int64(len(chunk)) {
			return errConcurrentChange
		}
	}
	if err := insertRows(ctx, tx, upsertProductsSQL, productRows); err != nil {
		return fmt.Errorf("upsert %d products: %w", len(productRows), err)
	}
	if err := insertRows(ctx, tx, upsertVariantsSQL, variantRows); err != nil {
		return fmt.Errorf("upsert %d variants: %w", len(variantRows), err)
	}
	return nil
}

const upsertProductsSQL = `INSERT INTO product.products (` + productCols + `, content_hash) VALUES %s
ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, external_id = excluded.external_id, title = excluded.title,
description = excluded.description, vendor = excluded.vendor, product_type = excluded.product_type,
category = excluded.category, tags = excluded.tags, attributes = excluded.attributes, media = excluded.media,
options = excluded.options, status = excluded.status, content_hash = excluded.content_hash, updated_at = excluded.updated_at`

const upsertVariantsSQL = `INSERT INTO product.variants (` + variantCols + `) VALUES %s
ON CONFLICT (id) DO UPDATE SET position = excluded.position, sku = excluded.sku, title = excluded.title,
options = excluded.options, price = excluded.price, compare_at_price = excluded.compare_at_price,
currency = excluded.currency, barcode = excluded.barcode, weight_grams = excluded.weight_grams,
updated_at = excluded.updated_at`

// params returns n placeholders numbered from from. On SQLite they are
// plain "?": it resolves "$n" names with a linear search per parameter,
// which makes a statement of thousands of parameters quadratic to prepare
// and bind. The values are in order, so "?" means the same.
func params(e sqldb.Engine, from, n int) string {
	if e == sqldb.SQLite {
		return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	}
	return placeholders(from, n)
}

// insertRows runs stmt (with %s for the VALUES tuples) over rows, a
// multi-row statement per rowsPerStatement rows.
func insertRows(ctx context.Context, tx *sqldb.Tx, stmt string, rows [][]any) error {
	for start := 0; start < len(rows); start += rowsPerStatement {
		chunk := rows[start:min(start+rowsPerStatement, len(rows))]
		var values strings.Builder
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, row := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString("(" + params(tx.Engine(), len(args)+1, len(row)) + ")")
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(stmt, values.String()), args...); err != nil {
			return err
		}
	}
	return nil
}
