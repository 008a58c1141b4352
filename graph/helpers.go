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
// edges, nodes and page info. Operations cut pages by an opaque position
// after the last item, so only the last edge has a cursor.
func page[T, E any](items []T, next string, after *string, edge func(cursor *string, node *T) E) ([]E, []*T, *model.PageInfo) {
	edges := make([]E, len(items))
	nodes := make([]*T, len(items))
	info := &model.PageInfo{HasNextPage: next != "", HasPreviousPage: after != nil && *after != ""}
	for i := range items {
		var c *string
		if i == len(items)-1 && next != "" {
			c = &next
		}
		nodes[i] = &items[i]
		edges[i] = edge(c, nodes[i])
	}
	if next != "" {
		info.EndCursor = &next
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
	Orders []model.Order `json:"orders"`
}

// Fill copies each order's currency into its amounts.
func (l *orderList) Fill() {
	for i := range l.Orders {
		l.Orders[i].Fill()
	}
}

type productList struct {
	Products   []model.AdminProduct `json:"products"`
	NextCursor string               `json:"next_cursor"`
}

type lowStockList struct {
	Variants   []model.LowStockVariant `json:"variants"`
	NextCursor string                  `json:"next_cursor"`
}

type deadLetterList struct {
	DeadLetters []model.DeadLetter `json:"dead_letters"`
	NextCursor  string             `json:"next_cursor"`
}
