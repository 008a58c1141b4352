package milvus

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/internal/kernel"
)

// rows is a batch of items in Milvus's column layout.
type rows struct {
	ids     []string
	vectors [][]float32
	// fields holds each filter field's value per row; an item without the
	// field stores NULL, which no filter passes.
	fields map[string][]fieldValue
}

type fieldValue struct {
	value string
	ok    bool
}

// Upsert inserts or replaces items, BatchSize at a time. Every item is
// checked before anything is sent; a later batch failing leaves the earlier
// ones written, which a retry of the same call repairs. Of two items with
// one ID the last wins. Fields not in FilterFields are not stored. Errors:
// invalid (naming items[i].id, .vector or .fields.<name>), unavailable.
func (x *Index) Upsert(ctx context.Context, items ...vector.Item) error {
	if len(items) == 0 {
		return nil
	}
	if err := x.acquire(); err != nil {
		return err
	}
	defer x.mu.RUnlock()
	all, err := x.rows(items)
	if err != nil {
		return err
	}
	for start := 0; start < len(all.ids); start += x.cfg.BatchSize {
		end := min(start+x.cfg.BatchSize, len(all.ids))
		cols := []column.Column{
			column.NewColumnVarChar(idField, all.ids[start:end]),
			column.NewColumnFloatVector(vectorField, x.cfg.Dimensions, all.vectors[start:end]),
		}
		for _, name := range x.cfg.FilterFields {
			col, err := nullableColumn(name, all.fields[name][start:end])
			if err != nil {
				return fmt.Errorf("build milvus column %s: %w", name, err)
			}
			cols = append(cols, col)
		}
		if _, err := x.client.Upsert(ctx, milvusclient.NewColumnBasedInsertOption(x.cfg.Collection, cols...)); err != nil {
			return x.wrap(ctx, fmt.Sprintf("upsert %d vectors into milvus collection %s", end-start, x.cfg.Collection), err)
		}
	}
	return nil
}

// nullableColumn is a nullable VARCHAR column: the present values in row
// order, and which rows have one.
func nullableColumn(name string, values []fieldValue) (column.Column, error) {
	present := make([]string, 0, len(values))
	valid := make([]bool, len(values))
	for i, v := range values {
		if v.ok {
			present = append(present, v.value)
			valid[i] = true
		}
	}
	return column.NewNullableColumnVarChar(name, present, valid)
}

// rows validates and normalises items into columns, one row per distinct
// ID, the last item of an ID winning.
func (x *Index) rows(items []vector.Item) (rows, error) {
	errs := []error{vector.CheckItems(x.cfg.Dimensions, items)}
	for i, item := range items {
		path := fmt.Sprintf("items[%d]", i)
		errs = append(errs, checkText(path+".id", item.ID, x.schema.idMaxLength))
		for _, name := range x.cfg.FilterFields {
			errs = append(errs, checkText(path+".fields."+name, item.Fields[name], x.schema.fieldMaxLength[name]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rows{}, err
	}
	r := rows{fields: make(map[string][]fieldValue, len(x.cfg.FilterFields))}
	at := make(map[string]int, len(items))
	for i, item := range items {
		vec, ok := kernel.Normalize(item.Vector)
		if !ok {
			return rows{}, mdk.Invalid(fmt.Sprintf("items[%d].vector", i), "the vector is too large to normalise")
		}
		row, seen := at[item.ID]
		if !seen {
			row = len(r.ids)
			at[item.ID] = row
			r.ids = append(r.ids, item.ID)
			r.vectors = append(r.vectors, nil)
			for _, name := range x.cfg.FilterFields {
				r.fields[name] = append(r.fields[name], fieldValue{})
			}
		}
		r.vectors[row] = vec
		for _, name := range x.cfg.FilterFields {
			v, ok := item.Fields[name]
			r.fields[name][row] = fieldValue{value: v, ok: ok}
		}
	}
	return r, nil
}

// checkText rejects what a Milvus VARCHAR cannot hold: invalid UTF-8 and
// more bytes than the field's maximum length (0: unknown, not checked).
func checkText(path, s string, maxLen int) error {
	if !utf8.ValidString(s) {
		return mdk.Invalid(path, "must be valid UTF-8")
	}
	if maxLen > 0 && len(s) > maxLen {
		return mdk.Invalid(path, "is %d bytes long; the milvus collection stores at most %d", len(s), maxLen)
	}
	return nil
}

// Delete removes items by ID, BatchSize at a time; unknown IDs are ignored.
// Errors: unavailable.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := x.acquire(); err != nil {
		return err
	}
	defer x.mu.RUnlock()
	for start := 0; start < len(ids); start += x.cfg.BatchSize {
		end := min(start+x.cfg.BatchSize, len(ids))
		opt := milvusclient.NewDeleteOption(x.cfg.Collection).WithExpr(inExpr(idField, ids[start:end]))
		if _, err := x.client.Delete(ctx, opt); err != nil {
			return x.wrap(ctx, fmt.Sprintf("delete %d vectors from milvus collection %s", end-start, x.cfg.Collection), err)
		}
	}
	return nil
}

// Search returns up to k items passing f, nearest first, scored by cosine
// similarity. k above Milvus's limit of 16384 is lowered to it. A filter
// on a field not in FilterFields passes nothing: no stored item has it.
// Errors: invalid (a query of the wrong length, k < 1), unavailable.
func (x *Index) Search(ctx context.Context, query []float32, k int, f vector.Filter) ([]vector.Hit, error) {
	if err := x.acquire(); err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	if err := vector.CheckQuery(x.cfg.Dimensions, query, k); err != nil {
		return nil, err
	}
	q, ok := kernel.Normalize(query)
	if !ok {
		return nil, mdk.Invalid("query", "the vector is too large to normalise")
	}
	expr, none := x.filterExpr(f)
	if none {
		return nil, nil
	}
	k = min(k, maxTopK)
	opt := milvusclient.NewSearchOption(x.cfg.Collection, k, []entity.Vector{entity.FloatVector(q)}).
		WithANNSField(vectorField).
		WithFilter(expr).
		WithConsistencyLevel(entity.ClStrong).
		WithSearchParam("metric_type", string(x.cfg.Metric))
	if x.schema.indexType == HNSW {
		// HNSW cannot return more than ef candidates.
		opt.WithAnnParam(index.NewHNSWAnnParam(max(x.cfg.Ef, k)))
	}
	results, err := x.client.Search(ctx, opt)
	if err != nil {
		return nil, x.wrap(ctx, "search milvus collection "+x.cfg.Collection, err)
	}
	if len(results) != 1 {
		return nil, fmt.Errorf("search milvus collection %s: got %d result sets for one query", x.cfg.Collection, len(results))
	}
	res := results[0]
	if res.Err != nil {
		return nil, fmt.Errorf("read milvus search results: %w", res.Err)
	}
	hits := make([]vector.Hit, 0, res.ResultCount)
	for i := range res.ResultCount {
		id, err := res.IDs.GetAsString(i)
		if err != nil {
			return nil, fmt.Errorf("read milvus search result %d: %w", i, err)
		}
		hits = append(hits, vector.Hit{ID: id, Score: res.Scores[i]})
	}
	return hits, nil
}

// Count returns how many items the collection holds. Errors: unavailable.
func (x *Index) Count(ctx context.Context) (int, error) {
	if err := x.acquire(); err != nil {
		return 0, err
	}
	defer x.mu.RUnlock()
	const countField = "count(*)"
	res, err := x.client.Query(ctx, milvusclient.NewQueryOption(x.cfg.Collection).
		WithOutputFields(countField).
		WithConsistencyLevel(entity.ClStrong))
	if err != nil {
		return 0, x.wrap(ctx, "count vectors in milvus collection "+x.cfg.Collection, err)
	}
	col := res.GetColumn(countField)
	if col == nil || col.Len() != 1 {
		return 0, fmt.Errorf("count vectors in milvus collection %s: result has no %s", x.cfg.Collection, countField)
	}
	n, err := col.GetAsInt64(0)
	if err != nil {
		return 0, fmt.Errorf("read milvus %s: %w", countField, err)
	}
	return int(n), nil
}
