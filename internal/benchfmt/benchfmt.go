// Package benchfmt is the line format of the benchmark catalogs
// (../shared/data/bench/README.md), shared by the importer that reads it
// and the relevance fixture that is written in it.
package benchfmt

import (
	"encoding/json"
	"fmt"
)

// Row is one product: a JSON object per line.
type Row struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Slug         string `json:"slug"`
	Description  string `json:"description"`
	ProductClass string `json:"productClass"`
	Category     string `json:"category"`
	// Features are name:value pairs separated by |.
	Features string `json:"features"`
	SKU      string `json:"sku"`
	// Price is dollars with two decimals, kept as written.
	Price json.Number `json:"price"`
}

// Dollars writes cents as the format's price: 63037 → 630.37.
func Dollars(cents int64) json.Number {
	return json.Number(fmt.Sprintf("%d.%02d", cents/100, cents%100))
}
