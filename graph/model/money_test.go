package model_test

import (
	"testing"

	"github.com/hyperrr/hyperrr/graph/model"
)

func TestMoneyFormatted(t *testing.T) {
	for _, c := range []struct {
		m    model.Money
		want string
	}{
		{model.Money{Amount: 2500, CurrencyCode: "USD"}, "$25.00"},
		{model.Money{Amount: 5, CurrencyCode: "USD"}, "$0.05"},
		{model.Money{Amount: -250, CurrencyCode: "EUR"}, "-€2.50"},
		{model.Money{Amount: 500, CurrencyCode: "JPY"}, "¥500"},
		{model.Money{Amount: 150, CurrencyCode: "CHF"}, "1.50 CHF"},
		{model.Money{Amount: 1234, CurrencyCode: "KWD"}, "1.234 KWD"},
	} {
		if got := c.m.Formatted(); got != c.want {
			t.Errorf("%+v.Formatted() = %q, want %q", c.m, got, c.want)
		}
	}
}
