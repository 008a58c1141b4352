package natsbus

import (
	"fmt"
	"testing"
)

func TestFilterSubjects(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		want     []string
	}{
		{[]string{"product.*"}, []string{"e.product.>"}},
		{[]string{"order.placed", "order.shipped"}, []string{"e.order.placed", "e.order.shipped"}},
		{[]string{"order.*", "order.placed"}, []string{"e.order.>"}},
		{[]string{"*.*", "fan.out"}, []string{"e.>"}},
		{[]string{"pro*"}, []string{"e.>"}},
		{[]string{"product.*", "inventory.changed"}, []string{"e.inventory.changed", "e.product.>"}},
	} {
		if got := filterSubjects("e", tc.patterns); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v: got %v, want %v", tc.patterns, got, tc.want)
		}
	}
}

func TestConsumerName(t *testing.T) {
	if got := consumerName("search-index"); got != "search-index" {
		t.Errorf("clean name changed: %q", got)
	}
	a, b := consumerName("commerce.product.index"), consumerName("commerce_product_index")
	if a == b {
		t.Errorf("names differing in a forbidden character collide: %q", a)
	}
	if got := consumerName("a.b", "host 1"); len(got) < len("a_b-host_1") {
		t.Errorf("got %q", got)
	}
}
