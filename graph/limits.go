package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hyperrr/hyperrr/graph/generated"
	"github.com/hyperrr/hyperrr/graph/model"
)

// Guesses of list sizes for the cost of a query: a field under a list
// costs once per element.
const (
	defaultPage   = 10 // search_catalog's default page
	defaultOrders = 50 // the merchant lists' default page
	// defaultOrderPage is list_orders' and list_my_orders' default page.
	defaultOrderPage = 20
	variantsGuess    = 10 // variants of a product
	lineItemsGuess   = 10 // lines of a cart, checkout or order
	costOfListField  = 1
)

func pageCost(first *int, def int) int {
	if first != nil && *first > 0 {
		return *first
	}
	return def
}

// complexity makes list fields cost their (expected) length times their
// selection, so a limit bounds the work a query can ask for.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Products = func(child int, _ *string, _ *model.ProductFilter, _ *model.ProductSort, first *int, _ *string) int {
		return costOfListField + pageCost(first, defaultPage)*child
	}
	c.Query.Variants = func(child int, ids []string) int { return costOfListField + len(ids)*child }
	c.Query.MyOrders = func(child int, first *int, _ *string, _ *model.OrderStatus) int {
		return costOfListField + pageCost(first, defaultOrderPage)*child
	}
	c.Query.Orders = func(child int, _ *model.OrderStatus, first *int, _, _, _, _ *string) int {
		return costOfListField + pageCost(first, defaultOrderPage)*child
	}
	c.Query.LowStock = func(child int, _ *int, first *int, _ *string) int {
		return costOfListField + pageCost(first, defaultOrders)*child
	}
	c.Query.DeadLetters = func(child int, _ *string, first *int, _ *string) int {
		return costOfListField + pageCost(first, defaultOrders)*child
	}
	c.Query.AdminProducts = func(child int, _ *model.ProductStatus, first *int, _ *string) int {
		return costOfListField + pageCost(first, defaultOrders)*child
	}
	variants := func(child int) int { return costOfListField + variantsGuess*child }
	lines := func(child int) int { return costOfListField + lineItemsGuess*child }
	c.Product.Variants, c.AdminProduct.Variants = variants, variants
	c.Cart.Lines, c.Checkout.Lines, c.Order.Lines = lines, lines, lines
	return c
}

// limits rejects, before anything runs, queries nested deeper than
// maxDepth and input lists (literal or in variables) longer than maxList.
type limits struct {
	maxDepth int
	maxList  int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = limits{}

func (limits) ExtensionName() string                   { return "HyperrrLimits" }
func (limits) Validate(graphql.ExecutableSchema) error { return nil }

func (l limits) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if d := depth(op.Operation.SelectionSet, op.Doc.Fragments, 0, map[string]bool{}); d > l.maxDepth {
		return limitError("DEPTH_LIMIT_EXCEEDED", "query depth %d exceeds the depth limit of %d; ask for less nested data", d, l.maxDepth)
	}
	if n := longestList(op.Variables); n > l.maxList {
		return limitError("INPUT_LIMIT_EXCEEDED", "an input list has %d items, over the input list limit of %d; split the request", n, l.maxList)
	}
	if n := longestLiteral(op.Operation.SelectionSet, op.Doc.Fragments, map[string]bool{}); n > l.maxList {
		return limitError("INPUT_LIMIT_EXCEEDED", "an input list has %d items, over the input list limit of %d; split the request", n, l.maxList)
	}
	return nil
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// depth is the deepest field nesting of set (fragments count as inline).
func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, d int, seen map[string]bool) int {
	deepest := d
	for _, s := range set {
		var sub int
		switch s := s.(type) {
		case *ast.Field:
			sub = depth(s.SelectionSet, frags, d+1, seen)
		case *ast.InlineFragment:
			sub = depth(s.SelectionSet, frags, d, seen)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				sub = depth(f.SelectionSet, frags, d, seen)
				delete(seen, s.Name)
			}
		}
		deepest = max(deepest, sub)
	}
	return deepest
}

// longestList is the length of the longest list anywhere in v.
func longestList(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		n = len(v)
		for _, e := range v {
			n = max(n, longestList(e))
		}
	case map[string]any:
		for _, e := range v {
			n = max(n, longestList(e))
		}
	}
	return n
}

// longestLiteral is the longest list literal in the arguments of set.
func longestLiteral(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen map[string]bool) int {
	n := 0
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.ListValue {
			n = max(n, len(v.Children))
		}
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				value(a.Value)
			}
			n = max(n, longestLiteral(s.SelectionSet, frags, seen))
		case *ast.InlineFragment:
			n = max(n, longestLiteral(s.SelectionSet, frags, seen))
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				n = max(n, longestLiteral(f.SelectionSet, frags, seen))
			}
		}
	}
	return n
}
