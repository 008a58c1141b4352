package product

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// Page sizes of the merchant listings.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// LowStockVariant is one row of list_low_stock.
type LowStockVariant struct {
	ProductID    string `json:"product_id"`
	ProductTitle string `json:"product_title"`
	VariantID    string `json:"variant_id"`
	SKU          string `json:"sku"`
	Title        string `json:"title" jsonschema:"variant title, e.g. Red / Large"`
	OnHand       int64  `json:"on_hand" jsonschema:"units in stock"`
	Reserved     int64  `json:"reserved" jsonschema:"units held by open checkouts"`
	Available    int64  `json:"available" jsonschema:"units that can still be sold"`
	Cursor       string `json:"cursor" jsonschema:"pass as cursor to list the variants after this one"`
}

func errLowStockCursor() *mdk.Error {
	return mdk.Invalid("cursor", "is not a cursor from list_low_stock; pass next_cursor (or a variant's cursor) unchanged, or omit it for the first page")
}

// lowStock lists variants of active products with at most threshold units
// available, fewest first, a page of limit after the cursor (empty for the
// first page). Rows are ordered by (available, variant ID), and a row's
// cursor is that pair, so a page starts strictly after it. The returned
// cursor is empty on the last page.
func (s *store) lowStock(ctx context.Context, threshold int64, limit int, cursor string) ([]LowStockVariant, string, error) {
	available, variantID := int64(-1<<62), ""
	if cursor != "" {
		var ok bool
		if available, variantID, ok = mdk.DecodeCursor(cursor, prefixVariant); !ok {
			return nil, "", errLowStockCursor()
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT v.product_id, p.title, v.id, v.sku, v.title, v.on_hand, v.reserved
		FROM product.variants v JOIN product.products p ON p.id = v.product_id
		WHERE p.status = $1 AND v.on_hand - v.reserved <= $2
		  AND (v.on_hand - v.reserved > $3 OR (v.on_hand - v.reserved = $3 AND v.id > $4))
		ORDER BY v.on_hand - v.reserved, v.id LIMIT $5`,
		string(StatusActive), threshold, available, variantID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list low stock: %w", err)
	}
	defer rows.Close()
	out := []LowStockVariant{}
	for rows.Next() {
		var v LowStockVariant
		if err := rows.Scan(&v.ProductID, &v.ProductTitle, &v.VariantID, &v.SKU, &v.Title, &v.OnHand, &v.Reserved); err != nil {
			return nil, "", fmt.Errorf("list low stock: %w", err)
		}
		v.Available = v.OnHand - v.Reserved
		v.Cursor = mdk.EncodeCursor(v.Available, v.VariantID)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list low stock: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Cursor
	}
	return out, next, nil
}

// ListedProduct is a product in list_products, with the cursor that
// continues the list right after it.
type ListedProduct struct {
	Product
	Cursor string `json:"cursor" jsonschema:"pass as cursor to list the products after this one"`
}

// productCursor is the cursor after product id: products are listed by ID
// alone, so the ID is the whole keyset position.
func productCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// listProducts lists products newest first, optionally of one status, a
// page of limit after the cursor (a product ID, encoded).
func (s *store) listProducts(ctx context.Context, status Status, limit int, cursor string) ([]ListedProduct, string, error) {
	conds, args := []string{"1 = 1"}, []any{}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(raw), prefixProduct) {
			return nil, "", mdk.Invalid("cursor", "is not a cursor from list_products; pass next_cursor (or a product's cursor) unchanged, or omit it for the first page")
		}
		args = append(args, string(raw))
		conds = append(conds, fmt.Sprintf("id < $%d", len(args)))
	}
	if status != "" {
		args = append(args, string(status))
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	where := strings.Join(conds, " AND ")
	ps, err := s.queryProducts(ctx, s.db, where+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list products: %w", err)
	}
	next := ""
	if len(ps) > limit {
		ps = ps[:limit]
		next = productCursor(ps[limit-1].ID)
	}
	out := make([]ListedProduct, len(ps))
	for i, p := range ps {
		out[i] = ListedProduct{Product: p, Cursor: productCursor(p.ID)}
	}
	return out, next, nil
}
