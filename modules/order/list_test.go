package order_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/order"
)

// listBase is when the seeded orders were placed, in unix ms.
var listBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli()

// seedOrder stores a placed order directly, so a test controls placed_at
// (ties included) without running 45 checkouts.
func (e *env) seedOrder(t testing.TB, id, customer string, status order.OrderStatus, placed int64) {
	t.Helper()
	_, err := e.g.DB().ExecContext(context.Background(), `INSERT INTO "order".orders
		(id, checkout_id, owner_kind, customer_id, status, currency, lines, totals, total, placed_at, created_at, updated_at)
		VALUES ($1, $2, 'customer', $3, $4, 'USD', '[]', '[]', 0, $5, $5, $5)`,
		id, "chk_"+id, customer, string(status), placed)
	if err != nil {
		t.Fatal(err)
	}
}

// seedOrders stores 45 placed orders of cust_a, three per millisecond so
// the ID breaks ties, every third fulfilled; 5 of cust_b; and 2 of cust_a
// never placed. It returns cust_a's placed IDs in list order.
func (e *env) seedOrders(t testing.TB) []string {
	t.Helper()
	type seeded struct {
		id     string
		placed int64
	}
	var all []seeded
	for i := range 45 {
		// IDs don't follow placed_at, so a sort by ID alone would fail.
		o := seeded{fmt.Sprintf("ord_%c%02d", 'a'+rune(i%3), 44-i), listBase + int64(i/3)*1000}
		status := order.OrderConfirmed
		if i%3 == 0 {
			status = order.OrderFulfilled
		}
		e.seedOrder(t, o.id, "cust_a", status, o.placed)
		all = append(all, o)
	}
	for i := range 5 {
		e.seedOrder(t, fmt.Sprintf("ord_x%02d", i), "cust_b", order.OrderConfirmed, listBase+int64(i)*1500)
	}
	e.seedOrder(t, "ord_pending", "cust_a", order.OrderPending, 0)
	e.seedOrder(t, "ord_failed", "cust_a", order.OrderCanceled, 0)
	slices.SortFunc(all, func(a, b seeded) int {
		if a.placed != b.placed {
			return int(b.placed - a.placed)
		}
		return strings.Compare(b.id, a.id)
	})
	want := make([]string, len(all))
	for i, o := range all {
		want[i] = o.id
	}
	return want
}

func ids(l order.OrderList) []string {
	out := make([]string, len(l.Orders))
	for i, o := range l.Orders {
		out[i] = o.ID
	}
	return out
}

func TestListOrders(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		want := e.seedOrders(t)
		t.Run("OKPagesEachOnce", func(t *testing.T) {
			var got []string
			cursor, pages := "", 0
			for {
				l := must[order.OrderList](t, e.shopperA, e, "list_my_orders", order.MyOrdersInput{Limit: 20, Cursor: cursor})
				if l.TotalCount != 45+pages {
					t.Fatalf("page %d: total_count %d, want %d", pages, l.TotalCount, 45+pages)
				}
				got = append(got, ids(l)...)
				pages++
				if l.NextCursor == "" {
					break
				}
				if len(l.Orders) != 20 || l.Orders[19].Cursor != l.NextCursor {
					t.Fatalf("page %d: %d orders, next_cursor %q, last cursor %q", pages, len(l.Orders), l.NextCursor, l.Orders[len(l.Orders)-1].Cursor)
				}
				// An order placed between pages is newer than every
				// cursor: it must not shift the pages still to come.
				e.seedOrder(t, fmt.Sprintf("ord_new%d", pages), "cust_a", order.OrderConfirmed, listBase+int64(100+pages)*1000)
				cursor = l.NextCursor
			}
			if pages != 3 || !slices.Equal(got, want) {
				t.Fatalf("%d pages, got\n%v\nwant\n%v", pages, got, want)
			}
			first := must[order.OrderList](t, e.shopperA, e, "list_my_orders", order.MyOrdersInput{Limit: 3})
			if g := ids(first); !slices.Equal(g, []string{"ord_new2", "ord_new1", want[0]}) {
				t.Fatalf("first page after inserts %v", g)
			}
		})
		t.Run("OKItemCursor", func(t *testing.T) {
			l := must[order.OrderList](t, e.shopperA, e, "list_my_orders", order.MyOrdersInput{})
			if len(l.Orders) != 20 || l.NextCursor == "" {
				t.Fatalf("default page: %d orders, next %q", len(l.Orders), l.NextCursor)
			}
			// Resume after the 8th order, which shares its placed_at with the 7th.
			after := must[order.OrderList](t, e.shopperA, e, "list_my_orders", order.MyOrdersInput{Limit: 4, Cursor: l.Orders[7].Cursor})
			if g := ids(after); !slices.Equal(g, ids(l)[8:12]) {
				t.Fatalf("after the 8th: %v, want %v", g, ids(l)[8:12])
			}
		})
		t.Run("OKMerchantFilters", func(t *testing.T) {
			for name, tc := range map[string]struct {
				f    order.OrderFilter
				want int
			}{
				"All":          {order.OrderFilter{}, 45 + 2 + 5},
				"Status":       {order.OrderFilter{Status: order.OrderFulfilled}, 15},
				"Customer":     {order.OrderFilter{CustomerID: "cust_b"}, 5},
				"CustomerNone": {order.OrderFilter{CustomerID: "cust_z"}, 0},
				// [base+2s, base+5s): cust_a's i/3 in 2..4 (9) and
				// cust_b's 3000 and 4500 (2).
				"Range": {order.OrderFilter{PlacedAfter: rfc(listBase + 2000), PlacedBefore: rfc(listBase + 5000)}, 11},
				"RangeStatusCustomer": {order.OrderFilter{CustomerID: "cust_a", Status: order.OrderFulfilled,
					PlacedAfter: rfc(listBase + 2000), PlacedBefore: rfc(listBase + 5000)}, 3},
			} {
				t.Run(name, func(t *testing.T) {
					f := tc.f
					f.Limit = 2
					var seen []string
					for {
						l := must[order.OrderList](t, e.merchant, e, "list_orders", f)
						if l.TotalCount != tc.want {
							t.Fatalf("total_count %d, want %d", l.TotalCount, tc.want)
						}
						for _, o := range l.Orders {
							if slices.Contains(seen, o.ID) {
								t.Fatalf("%s listed twice", o.ID)
							}
							if f.Status != "" && o.Status != f.Status {
								t.Fatalf("%s is %s", o.ID, o.Status)
							}
						}
						seen = append(seen, ids(l)...)
						if f.Cursor = l.NextCursor; f.Cursor == "" {
							break
						}
					}
					if len(seen) != tc.want {
						t.Fatalf("paged through %d orders, want %d", len(seen), tc.want)
					}
				})
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
			for _, c := range []string{"nope!", b64("x/ord_1"), b64("123/cart_1"), b64("0/ord_1"), b64("123")} {
				_, err := call[order.MyOrdersInput, order.OrderList](e.shopperA, e, "list_my_orders", order.MyOrdersInput{Cursor: c})
				wantErr(t, err, mdk.CodeInvalid, "cursor")
				_, err = call[order.OrderFilter, order.OrderList](e.merchant, e, "list_orders", order.OrderFilter{Cursor: c})
				wantErr(t, err, mdk.CodeInvalid, "cursor")
			}
			_, err := call[order.OrderFilter, order.OrderList](e.merchant, e, "list_orders", order.OrderFilter{Limit: 101})
			wantErr(t, err, mdk.CodeInvalid, "limit")
			_, err = call[order.OrderFilter, order.OrderList](e.merchant, e, "list_orders", order.OrderFilter{PlacedAfter: "yesterday"})
			wantErr(t, err, mdk.CodeInvalid, "placed_after")
			_, err = call[order.OrderFilter, order.OrderList](e.merchant, e, "list_orders", order.OrderFilter{PlacedAfter: rfc(listBase), PlacedBefore: rfc(listBase)})
			wantErr(t, err, mdk.CodeInvalid, "placed_before")
		})
	})
}

func rfc(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }
