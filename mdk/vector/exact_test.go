package vector_test

import (
	"testing"

	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/vectortest"
)

func TestExact(t *testing.T) {
	vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
		x, err := vector.NewExact(dims)
		if err != nil {
			t.Fatal(err)
		}
		return x
	})
}
