package product_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/product"
)

// BenchmarkReserveCommit measures one checkout's stock work: reserve one
// unit, then commit it, each its own transaction with its event.
func BenchmarkReserveCommit(b *testing.B) {
	for _, e := range dbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			env := openCatalog(b, e, nil)
			v := env.create(b, scarf("BENCH-1", int64(b.N)+1)).Variants[0]
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				res, err := reserveOne(ctx, env, v.ID, 1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := env.m.Commit(ctx, product.SettleInput{ReservationIDs: res.IDs()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookupCatalog measures lookup_catalog of 20 identifiers (10
// product IDs, 10 SKUs) over a catalog of 200 products.
func BenchmarkLookupCatalog(b *testing.B) {
	for _, e := range dbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			env := openCatalog(b, e, nil)
			var ids []string
			for i := range 200 {
				in := table()
				in.Title = fmt.Sprintf("Table %d", i)
				for j := range in.Variants {
					in.Variants[j].SKU = fmt.Sprintf("T%d-%d", i, j)
				}
				p := env.create(b, in)
				if i%20 == 0 {
					ids = append(ids, p.ID, p.Variants[2].SKU)
				}
			}
			b.ResetTimer()
			for range b.N {
				out, err := call[product.LookupInput, product.LookupOutput](env.anonym, env, "lookup_catalog", product.LookupInput{IDs: ids})
				if err != nil || len(out.Products) != 10 {
					b.Fatalf("%d products, err=%v", len(out.Products), err)
				}
			}
		})
	}
}
