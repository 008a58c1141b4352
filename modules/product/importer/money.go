package importer

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"

	"github.com/hyperrr/hyperrr/mdk"
)

// benchCurrency is the currency of the benchmark catalog's prices.
const benchCurrency = "USD"

// money converts the prices a file states into minor units of the store
// currency.
type money struct {
	code  string // ISO 4217, upper case
	scale int    // digits after the decimal point (2 for USD, 0 for JPY)
}

func newMoney(code string) (money, error) {
	unit, err := currency.ParseISO(strings.TrimSpace(code))
	if err != nil {
		return money{}, mdk.Invalid("currency", "store currency %q is not an ISO 4217 code such as USD", code)
	}
	scale, _ := currency.Standard.Rounding(unit)
	return money{code: unit.String(), scale: scale}, nil
}

// maxDigits keeps every amount far from int64 overflow.
const maxDigits = 15

// parse reads a price as a file may write it: digits alone are minor units
// ("1999" is $19.99 in a USD store); a decimal with its currency code, in
// either order ("19.99 USD", "USD 19.99", "20 USD"), is major units of that
// currency, which must be the store's. A decimal without a currency is
// refused rather than guessed, since "20" and "20.00" would otherwise mean
// different amounts.
func (m money) parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("is empty; give minor units (1999) or a decimal with the currency (19.99 %s)", m.code)
	}
	if isInteger(s) {
		return parseInt(s)
	}
	amount, code, ok := splitCurrency(s)
	if !ok {
		if isDecimal(s) {
			return 0, fmt.Errorf("%q is a decimal without a currency: write %s %s, or minor units without a decimal point", s, s, m.code)
		}
		return 0, fmt.Errorf("%q is not a price: give minor units (1999) or a decimal with the currency (19.99 %s)", s, m.code)
	}
	if !strings.EqualFold(code, m.code) {
		return 0, fmt.Errorf("%q is in %s but the store sells in %s; convert it first", s, strings.ToUpper(code), m.code)
	}
	return m.major(amount)
}

// major converts a decimal amount of the store currency ("19.9") to minor
// units (1990).
func (m money) major(s string) (int64, error) {
	if !isDecimal(s) {
		return 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > m.scale {
		if m.scale == 0 {
			return 0, fmt.Errorf("%q: %s has no minor units; give a whole amount", s, m.code)
		}
		return 0, fmt.Errorf("%q: %s has %d decimals", s, m.code, m.scale)
	}
	digits := whole + frac + strings.Repeat("0", m.scale-len(frac))
	return parseInt(digits)
}

func parseInt(s string) (int64, error) {
	if len(strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")) > maxDigits {
		return 0, fmt.Errorf("%q is too large", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

// splitCurrency splits "19.99 USD" or "USD 19.99" into amount and code.
func splitCurrency(s string) (amount, code string, ok bool) {
	fields := strings.Fields(s)
	if len(fields) == 1 && len(s) > 3 {
		// "19.99USD" / "USD19.99"
		switch {
		case isAlpha(s[len(s)-3:]):
			fields = []string{s[:len(s)-3], s[len(s)-3:]}
		case isAlpha(s[:3]):
			fields = []string{s[:3], s[3:]}
		}
	}
	if len(fields) != 2 {
		return "", "", false
	}
	switch {
	case isAlpha(fields[1]) && len(fields[1]) == 3 && isDecimal(fields[0]):
		return fields[0], fields[1], true
	case isAlpha(fields[0]) && len(fields[0]) == 3 && isDecimal(fields[1]):
		return fields[1], fields[0], true
	}
	return "", "", false
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// isDecimal accepts "19", "19.9", "-0.50"; not "1e3", ".5" or "19.".
func isDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return isInteger(whole) && (!dot || (frac != "" && strings.Trim(frac, "0123456789") == ""))
}

func isAlpha(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return s != ""
}
