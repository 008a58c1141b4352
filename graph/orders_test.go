package graph_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

const ordersPage = `query($first: Int, $after: String, $status: OrderStatus) {
  myOrders(first: $first, after: $after, status: $status) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id status placedAt } }
    nodes { id }
  }
}`

const merchantOrders = `query($first: Int, $after: String, $status: OrderStatus, $customer: ID, $from: String, $to: String) {
  orders(first: $first, after: $after, status: $status, customerId: $customer, placedAfter: $from, placedBefore: $to) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id status placedAt } }
    nodes { id }
  }
}`

type orderConn struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	Edges []struct {
		Cursor *string `json:"cursor"`
		Node   struct {
			ID       string `json:"id"`
			Status   string `json:"status"`
			PlacedAt string `json:"placedAt"`
		} `json:"node"`
	} `json:"edges"`
	Nodes []struct{ ID string } `json:"nodes"`
}

// ids checks that every edge has a cursor, that nodes follow edges and
// that start and end cursors are the first and last edge's, and returns
// the page's order IDs.
func (c orderConn) ids(t *testing.T) []string {
	t.Helper()
	var out []string
	for i, ed := range c.Edges {
		if ed.Cursor == nil || *ed.Cursor == "" || c.Nodes[i].ID != ed.Node.ID {
			t.Fatalf("edge %d: cursor %v, node %s, nodes[%d] %s", i, ed.Cursor, ed.Node.ID, i, c.Nodes[i].ID)
		}
		out = append(out, ed.Node.ID)
	}
	if n := len(c.Edges); n > 0 && (deref(c.PageInfo.StartCursor) != *c.Edges[0].Cursor || deref(c.PageInfo.EndCursor) != *c.Edges[n-1].Cursor) {
		t.Fatalf("pageInfo %+v does not match the edges' cursors", c.PageInfo)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// seedPlaced stores n placed orders of customer, two per second from
// base, every fourth fulfilled, straight into the order table (running n
// checkouts would only slow the test), and returns their IDs newest first.
func (e *env) seedPlaced(t *testing.T, customer string, n int, base time.Time) []string {
	t.Helper()
	var newest []string
	for i := range n {
		id, status := fmt.Sprintf("ord_%s_%03d", customer, i), "confirmed"
		if i%4 == 0 {
			status = "fulfilled"
		}
		placed := base.Add(time.Duration(i/2) * time.Second).UnixMilli()
		if _, err := e.g.DB().ExecContext(context.Background(), `INSERT INTO "order".orders
			(id, checkout_id, owner_kind, customer_id, status, currency, lines, totals, total, placed_at, created_at, updated_at)
			VALUES ($1, $2, 'customer', $3, $4, 'USD', '[]', '[]', 0, $5, $5, $5)`, id, "chk_"+id, customer, status, placed); err != nil {
			t.Fatal(err)
		}
		newest = append(newest, id)
	}
	// Same second: the larger ID first, as the list breaks ties by ID.
	slices.Reverse(newest)
	return newest
}

// TestOrderConnections pages through myOrders and orders over HTTP: every
// order once, in order, each edge with a cursor, totalCount over every
// page, hasNextPage false on the last.
func TestOrderConnections(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		base := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		alice := e.seedPlaced(t, "cust_alice", 45, base)
		bob := e.seedPlaced(t, "cust_bob", 3, base)

		t.Run("OKMyOrdersPages", func(t *testing.T) {
			var got []string
			var after any
			for page := 0; ; page++ {
				var out struct{ MyOrders orderConn }
				e.do(t, e.alice, ordersPage, map[string]any{"first": 20, "after": after}, &out)
				c := out.MyOrders
				if c.TotalCount != 45 || c.PageInfo.HasPreviousPage != (page > 0) {
					t.Fatalf("page %d: totalCount %d, pageInfo %+v", page, c.TotalCount, c.PageInfo)
				}
				got = append(got, c.ids(t)...)
				if !c.PageInfo.HasNextPage {
					if page != 2 || len(c.Edges) != 5 {
						t.Fatalf("last page is page %d with %d edges, want page 2 with 5", page, len(c.Edges))
					}
					break
				}
				if len(c.Edges) != 20 {
					t.Fatalf("page %d: %d edges", page, len(c.Edges))
				}
				after = *c.PageInfo.EndCursor
			}
			if !slices.Equal(got, alice) {
				t.Fatalf("got\n%v\nwant\n%v", got, alice)
			}
		})

		t.Run("OKAfterEdgeCursor", func(t *testing.T) {
			var first, next struct{ MyOrders orderConn }
			e.do(t, e.alice, ordersPage, map[string]any{"first": 6}, &first)
			e.do(t, e.alice, ordersPage, map[string]any{"first": 3, "after": *first.MyOrders.Edges[2].Cursor}, &next)
			if g := next.MyOrders.ids(t); !slices.Equal(g, alice[3:6]) {
				t.Fatalf("after the 3rd edge: %v, want %v", g, alice[3:6])
			}
		})

		t.Run("OKOwnOnly", func(t *testing.T) {
			var out struct{ MyOrders orderConn }
			e.do(t, e.bob, ordersPage, map[string]any{"status": "FULFILLED"}, &out)
			if g := out.MyOrders.ids(t); out.MyOrders.TotalCount != 1 || !slices.Equal(g, bob[2:]) || out.MyOrders.PageInfo.HasNextPage {
				t.Fatalf("bob's fulfilled orders: %d %v, want [%s]", out.MyOrders.TotalCount, g, bob[2])
			}
		})

		t.Run("OKMerchantFilters", func(t *testing.T) {
			for name, tc := range map[string]struct {
				vars map[string]any
				want int
			}{
				"All":       {map[string]any{}, 48},
				"Status":    {map[string]any{"status": "FULFILLED"}, 12 + 1},
				"Customer":  {map[string]any{"customer": "cust_bob"}, 3},
				"TimeRange": {map[string]any{"from": base.Add(10 * time.Second).Format(time.RFC3339), "to": base.Add(15 * time.Second).Format(time.RFC3339)}, 10},
				"Combined": {map[string]any{"customer": "cust_alice", "status": "CONFIRMED",
					"from": base.Add(10 * time.Second).Format(time.RFC3339)}, 25 - 7},
			} {
				t.Run(name, func(t *testing.T) {
					vars := map[string]any{"first": 7}
					for k, v := range tc.vars {
						vars[k] = v
					}
					var seen []string
					for {
						var out struct{ Orders orderConn }
						e.do(t, e.merchant, merchantOrders, vars, &out)
						if out.Orders.TotalCount != tc.want {
							t.Fatalf("totalCount %d, want %d", out.Orders.TotalCount, tc.want)
						}
						for _, id := range out.Orders.ids(t) {
							if slices.Contains(seen, id) {
								t.Fatalf("%s on two pages", id)
							}
							seen = append(seen, id)
						}
						if !out.Orders.PageInfo.HasNextPage {
							break
						}
						vars["after"] = *out.Orders.PageInfo.EndCursor
					}
					if len(seen) != tc.want {
						t.Fatalf("paged through %d orders, want %d", len(seen), tc.want)
					}
				})
			}
		})

		t.Run("ErrBadCursor", func(t *testing.T) {
			r := e.post(t, e.alice, ordersPage, map[string]any{"after": "not-a-cursor"})
			if len(r.Errors) != 1 || r.Errors[0].code() != "invalid" || r.Errors[0].Extensions["field"] != "after" {
				t.Fatalf("bad cursor: %+v, want one invalid error on after", r.Errors)
			}
			r = e.post(t, e.merchant, merchantOrders, map[string]any{"from": "last tuesday"})
			if len(r.Errors) != 1 || r.Errors[0].code() != "invalid" || r.Errors[0].Extensions["field"] != "placedAfter" {
				t.Fatalf("bad placedAfter: %+v, want one invalid error on placedAfter", r.Errors)
			}
		})
	})
}
