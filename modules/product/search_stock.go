package product

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/hyperrr/hyperrr/mdk"
)

// stockBook is what the search index knows of stock: per indexed product,
// the units available of each variant. The index reads only whether some
// variant is available (the in_stock keyword); search results read stock
// from SQL. So an inventory.changed event, which carries the variant's
// new availability, is applied here with no read: the in_stock keyword
// changes in place when it flips, and the result cache moves on either
// way. Only content changes (product.* events) reload a product.
//
// Events for one variant arrive in commit order (the row is locked by each
// change and the relay keeps order per subject), so the last one applied
// holds the committed availability.
type stockBook struct {
	// mu serialises applying stock with reloading a product, so a reload
	// that read stock before a change cannot overwrite the change.
	mu       sync.Mutex
	products map[string][]variantStock // by product ID; indexed products only
}

type variantStock struct {
	id        string
	available int64
}

func newStockBook() *stockBook {
	return &stockBook{products: map[string][]variantStock{}}
}

// stockOf is p's variants' availability as the book keeps it.
func stockOf(p Product) []variantStock {
	vs := make([]variantStock, len(p.Variants))
	for i, v := range p.Variants {
		vs[i] = variantStock{id: v.ID, available: v.Inventory.Available}
	}
	return vs
}

func inStock(vs []variantStock) bool {
	for _, v := range vs {
		if v.available > 0 {
			return true
		}
	}
	return false
}

// stockChange is the part of inventory.changed the index needs. Available
// is a pointer so an event without it (from an older emitter) is told
// apart from a sold-out variant.
type stockChange struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Available *int64 `json:"available"`
}

// applyStock applies an inventory.changed event in memory. handled is
// false when the event can't be applied so (no availability in it, or a
// variant the book doesn't know): the caller reloads the product then.
func (s *searchPart) applyStock(raw json.RawMessage) (handled bool, err error) {
	var c stockChange
	if err := json.Unmarshal(raw, &c); err != nil || c.ProductID == "" || c.VariantID == "" || c.Available == nil {
		return false, nil //nolint:nilerr // undecodable here: the reload path decides
	}
	b := s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	vs, ok := b.products[c.ProductID]
	if !ok {
		// Not indexed (not active, or its product.created is still on the
		// way, and that reload reads the stock committed before it).
		// Results of inactive products aren't shown; nothing to change.
		return true, nil
	}
	i := variantIndex(vs, c.VariantID)
	if i < 0 {
		return false, nil // a variant added since the last reload
	}
	was, before := inStock(vs), vs[i].available
	vs[i].available = *c.Available
	// Results show stock read from SQL: none remembered before this change
	// may be served after it, whether or not the index changes.
	s.results.changed()
	defer s.results.changed()
	if now := inStock(vs); now != was {
		if _, err := s.index.SetKeyword(c.ProductID, "in_stock", strconv.FormatBool(now)); err != nil {
			vs[i].available = before // so the retried event flips it again
			return false, err
		}
	}
	return true, nil
}

func variantIndex(vs []variantStock, id string) int {
	for i, v := range vs {
		if v.id == id {
			return i
		}
	}
	return -1
}

// onEvent applies an inventory change in memory when it can, and
// otherwise marks the product the event is about to be re-read and
// refreshed in the index (removed when no longer active).
func (s *searchPart) onEvent(_ context.Context, e mdk.Event) error {
	if e.Type == EventInventoryChanged {
		handled, err := s.applyStock(e.Data)
		if handled || err != nil {
			return err
		}
	}
	var ref struct {
		ProductID string `json:"product_id"`
	}
	if err := json.Unmarshal(e.Data, &ref); err != nil || ref.ProductID == "" {
		return nil // not about a product we can index; nothing to retry
	}
	s.toReload.mark(ref.ProductID)
	return nil
}
