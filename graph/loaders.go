package graph

import (
	"context"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/hyperrr/hyperrr/graph/model"
)

// maxLookup is lookup_catalog's batch limit; larger batches are split.
const maxLookup = 50

// loaders batch the per-row lookups of one request: every CartLine.variant
// and Query.variants of a response becomes one lookup_catalog call per 50
// identifiers instead of one per line.
type loaders struct {
	variant *dataloader.Loader[string, *model.Variant]
}

type loadersKey struct{}

func (r *Resolver) newLoaders() *loaders {
	return &loaders{variant: dataloader.NewBatchedLoader(r.lookupVariants,
		dataloader.WithBatchCapacity[string, *model.Variant](maxLookup),
		dataloader.WithWait[string, *model.Variant](time.Millisecond))}
}

// loaders returns the request's loaders (a new set outside a request, as
// in a subscription's later events).
func (r *Resolver) loaders(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return r.newLoaders()
}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// variants loads variants by ID or SKU, nil where nothing matched.
func (l *loaders) variants(ctx context.Context, ids []string) ([]*model.Variant, error) {
	out, errs := l.variant.LoadMany(ctx, ids)()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lookupVariants is the batch function: one lookup_catalog call (the
// operation of the field that started the batch, by its @op) for every
// identifier, each answer matched back by the variant's inputs.
func (r *Resolver) lookupVariants(ctx context.Context, ids []string) []*dataloader.Result[*model.Variant] {
	res := make([]*dataloader.Result[*model.Variant], len(ids))
	var out lookupOut
	if err := r.call(ctx, lookupIn{IDs: ids}, &out); err != nil {
		for i := range res {
			res[i] = &dataloader.Result[*model.Variant]{Error: err}
		}
		return res
	}
	byInput := map[string]*model.Variant{}
	for pi := range out.Products {
		for vi := range out.Products[pi].Variants {
			v := &out.Products[pi].Variants[vi]
			for _, in := range v.Inputs {
				byInput[in.ID] = v
			}
		}
	}
	for i, id := range ids {
		res[i] = &dataloader.Result[*model.Variant]{Data: byInput[id]}
	}
	return res
}
