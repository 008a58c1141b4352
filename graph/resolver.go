package graph

import (
	"context"
	"log/slog"
	"strings"

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

// maxOrders is the largest page the order operations return.
const maxOrders = 100

// orders lists orders through the field's operation (list_my_orders or
// list_orders). The operations page by count only: one more than asked
// says whether there is a next page.
func (r *Resolver) orders(ctx context.Context, status *model.OrderStatus, first *int) (*model.OrderConnection, error) {
	limit := deref(first)
	in := orderListIn{Status: strings.ToLower(string(deref(status))), Limit: limit}
	if limit > 0 && limit < maxOrders {
		in.Limit = limit + 1
	}
	var out orderList
	if err := r.call(ctx, in, &out); err != nil {
		return nil, err
	}
	more := limit > 0 && len(out.Orders) > limit
	if more {
		out.Orders = out.Orders[:limit]
	}
	conn := &model.OrderConnection{}
	conn.Edges, conn.Nodes, conn.PageInfo = page(out.Orders, "", nil,
		func(c *string, n *model.Order) *model.OrderEdge { return &model.OrderEdge{Cursor: c, Node: n} })
	conn.PageInfo.HasNextPage = more
	return conn, nil
}
