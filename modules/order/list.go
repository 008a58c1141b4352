package order

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// Order lists are cut by keyset, not offset: newest placed first, ties
// broken by ID, and a cursor is the (placed_at, id) of the last order seen.
// An order is placed once, at the time it is confirmed, so orders placed
// while a client pages sort before its cursor: no page repeats or skips an
// order because of them.
const (
	defaultOrderPage = 20
	maxOrderPage     = 100
)

// MyOrdersInput is list_my_orders' input.
type MyOrdersInput struct {
	Status OrderStatus `json:"status,omitempty" jsonschema:"only orders in this status"`
	Limit  int         `json:"limit,omitempty" jsonschema:"at most this many, 1 to 100 (default 20)"`
	Cursor string      `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page (or the cursor of an order) to continue after it; leave out for the first page"`
}

// Validate checks the status, limit and cursor.
func (in MyOrdersInput) Validate() error {
	_, err := OrderFilter{Status: in.Status, Limit: in.Limit, Cursor: in.Cursor}.query("")
	return err
}

// OrderFilter is list_orders' input.
type OrderFilter struct {
	Status       OrderStatus `json:"status,omitempty" jsonschema:"only orders in this status"`
	CustomerID   string      `json:"customer_id,omitempty" jsonschema:"only this customer's orders"`
	PlacedAfter  string      `json:"placed_after,omitempty" jsonschema:"only orders placed at or after this time, RFC 3339"`
	PlacedBefore string      `json:"placed_before,omitempty" jsonschema:"only orders placed before this time, RFC 3339"`
	Limit        int         `json:"limit,omitempty" jsonschema:"at most this many, 1 to 100 (default 20)"`
	Cursor       string      `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page (or the cursor of an order) to continue after it; leave out for the first page"`
}

// Validate checks the status, times, limit and cursor.
func (in OrderFilter) Validate() error {
	_, err := in.query(in.CustomerID)
	return err
}

// ListedOrder is an order in a list, with the cursor that continues the
// list right after it.
type ListedOrder struct {
	UCPOrder
	Cursor string `json:"cursor" jsonschema:"pass as cursor to list the orders after this one"`
}

// OrderList is the output of list operations.
type OrderList struct {
	Orders     []ListedOrder `json:"orders"`
	NextCursor string        `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last page"`
	TotalCount int           `json:"total_count" jsonschema:"orders matching the filters, over every page"`
}

// orderPos is a place in the list order: a cursor.
type orderPos struct {
	placed int64
	id     string
}

func (p orderPos) String() string {
	return mdk.EncodeCursor(p.placed, p.id)
}

func errCursor() *mdk.Error {
	return mdk.Invalid("cursor", "not a cursor of this list: pass next_cursor (or an order's cursor) unchanged, or leave cursor out for the first page")
}

func parseCursor(s string) (orderPos, error) {
	placed, id, ok := mdk.DecodeCursor(s, prefixOrder)
	if !ok || placed <= 0 {
		return orderPos{}, errCursor()
	}
	return orderPos{placed: placed, id: id}, nil
}

// orderQuery is a checked list request.
type orderQuery struct {
	status        OrderStatus
	customer      string
	after, before int64 // unix ms; 0 is unbounded
	limit         int
	from          *orderPos
}

// query checks f and returns the list it asks for, of customer's orders
// (everyone's when customer is empty).
func (f OrderFilter) query(customer string) (orderQuery, error) {
	q := orderQuery{status: f.Status, customer: customer, limit: f.Limit}
	var errs []error
	if _, ok := transitions[f.Status]; f.Status != "" && !ok && f.Status != OrderRefunded {
		errs = append(errs, mdk.Invalid("status", "unknown order status %q", f.Status))
	}
	if f.Limit < 0 || f.Limit > maxOrderPage {
		errs = append(errs, mdk.Invalid("limit", "must be between 1 and %d", maxOrderPage))
	}
	if q.limit == 0 {
		q.limit = defaultOrderPage
	}
	var err error
	if q.after, err = parseTime("placed_after", f.PlacedAfter); err != nil {
		errs = append(errs, err)
	}
	if q.before, err = parseTime("placed_before", f.PlacedBefore); err != nil {
		errs = append(errs, err)
	}
	if q.after > 0 && q.before > 0 && q.after >= q.before {
		errs = append(errs, mdk.Invalid("placed_before", "must be later than placed_after"))
	}
	if f.Cursor != "" {
		pos, err := parseCursor(f.Cursor)
		if err != nil {
			errs = append(errs, err)
		}
		q.from = &pos
	}
	return q, errors.Join(errs...)
}

func parseTime(field, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, mdk.Invalid(field, "want an RFC 3339 time such as 2026-01-31T09:00:00Z, got %q", s)
	}
	return t.UnixMilli(), nil
}

func (o *ops) list(ctx context.Context, f OrderFilter, customer string) (OrderList, error) {
	q, err := f.query(customer)
	if err != nil {
		return OrderList{}, err
	}
	os, total, err := o.store.listOrders(ctx, q)
	if err != nil {
		return OrderList{}, err
	}
	out := OrderList{TotalCount: total, Orders: make([]ListedOrder, 0, min(len(os), q.limit))}
	for i, ord := range os {
		if i == q.limit {
			out.NextCursor = out.Orders[i-1].Cursor
			break
		}
		pos := orderPos{placed: ord.PlacedAt.UnixMilli(), id: ord.ID}
		out.Orders = append(out.Orders, ListedOrder{UCPOrder: o.cfg.orderView(ord), Cursor: pos.String()})
	}
	return out, nil
}

func (o *ops) listMyOrders(ctx context.Context, in MyOrdersInput) (OrderList, error) {
	p := mdk.PrincipalFrom(ctx)
	if !p.IsShopper() || p.CustomerID == "" {
		return OrderList{}, mdk.Errorf(mdk.CodeForbidden, "list_my_orders lists a shopper's own orders and needs a shopper API key; merchants use list_orders")
	}
	return o.list(ctx, OrderFilter{Status: in.Status, Limit: in.Limit, Cursor: in.Cursor}, p.CustomerID)
}

func (o *ops) listOrders(ctx context.Context, f OrderFilter) (OrderList, error) {
	return o.list(ctx, f, f.CustomerID)
}

// listOrders returns up to q.limit+1 placed orders matching q after its
// cursor, newest first, and how many match q over every page. The count
// and the page are two reads: an order placed between them may make the
// count one ahead of the pages.
func (s *store) listOrders(ctx context.Context, q orderQuery) ([]Order, int, error) {
	where, args := ` WHERE placed_at > 0`, []any{}
	and := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if q.customer != "" {
		and(`customer_id = $%d`, q.customer)
	}
	if q.status != "" {
		and(`status = $%d`, string(q.status))
	}
	if q.after > 0 {
		and(`placed_at >= $%d`, q.after)
	}
	if q.before > 0 {
		and(`placed_at < $%d`, q.before)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "order".orders`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count orders: %w", err)
	}
	if q.from != nil {
		args = append(args, q.from.placed, q.from.id)
		where += fmt.Sprintf(` AND (placed_at < $%d OR (placed_at = $%[1]d AND id < $%d))`, len(args)-1, len(args))
	}
	args = append(args, q.limit+1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+orderCols+` FROM "order".orders`+where+
		fmt.Sprintf(` ORDER BY placed_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list orders: %w", err)
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}
