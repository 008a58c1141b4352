package milvus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"

	"github.com/hyperrr/hyperrr/mdk"
)

// collectionShape is what New read back from the collection: writes are
// checked against the lengths Milvus will enforce, and searches use the
// parameters of the index that is really there.
type collectionShape struct {
	idMaxLength    int
	fieldMaxLength map[string]int
	indexType      IndexType
}

// setup creates the collection and its index when missing, checks an
// existing one against the configuration, and loads it for search.
func (x *Index) setup(ctx context.Context) error {
	name := x.cfg.Collection
	has, err := x.client.HasCollection(ctx, milvusclient.NewHasCollectionOption(name))
	if err != nil {
		return x.wrap(ctx, "look up milvus collection "+name, err)
	}
	if !has {
		// Strong consistency: a search right after an upsert sees it, as
		// the in-process index does.
		opt := milvusclient.NewCreateCollectionOption(name, x.newSchema()).WithConsistencyLevel(entity.ClStrong)
		if err := x.client.CreateCollection(ctx, opt); err != nil {
			return x.wrap(ctx, "create milvus collection "+name, err)
		}
	}
	coll, err := x.client.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(name))
	if err != nil {
		return x.wrap(ctx, "describe milvus collection "+name, err)
	}
	shape, err := x.checkSchema(coll.Schema)
	if err != nil {
		return fmt.Errorf("check milvus collection %s: %w", name, err)
	}
	if shape.indexType, err = x.ensureIndex(ctx); err != nil {
		return err
	}
	x.schema = shape
	return x.ensureLoaded(ctx)
}

// newSchema is the collection Hyperrr creates: the ID, the vector and one
// nullable VARCHAR per filter field. No dynamic field: every stored attribute is
// declared, so a typo in a filter is an error rather than an empty result.
func (x *Index) newSchema() *entity.Schema {
	schema := entity.NewSchema().
		WithName(x.cfg.Collection).
		WithDescription("Hyperrr vector index").
		WithField(entity.NewField().WithName(idField).WithDataType(entity.FieldTypeVarChar).
			WithIsPrimaryKey(true).WithMaxLength(idMaxLength)).
		WithField(entity.NewField().WithName(vectorField).WithDataType(entity.FieldTypeFloatVector).
			WithDim(int64(x.cfg.Dimensions)))
	for _, name := range x.cfg.FilterFields {
		schema.WithField(entity.NewField().WithName(name).WithDataType(entity.FieldTypeVarChar).
			WithMaxLength(fieldMaxLength).WithNullable(true))
	}
	return schema
}

// checkSchema compares an existing collection with the configuration and
// names every difference.
func (x *Index) checkSchema(schema *entity.Schema) (collectionShape, error) {
	shape := collectionShape{fieldMaxLength: map[string]int{}}
	var errs []error
	fields := map[string]*entity.Field{}
	for _, f := range schema.Fields {
		if !f.IsDynamic {
			fields[f.Name] = f
		}
	}

	id := fields[idField]
	if id == nil || !id.PrimaryKey || id.DataType != entity.FieldTypeVarChar || id.AutoID {
		errs = append(errs, mdk.Invalid("collection", "milvus collection %q was not made by Hyperrr: its primary key must be the VARCHAR field %q without auto ID; choose another collection name", x.cfg.Collection, idField))
	} else {
		shape.idMaxLength = maxLength(id)
	}

	vec := fields[vectorField]
	if vec == nil || vec.DataType != entity.FieldTypeFloatVector {
		errs = append(errs, mdk.Invalid("collection", "milvus collection %q was not made by Hyperrr: it has no FLOAT_VECTOR field %q; choose another collection name", x.cfg.Collection, vectorField))
	} else if dim, err := vec.GetDim(); err != nil || int(dim) != x.cfg.Dimensions {
		errs = append(errs, mdk.Invalid("dimensions", "milvus collection %q stores %s-dimensional vectors but the index is configured for %d; use a new collection name for the new embedding model, or drop the old collection", x.cfg.Collection, vec.TypeParams[entity.TypeParamDim], x.cfg.Dimensions))
	}

	var missing, extra []string
	for _, name := range x.cfg.FilterFields {
		f := fields[name]
		if f == nil || f.DataType != entity.FieldTypeVarChar || !f.Nullable {
			missing = append(missing, name)
			continue
		}
		shape.fieldMaxLength[name] = maxLength(f)
	}
	for name := range fields {
		if name != idField && name != vectorField && !slices.Contains(x.cfg.FilterFields, name) {
			extra = append(extra, name)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		slices.Sort(extra)
		errs = append(errs, mdk.Invalid("filter_fields", "milvus collection %q does not match the configured filter fields %v: missing nullable VARCHAR fields %v, fields not configured %v; configure the same fields or use a new collection name", x.cfg.Collection, x.cfg.FilterFields, missing, extra))
	}
	return shape, errors.Join(errs...)
}

// maxLength is a VARCHAR field's declared maximum length in bytes.
func maxLength(f *entity.Field) int {
	n, err := strconv.Atoi(f.TypeParams[entity.TypeParamMaxLength])
	if err != nil {
		// Milvus refuses VARCHAR fields without a maximum length, so this is
		// a collection it did not create; let Milvus judge the writes.
		return 0
	}
	return n
}

// ensureIndex creates the vector index when missing, or checks that the
// existing one uses the configured metric, and returns its type.
func (x *Index) ensureIndex(ctx context.Context) (IndexType, error) {
	name := x.cfg.Collection
	names, err := x.client.ListIndexes(ctx, milvusclient.NewListIndexOption(name).WithFieldName(vectorField))
	if err != nil && !errors.Is(err, merr.ErrIndexNotFound) {
		return "", x.wrap(ctx, "list indexes of milvus collection "+name, err)
	}
	if len(names) == 0 {
		task, err := x.client.CreateIndex(ctx, milvusclient.NewCreateIndexOption(name, vectorField, x.indexDef()).WithIndexName(vectorField))
		if err != nil {
			return "", x.wrap(ctx, "create vector index on milvus collection "+name, err)
		}
		if err := task.Await(ctx); err != nil {
			return "", x.wrap(ctx, "build vector index on milvus collection "+name, err)
		}
		return x.cfg.IndexType, nil
	}
	desc, err := x.client.DescribeIndex(ctx, milvusclient.NewDescribeIndexOption(name, names[0]))
	if err != nil {
		return "", x.wrap(ctx, "describe vector index of milvus collection "+name, err)
	}
	params := desc.Params()
	if metric := params[index.MetricTypeKey]; metric != string(x.cfg.Metric) {
		return "", mdk.Invalid("metric", "milvus collection %q is indexed with metric %q but the index is configured for %q; configure %q or use a new collection name", name, metric, x.cfg.Metric, metric)
	}
	return IndexType(params[index.IndexTypeKey]), nil
}

// indexDef is the configured vector index.
func (x *Index) indexDef() index.Index {
	metric := entity.MetricType(x.cfg.Metric)
	switch x.cfg.IndexType {
	case Flat:
		return index.NewFlatIndex(metric)
	case AutoIndex:
		return index.NewAutoIndex(metric)
	default:
		return index.NewHNSWIndex(metric, x.cfg.M, x.cfg.EfConstruction)
	}
}

// ensureLoaded loads the collection into memory unless it already is;
// Milvus searches only loaded collections.
func (x *Index) ensureLoaded(ctx context.Context) error {
	name := x.cfg.Collection
	state, err := x.client.GetLoadState(ctx, milvusclient.NewGetLoadStateOption(name))
	if err != nil {
		return x.wrap(ctx, "get load state of milvus collection "+name, err)
	}
	if state.State == entity.LoadStateLoaded {
		return nil
	}
	task, err := x.client.LoadCollection(ctx, milvusclient.NewLoadCollectionOption(name))
	if err != nil {
		return x.wrap(ctx, "load milvus collection "+name, err)
	}
	if err := task.Await(ctx); err != nil {
		return x.wrap(ctx, "wait for milvus collection "+name+" to load", err)
	}
	return nil
}

// wrap is wrapErr with this index's address.
func (x *Index) wrap(ctx context.Context, action string, err error) error {
	return wrapErr(ctx, x.cfg.Address, action, err)
}
