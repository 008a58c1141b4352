package graph

import (
	"context"

	"github.com/hyperrr/hyperrr/graph/model"
)

// get runs the field's operation for one object; not_found is null.
func get[T any](ctx context.Context, r *Resolver, in any) (*T, error) {
	var out T
	return nullIfNotFound(&out, r.call(ctx, in, &out))
}

// mutate runs the field's operation for a mutation payload: the object,
// or the user errors, or a top-level error.
func mutate[T any](ctx context.Context, r *Resolver, in any) (*T, []*model.UserError, error) {
	var out T
	errs, err := userErrors(ctx, r.call(ctx, in, &out))
	if err != nil || len(errs) > 0 {
		return nil, errs, err
	}
	return &out, errs, nil
}

// page turns a page of items and the cursor of the next page into Relay
// edges, nodes and page info, for operations that cut pages by an opaque
// position after the last item: only the last edge has a cursor.
func page[T, E any](items []T, next string, after *string, edge func(cursor *string, node *T) E) ([]E, []*T, *model.PageInfo) {
	return pageBy(items, func(i int) string {
		if i == len(items)-1 {
			return next
		}
		return ""
	}, next, after, edge)
}

// pageBy is page for operations that give items their own cursors
// (cursor(i) is item i's, "" for none): startCursor and endCursor are the
// first and last edge's.
func pageBy[T, E any](items []T, cursor func(i int) string, next string, after *string, edge func(cursor *string, node *T) E) ([]E, []*T, *model.PageInfo) {
	edges := make([]E, len(items))
	nodes := make([]*T, len(items))
	info := &model.PageInfo{HasNextPage: next != "", HasPreviousPage: after != nil && *after != ""}
	for i := range items {
		var c *string
		if s := cursor(i); s != "" {
			c = &s
		}
		if i == 0 {
			info.StartCursor = c
		}
		if i == len(items)-1 {
			info.EndCursor = c
		}
		nodes[i] = &items[i]
		edges[i] = edge(c, nodes[i])
	}
	return edges, nodes, info
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

type searchOut struct {
	Products   []model.Product `json:"products"`
	Pagination struct {
		Cursor     string `json:"cursor"`
		TotalCount int    `json:"total_count"`
	} `json:"pagination"`
	Facets   []*model.Facet   `json:"facets"`
	Messages []*model.Message `json:"messages"`
}

type lookupOut struct {
	Products []model.Product `json:"products"`
}

type getProductOut struct {
	Product model.Product `json:"product"`
}

type orderList struct {
	Orders []struct {
		model.Order
		Cursor string `json:"cursor"`
	} `json:"orders"`
	NextCursor string `json:"next_cursor"`
	TotalCount int    `json:"total_count"`
}

// Fill copies each order's currency into its amounts.
func (l *orderList) Fill() {
	for i := range l.Orders {
		l.Orders[i].Fill()
	}
}

type productList struct {
	Products []struct {
		model.AdminProduct
		Cursor string `json:"cursor"`
	} `json:"products"`
	NextCursor string `json:"next_cursor"`
}

type lowStockList struct {
	Variants []struct {
		model.LowStockVariant
		Cursor string `json:"cursor"`
	} `json:"variants"`
	NextCursor string `json:"next_cursor"`
}

type deadLetterList struct {
	DeadLetters []model.DeadLetter `json:"dead_letters"`
	NextCursor  string             `json:"next_cursor"`
}
