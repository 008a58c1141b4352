package product

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
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
}

// lowStockCursor is the last row of a page: rows are ordered by
// (available, variant ID), so the next page starts strictly after it.
type lowStockCursor struct {
	available int64
	variantID string
}

func (c lowStockCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.available, 10) + ":" + c.variantID))
}

func decodeLowStockCursor(s string) (lowStockCursor, error) {
	bad := mdk.Invalid("cursor", "is not a cursor from list_low_stock; pass next_cursor unchanged, or omit it for the first page")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return lowStockCursor{}, bad
	}
	n, id, ok := strings.Cut(string(raw), ":")
	if !ok || !strings.HasPrefix(id, prefixVariant) {
		return lowStockCursor{}, bad
	}
	available, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return lowStockCursor{}, bad
	}
	return lowStockCursor{available: available, variantID: id}, nil
}

// lowStock lists variants of active products with at most threshold units
// available, fewest first, a page of limit after the cursor (empty for the
// first page). The returned cursor is empty on the last page.
func (s *store) lowStock(ctx context.Context, threshold int64, limit int, cursor string) ([]LowStockVariant, string, error) {
	after := lowStockCursor{available: -1 << 62}
	if cursor != "" {
		var err error
		if after, err = decodeLowStockCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT v.product_id, p.title, v.id, v.sku, v.title, v.on_hand, v.reserved
		FROM product.variants v JOIN product.products p ON p.id = v.product_id
		WHERE p.status = $1 AND v.on_hand - v.reserved <= $2
		  AND (v.on_hand - v.reserved > $3 OR (v.on_hand - v.reserved = $3 AND v.id > $4))
		ORDER BY v.on_hand - v.reserved, v.id LIMIT $5`,
		string(StatusActive), threshold, after.available, after.variantID, limit+1)
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
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list low stock: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = lowStockCursor{available: last.Available, variantID: last.VariantID}.encode()
	}
	return out, next, nil
}

// listProducts lists products newest first, optionally of one status, a
// page of limit after the cursor (a product ID, encoded).
func (s *store) listProducts(ctx context.Context, status Status, limit int, cursor string) ([]Product, string, error) {
	conds, args := []string{"1 = 1"}, []any{}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(raw), prefixProduct) {
			return nil, "", mdk.Invalid("cursor", "is not a cursor from list_products; pass next_cursor unchanged, or omit it for the first page")
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
		next = base64.RawURLEncoding.EncodeToString([]byte(ps[limit-1].ID))
	}
	return nonNil(ps), next, nil
}
