package graph

import (
	"context"
	"log/slog"

	"github.com/hyperrr/hyperrr/graph/model"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools/agent"
)

// Resolver resolves every field through the operation registry, except
// the catalog agent's (@agent), which run a turn of the agent.
type Resolver struct {
	ops   *mdk.Registry
	hub   *hub
	log   *slog.Logger
	agent func() (*agent.Service, error)
}

// orders lists orders through the field's operation (list_my_orders or
// list_orders), which gives every order its own cursor.
func (r *Resolver) orders(ctx context.Context, in orderListIn, after *string) (*model.OrderConnection, error) {
	var out orderList
	if err := r.call(ctx, in, &out); err != nil {
		return nil, err
	}
	orders := make([]model.Order, len(out.Orders))
	for i, o := range out.Orders {
		orders[i] = o.Order
	}
	conn := &model.OrderConnection{TotalCount: out.TotalCount}
	conn.Edges, conn.Nodes, conn.PageInfo = pageBy(orders, func(i int) string { return out.Orders[i].Cursor }, out.NextCursor, after,
		func(c *string, n *model.Order) *model.OrderEdge { return &model.OrderEdge{Cursor: c, Node: n} })
	return conn, nil
}
