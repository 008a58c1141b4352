package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/hyperrr/hyperrr/graph/model"
	"github.com/hyperrr/hyperrr/mdk"
)

// The schema's @op(name:) directive is the one place that says which
// operation a field calls: the directive puts the name in the context and
// Resolver.call reads it back, so a resolver cannot call an operation other
// than the one its field declares.
type opKey struct{}

type opField struct {
	name  string
	field *graphql.FieldContext
}

func opDirective(ctx context.Context, _ any, next graphql.Resolver, name string) (any, error) {
	return next(context.WithValue(ctx, opKey{}, opField{name: name, field: graphql.GetFieldContext(ctx)}))
}

// opName returns the operation of the field being resolved; a field that
// has no @op of its own (it would inherit its parent's) gets an error.
func opName(ctx context.Context) (string, error) {
	f, _ := ctx.Value(opKey{}).(opField)
	if f.name == "" || f.field != graphql.GetFieldContext(ctx) {
		fc := graphql.GetFieldContext(ctx)
		where := "?"
		if fc != nil {
			where = fc.Object + "." + fc.Field.Name
		}
		return "", mdk.Internal(fmt.Errorf("field %s calls an operation but has no @op directive", where))
	}
	return f.name, nil
}

// filler is a model that copies its currency into nested amounts after
// decoding.
type filler interface{ Fill() }

// call runs the field's operation with in encoded as its JSON input (the
// same path as MCP and HTTP: schema validation, access check, Validate)
// and decodes the output into out.
func (r *Resolver) call(ctx context.Context, in, out any) error {
	name, err := opName(ctx)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return mdk.Internal(fmt.Errorf("encode %s input: %w", name, err))
	}
	res, err := r.ops.CallJSON(ctx, name, raw)
	if err != nil {
		return err
	}
	if err := decodeOutput(res, out); err != nil {
		return mdk.Internal(fmt.Errorf("decode %s output: %w", name, err))
	}
	return nil
}

// decodeOutput moves an operation's Go output into a GraphQL model through
// its JSON form, the contract every edge shares, so graph never imports a
// module's types.
func decodeOutput(res, out any) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return err
	}
	if f, ok := out.(filler); ok {
		f.Fill()
	}
	return nil
}

// topLevel are the codes that stay in the response's top-level errors even
// for mutations: the request as a whole cannot be served, whatever its input.
var topLevel = map[mdk.Code]bool{
	mdk.CodeUnauthorized: true, mdk.CodeForbidden: true,
	mdk.CodeUnavailable: true, mdk.CodeInternal: true,
}

// userErrors is the one mapping of operation errors to a mutation payload's
// errors: each coded error becomes a UserError with its field as a GraphQL
// path; auth, availability and internal failures are returned as err to
// become top-level errors.
func userErrors(ctx context.Context, err error) ([]*model.UserError, error) {
	out := []*model.UserError{}
	if err == nil {
		return out, nil
	}
	for _, e := range mdk.AllErrors(err) {
		if topLevel[e.Code] {
			return nil, err
		}
		ue := &model.UserError{Code: string(e.Code), Message: e.Message}
		if e.Field != "" {
			op, _ := opName(ctx)
			f := fieldPath(op, e.Field)
			ue.Field = &f
		}
		out = append(out, ue)
	}
	return out, nil
}

// nullIfNotFound turns a not_found into a null field (a query for
// something that is not there is not an error), keeping other errors.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if err != nil {
		if mdk.ErrorCode(err) == mdk.CodeNotFound {
			return nil, nil
		}
		return nil, err
	}
	return v, nil
}

// fieldAliases maps operation input names to the GraphQL input names where
// they differ by more than case; opFields does the same for one
// operation's inputs.
var (
	fieldAliases = map[string]string{"lineItems": "lines", "pagination.limit": "first", "pagination.cursor": "after", "limit": "first", "cursor": "after"}
	opFields     = map[string]func(string) string{
		// add_variant's input is flat; the GraphQL input nests the variant.
		"add_variant": func(p string) string {
			if p == "productId" {
				return p
			}
			return "variant." + strings.Replace(p, "options", "selectedOptions", 1)
		},
		"update_variant": func(p string) string { return strings.Replace(p, "options", "selectedOptions", 1) },
		"create_product": variantOptions,
		"update_product": variantOptions,
	}
)

// variantOptions renames a variant's option map (variants[0].options) to
// the GraphQL input's selectedOptions; the product's own options keep
// their name.
func variantOptions(p string) string {
	if strings.HasPrefix(p, "variants[") {
		return strings.Replace(p, ".options", ".selectedOptions", 1)
	}
	return p
}

// fieldPath turns an operation's JSON field path (line_items[0].item.id)
// into the GraphQL input's (lines[0].item.id).
func fieldPath(op, p string) string {
	parts := strings.Split(p, ".")
	for i, part := range parts {
		name, index, _ := strings.Cut(part, "[")
		name = camel(name)
		if index != "" {
			name += "[" + index
		}
		parts[i] = name
	}
	out := strings.Join(parts, ".")
	if a, ok := fieldAliases[out]; ok {
		out = a
	} else if first, rest, ok := strings.Cut(out, "["); ok {
		if a, ok := fieldAliases[first]; ok {
			out = a + "[" + rest
		}
	}
	if f, ok := opFields[op]; ok {
		out = f(out)
	}
	return out
}

func camel(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// presentError is the one mapping of errors to top-level GraphQL errors:
// the message a caller can act on and extensions.code (and field), never
// an internal cause.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	var e *mdk.Error
	if !errors.As(err, &e) {
		// gqlgen's own errors (parse, validation, limits) say what is
		// wrong already; anything else unexpected is internal.
		var ge *gqlerror.Error
		if errors.As(err, &ge) && (ge.Unwrap() == nil || ge.Extensions["code"] != nil) {
			return graphql.DefaultErrorPresenter(ctx, err)
		}
		e = mdk.Internal(err)
	}
	ge := graphql.DefaultErrorPresenter(ctx, err)
	ge.Message = e.Message
	ge.Extensions = map[string]any{"code": string(e.Code)}
	if e.Field != "" {
		op, _ := opName(ctx)
		ge.Extensions["field"] = fieldPath(op, e.Field)
	}
	if e.Retryable {
		ge.Extensions["retryable"] = true
	}
	return ge
}
