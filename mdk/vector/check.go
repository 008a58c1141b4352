package vector

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/hyperrr/hyperrr/mdk"
)

// ErrClosed is returned by an index used after Close: the server is
// shutting down, so the caller may retry on another instance.
var ErrClosed = &mdk.Error{Code: mdk.CodeUnavailable, Message: "the vector index is closed; the server is shutting down", Retryable: true}

// Match reports whether fields pass f: for every field f lists, fields has
// that field with one of the listed values. A nil or empty f passes all.
func (f Filter) Match(fields map[string]string) bool {
	for name, values := range f {
		v, ok := fields[name]
		if !ok || !slices.Contains(values, v) {
			return false
		}
	}
	return true
}

// CheckItems validates items for an index of dims dimensions: every ID
// non-empty, every vector of dims finite values with a direction (not all
// zeros). Every index checks the whole batch before storing any of it, so
// a bad item leaves the index unchanged. The errors are invalid *mdk.Error
// values on "items[i].id" / "items[i].vector", joined.
func CheckItems(dims int, items []Item) error {
	var errs []error
	for i, it := range items {
		if it.ID == "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("items[%d].id", i), "give every vector an ID"))
		}
		if err := checkVector(dims, it.Vector); err != "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("items[%d].vector", i), "%s", err))
		}
	}
	return errors.Join(errs...)
}

// CheckQuery validates a search: a query vector like CheckItems wants, and
// k ≥ 1.
func CheckQuery(dims int, query []float32, k int) error {
	var errs []error
	if err := checkVector(dims, query); err != "" {
		errs = append(errs, mdk.Invalid("query", "%s", err))
	}
	if k < 1 {
		errs = append(errs, mdk.Invalid("k", "ask for at least one result (k is %d)", k))
	}
	return errors.Join(errs...)
}

// checkVector returns what is wrong with v, or "".
func checkVector(dims int, v []float32) string {
	if len(v) != dims {
		return fmt.Sprintf("the vector has %d dimensions but the index holds %d-dimensional vectors: embed with the model the index was built for, or rebuild the index", len(v), dims)
	}
	var sum float64
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return "the vector holds NaN or infinite values"
		}
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return "the vector is all zeros, so it has no direction to compare"
	}
	return ""
}
