package product

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// getProduct answers get_product: the product with the featured variant
// first, then the other variants that match the (possibly relaxed)
// selection, and option values annotated relative to the featured
// variant's values.
func (m *Module) getProduct(ctx context.Context, in GetProductInput) (GetProductOutput, error) {
	id := strings.TrimSpace(in.ID)
	p, viaVariant, err := m.resolveProduct(ctx, id)
	if err != nil {
		return GetProductOutput{}, err
	}
	if p.ID == "" || !visible(ctx, p) {
		return GetProductOutput{}, &mdk.Error{Code: mdk.CodeNotFound, Field: "id", Message: fmt.Sprintf("no product for sale has the ID, handle or SKU %q; find products with search_catalog", id)}
	}
	keep, msgs := in.variantFilter(m.currency)
	candidates := make([]Variant, 0, len(p.Variants))
	for _, v := range p.Variants {
		if keep == nil || keep(p, v) {
			candidates = append(candidates, v)
		}
	}
	if len(candidates) == 0 {
		return GetProductOutput{}, &mdk.Error{Code: mdk.CodeNotFound, Field: "filters", Message: fmt.Sprintf("no variant of %s matches the filters; widen them", p.Title)}
	}
	sel, err := checkSelection(p.Options, in.Selected)
	if err != nil {
		return GetProductOutput{}, err
	}
	if len(sel) == 0 && viaVariant != nil {
		sel = selectedOptions(p.Options, viaVariant.Options)
	}
	kept, dropped := relax(candidates, sel, in.Preferences)
	var matching []Variant
	for _, v := range candidates {
		if matches(v, kept) {
			matching = append(matching, v)
		}
	}
	featID := featured(p, func(v Variant) bool {
		return matches(v, kept) && slices.ContainsFunc(candidates, func(c Variant) bool { return c.ID == v.ID })
	})
	if viaVariant != nil && len(in.Selected) == 0 && slices.ContainsFunc(matching, func(v Variant) bool { return v.ID == viaVariant.ID }) {
		featID = viaVariant.ID // the variant asked for is the one to show first
	}
	shown := make([]Variant, 0, len(matching))
	for _, v := range matching {
		if v.ID == featID {
			shown = append([]Variant{v}, shown...)
		} else {
			shown = append(shown, v)
		}
	}
	out := toUCPProduct(p, shown)
	if len(p.Options) > 0 {
		out.Selected = selectedOptions(p.Options, shown[0].Options)
		annotateOptions(p, candidates, shown[0].Options, out.Options)
	}
	if len(dropped) > 0 {
		names := make([]string, len(dropped))
		for i, d := range dropped {
			names[i] = d.Name + ": " + d.Label
		}
		msgs = append(msgs, UCPMessage{Type: "info", Code: "selection_relaxed",
			Content: fmt.Sprintf("no variant matches every selection; dropped %s and featured %s", strings.Join(names, ", "), shown[0].Title)})
	}
	return GetProductOutput{Product: out, Messages: msgs}, nil
}

// resolveProduct finds the product id names: a product ID or handle, or a
// variant ID or SKU (then the variant is returned too). A zero Product
// means nothing matched.
func (m *Module) resolveProduct(ctx context.Context, id string) (Product, *Variant, error) {
	s := m.store
	p, err := s.getProduct(ctx, s.db, id)
	if err == nil {
		return p, nil, nil
	}
	if !notFound(err) {
		return Product{}, nil, err
	}
	vs, err := s.getVariants(ctx, s.db, []string{id})
	if err != nil {
		return Product{}, nil, err
	}
	if len(vs) == 0 {
		if vs, err = s.variantsBySKU(ctx, s.db, []string{id}); err != nil {
			return Product{}, nil, err
		}
	}
	if len(vs) == 0 {
		return Product{}, nil, nil
	}
	ps, err := s.getProducts(ctx, s.db, []string{vs[0].ProductID})
	if err != nil || len(ps) == 0 {
		return Product{}, nil, err
	}
	return ps[0], &vs[0], nil
}

// checkSelection checks that each selected option and value exists on the
// product and returns the selection in the product's option order.
func checkSelection(opts []Option, selected []UCPSelectedOption) ([]UCPSelectedOption, error) {
	chosen := map[string]string{}
	for i, s := range selected {
		j := slices.IndexFunc(opts, func(o Option) bool { return o.Name == s.Name })
		if j < 0 {
			return nil, mdk.Invalid(fmt.Sprintf("selected[%d].name", i), "the product has no option %q; its options are %s", s.Name, optionNames(opts))
		}
		if !slices.Contains(opts[j].Values, s.Label) {
			return nil, mdk.Invalid(fmt.Sprintf("selected[%d].label", i), "%q is not a value of %s; choose one of %s", s.Label, s.Name, strings.Join(opts[j].Values, ", "))
		}
		chosen[s.Name] = s.Label
	}
	return selectedOptions(opts, chosen), nil
}

// matches reports whether v has every selected value.
func matches(v Variant, sel []UCPSelectedOption) bool {
	for _, s := range sel {
		if v.Options[s.Name] != s.Label {
			return false
		}
	}
	return true
}

// relax drops selections until some variant matches the rest: first the
// options not named in prefs (last selected first), then those in prefs
// from the end of the list, as UCP's get_product preferences describe.
func relax(vs []Variant, sel []UCPSelectedOption, prefs []string) (kept, dropped []UCPSelectedOption) {
	kept = slices.Clone(sel)
	var order []string
	for i := len(sel) - 1; i >= 0; i-- {
		if !slices.Contains(prefs, sel[i].Name) {
			order = append(order, sel[i].Name)
		}
	}
	for i := len(prefs) - 1; i >= 0; i-- {
		order = append(order, prefs[i])
	}
	for _, name := range order {
		if slices.ContainsFunc(vs, func(v Variant) bool { return matches(v, kept) }) {
			return kept, dropped
		}
		if i := slices.IndexFunc(kept, func(s UCPSelectedOption) bool { return s.Name == name }); i >= 0 {
			dropped = append(dropped, kept[i])
			kept = slices.Delete(kept, i, i+1)
		}
	}
	return kept, dropped
}

// annotateOptions sets exists and available on every option value: for
// option o and value x, whether a variant among vs has x for o and the
// effective values for every other option, and whether one such can be
// bought now.
func annotateOptions(p Product, vs []Variant, effective map[string]string, opts []UCPProductOption) {
	for i := range opts {
		name := opts[i].Name
		for j := range opts[i].Values {
			label := opts[i].Values[j].Label
			exists, available := false, false
			for _, v := range vs {
				if v.Options[name] != label || !sameExcept(v.Options, effective, name) {
					continue
				}
				exists = true
				available = available || sellable(p, v)
			}
			opts[i].Values[j].Exists, opts[i].Values[j].Available = &exists, &available
		}
	}
}

// sameExcept reports whether a and b agree on every key of b but skip.
func sameExcept(a, b map[string]string, skip string) bool {
	for k, v := range b {
		if k != skip && a[k] != v {
			return false
		}
	}
	return true
}
