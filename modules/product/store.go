package product

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// store is the catalog's SQL, shared by every file of the package (the
// operations here, the importer and search). Reads take a sqldb.Querier so
// they run on the *sqldb.DB or inside a caller's *sqldb.Tx; writes open
// their own short transaction and emit their events in it.
//
// Read API for the rest of the package:
//
//	getProducts(ctx, q, ids)            products by ID, with variants, in the order given; unknown IDs skipped
//	getProduct(ctx, q, idOrHandle)      one product by ID or handle; not_found
//	productsByHandles(ctx, q, handles)  like getProducts, by handle
//	eachActive(ctx, pageSize, fn)       every active product, with variants, in ID order, a page per call of fn
//	getVariants(ctx, q, ids)            variants by ID, in the order given; unknown IDs skipped
//	variantsBySKU(ctx, q, skus)         variants by SKU
//
// Write helpers that run inside a caller's transaction (for bulk upserts):
//
//	insertProduct(ctx, tx, p)           one products row (p.ID and times set by the caller)
//	insertVariant(ctx, tx, v, position) one variants row
//	emitProduct(ctx, tx, type, p)       a product.* event in the same transaction
//	emitInventory(ctx, tx, events...)   inventory.changed events
type store struct {
	db       *sqldb.DB
	outbox   mdk.Outbox
	currency string
	now      func() time.Time
}

const productCols = `id, handle, external_id, title, description, vendor, product_type, category, tags, attributes, media, options, status, created_at, updated_at`

const variantCols = `id, product_id, position, sku, title, options, price, compare_at_price, currency, barcode, weight_grams, on_hand, reserved, created_at, updated_at`

// inChunk bounds the bound parameters of one IN list, well below both
// engines' limits.
const inChunk = 500

// placeholders returns "$from, $from+1, ..." for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

func anyArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// dedupe returns ss without repeats, in first-seen order.
func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func scanProduct(rows scanner) (Product, error) {
	var (
		p                                Product
		externalID                       sql.NullString
		tags, attrs, media, opts, status string
		createdAt, updatedAt             int64
	)
	if err := rows.Scan(&p.ID, &p.Handle, &externalID, &p.Title, &p.Description, &p.Vendor, &p.ProductType,
		&p.Category, &tags, &attrs, &media, &opts, &status, &createdAt, &updatedAt); err != nil {
		return Product{}, fmt.Errorf("scan product: %w", err)
	}
	p.ExternalID = externalID.String
	p.Status = Status(status)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(createdAt).UTC(), time.UnixMilli(updatedAt).UTC()
	for _, col := range []struct {
		raw string
		dst any
	}{{tags, &p.Tags}, {attrs, &p.Attributes}, {media, &p.Media}, {opts, &p.Options}} {
		if err := json.Unmarshal([]byte(col.raw), col.dst); err != nil {
			return Product{}, fmt.Errorf("decode product %s: %w", p.ID, err)
		}
	}
	p.Tags = nonNil(p.Tags)
	p.Media = nonNil(p.Media)
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	if p.Options == nil {
		p.Options = []Option{}
	}
	p.Variants = []Variant{}
	return p, nil
}

func scanVariant(rows scanner) (Variant, error) {
	var (
		v                    Variant
		position             int
		opts                 string
		compareAt            sql.NullInt64
		createdAt, updatedAt int64
	)
	if err := rows.Scan(&v.ID, &v.ProductID, &position, &v.SKU, &v.Title, &opts, &v.Price.Amount, &compareAt,
		&v.Price.Currency, &v.Barcode, &v.WeightGrams, &v.Inventory.OnHand, &v.Inventory.Reserved, &createdAt, &updatedAt); err != nil {
		return Variant{}, fmt.Errorf("scan variant: %w", err)
	}
	if err := json.Unmarshal([]byte(opts), &v.Options); err != nil {
		return Variant{}, fmt.Errorf("decode variant %s options: %w", v.ID, err)
	}
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	if compareAt.Valid {
		v.CompareAtPrice = &Money{Amount: compareAt.Int64, Currency: v.Price.Currency}
	}
	v.Inventory.Available = v.Inventory.OnHand - v.Inventory.Reserved
	return v, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// queryProducts runs SELECT productCols ... where and attaches each
// product's variants.
func (s *store) queryProducts(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]Product, error) {
	out, err := s.queryProductRows(ctx, q, where, args...)
	if err != nil {
		return nil, err
	}
	if err := s.attachVariants(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// productHeads returns products by ID without their variants, keyed by ID.
func (s *store) productHeads(ctx context.Context, ids []string) (map[string]Product, error) {
	out := map[string]Product{}
	for chunk := range chunks(dedupe(ids)) {
		ps, err := s.queryProductRows(ctx, s.db, `id IN (`+placeholders(1, len(chunk))+`)`, anyArgs(chunk)...)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out[p.ID] = p
		}
	}
	return out, nil
}

// queryProductRows is queryProducts without the variants.
func (s *store) queryProductRows(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]Product, error) {
	return queryAll(ctx, q, `SELECT `+productCols+` FROM product.products WHERE `+where, args, scanProduct)
}

// scanner is what *sql.Rows and *sql.Row share.
type scanner interface{ Scan(...any) error }

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, q sqldb.Querier, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// attachVariants loads the variants of products, in position order.
func (s *store) attachVariants(ctx context.Context, q sqldb.Querier, products []Product) error {
	if len(products) == 0 {
		return nil
	}
	index := make(map[string]int, len(products))
	ids := make([]string, len(products))
	for i, p := range products {
		index[p.ID] = i
		ids[i] = p.ID
	}
	for chunk := range chunks(ids) {
		vs, err := s.queryVariants(ctx, q, `product_id IN (`+placeholders(1, len(chunk))+`) ORDER BY product_id, position, id`, anyArgs(chunk)...)
		if err != nil {
			return err
		}
		for _, v := range vs {
			p := &products[index[v.ProductID]]
			p.Variants = append(p.Variants, v)
		}
	}
	return nil
}

func (s *store) queryVariants(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]Variant, error) {
	return queryAll(ctx, q, `SELECT `+variantCols+` FROM product.variants WHERE `+where, args, scanVariant)
}

// chunks splits ids into IN-list sized pieces.
func chunks(ids []string) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			n := min(len(ids), inChunk)
			if !yield(ids[:n]) {
				return
			}
			ids = ids[n:]
		}
	}
}

// byKeys runs query over keys an IN list at a time and returns the rows
// in the order of keys (deduplicated), skipping keys that matched nothing;
// key gives a row's value of the queried column.
func byKeys[T any](keys []string, query func(where string, args []any) ([]T, error), column string, key func(T) string) ([]T, error) {
	keys = dedupe(keys)
	found := make(map[string]T, len(keys))
	for chunk := range chunks(keys) {
		rows, err := query(column+` IN (`+placeholders(1, len(chunk))+`)`, anyArgs(chunk))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			found[key(r)] = r
		}
	}
	out := make([]T, 0, len(found))
	for _, k := range keys {
		if r, ok := found[k]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *store) productsByKeys(ctx context.Context, q sqldb.Querier, column string, keys []string, key func(Product) string) ([]Product, error) {
	return byKeys(keys, func(where string, args []any) ([]Product, error) { return s.queryProducts(ctx, q, where, args...) }, column, key)
}

func (s *store) variantsByKeys(ctx context.Context, q sqldb.Querier, column string, keys []string, key func(Variant) string) ([]Variant, error) {
	return byKeys(keys, func(where string, args []any) ([]Variant, error) { return s.queryVariants(ctx, q, where, args...) }, column, key)
}

// getProducts returns the products with the given IDs and their variants,
// in the order of ids; unknown IDs are skipped.
func (s *store) getProducts(ctx context.Context, q sqldb.Querier, ids []string) ([]Product, error) {
	return s.productsByKeys(ctx, q, "id", ids, func(p Product) string { return p.ID })
}

// productsByHandles is getProducts by handle.
func (s *store) productsByHandles(ctx context.Context, q sqldb.Querier, handles []string) ([]Product, error) {
	return s.productsByKeys(ctx, q, "handle", handles, func(p Product) string { return p.Handle })
}

// getProduct returns the product whose ID or handle is key. Errors:
// not_found.
func (s *store) getProduct(ctx context.Context, q sqldb.Querier, key string) (Product, error) {
	ps, err := s.queryProducts(ctx, q, `id = $1 OR handle = $1`, key)
	if err != nil {
		return Product{}, fmt.Errorf("load product %s: %w", key, err)
	}
	if len(ps) == 0 {
		return Product{}, mdk.NotFound("no product has the ID or handle %q; find products with search_catalog", key)
	}
	return ps[0], nil
}

// lockProduct loads a product by ID inside tx, locking its row on
// PostgreSQL so concurrent edits of one product (and its variants) take
// turns. Errors: not_found on field.
func (s *store) lockProduct(ctx context.Context, tx *sqldb.Tx, id, field string) (Product, error) {
	ps, err := s.queryProducts(ctx, tx, `id = $1`+s.db.ForUpdate(), id)
	if err != nil {
		return Product{}, fmt.Errorf("lock product %s: %w", id, err)
	}
	if len(ps) == 0 {
		return Product{}, &mdk.Error{Code: mdk.CodeNotFound, Field: field, Message: fmt.Sprintf("no product has the ID %q", id)}
	}
	return ps[0], nil
}

// getVariants returns variants by ID in the order of ids; unknown IDs are
// skipped.
func (s *store) getVariants(ctx context.Context, q sqldb.Querier, ids []string) ([]Variant, error) {
	return s.variantsByKeys(ctx, q, "id", ids, func(v Variant) string { return v.ID })
}

// variantsBySKU returns variants by SKU in the order of skus.
func (s *store) variantsBySKU(ctx context.Context, q sqldb.Querier, skus []string) ([]Variant, error) {
	return s.variantsByKeys(ctx, q, "sku", skus, func(v Variant) string { return v.SKU })
}

// eachActive calls fn with every active product and its variants, a page
// of up to pageSize at a time in ID order: what an index build needs
// without holding the catalog in memory twice. Pages are read outside any
// transaction, so a product changed during the walk is seen in one state
// or the other; product events after the build bring the index up to date.
func (s *store) eachActive(ctx context.Context, pageSize int, fn func([]Product) error) error {
	if pageSize <= 0 {
		pageSize = 500
	}
	after := ""
	for {
		ps, err := s.queryProducts(ctx, s.db, `status = $1 AND id > $2 ORDER BY id LIMIT $3`, string(StatusActive), after, pageSize)
		if err != nil {
			return fmt.Errorf("list active products after %q: %w", after, err)
		}
		if len(ps) == 0 {
			return nil
		}
		if err := fn(ps); err != nil {
			return err
		}
		if len(ps) < pageSize {
			return nil
		}
		after = ps[len(ps)-1].ID
	}
}

// emitProduct writes a product.* event about p in tx.
func (s *store) emitProduct(ctx context.Context, tx *sqldb.Tx, typ string, p Product) error {
	e, err := mdk.NewEvent(typ, p.ID, ProductEvent{ProductID: p.ID, Handle: p.Handle, Status: p.Status})
	if err != nil {
		return err
	}
	return s.outbox.Emit(ctx, tx, e)
}

// emitInventory writes one inventory.changed event per entry in tx; the
// subject is the variant ID.
func (s *store) emitInventory(ctx context.Context, tx *sqldb.Tx, changes ...InventoryEvent) error {
	events := make([]mdk.Event, 0, len(changes))
	for _, c := range changes {
		e, err := mdk.NewEvent(EventInventoryChanged, c.VariantID, c)
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	return s.outbox.Emit(ctx, tx, events...)
}

// notFound reports whether err is a coded not_found error.
func notFound(err error) bool {
	var e *mdk.Error
	return errors.As(err, &e) && e.Code == mdk.CodeNotFound
}
