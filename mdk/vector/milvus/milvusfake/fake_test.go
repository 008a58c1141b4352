package milvusfake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hyperrr/hyperrr/mdk/vector/milvus/milvusfake"
)

const coll = "products"

// setup starts a fake and connects a client; create makes the collection
// (id, vector of dim 2, nullable status); index and load go further.
func setup(t *testing.T, create, indexed, load bool) *milvusclient.Client {
	t.Helper()
	srv := milvusfake.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := milvusclient.New(ctx, &milvusclient.ClientConfig{Address: srv.Addr()})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close client: %v", err)
		}
	})
	if create {
		must(t, c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption(coll, schema())))
	}
	if indexed {
		task, err := c.CreateIndex(ctx, milvusclient.NewCreateIndexOption(coll, "vector", index.NewHNSWIndex(entity.COSINE, 8, 64)))
		must(t, err)
		must(t, task.Await(ctx))
	}
	if load {
		task, err := c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption(coll))
		must(t, err)
		must(t, task.Await(ctx))
	}
	return c
}

func schema() *entity.Schema {
	return entity.NewSchema().
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeVarChar).WithIsPrimaryKey(true).WithMaxLength(8)).
		WithField(entity.NewField().WithName("vector").WithDataType(entity.FieldTypeFloatVector).WithDim(2)).
		WithField(entity.NewField().WithName("status").WithDataType(entity.FieldTypeVarChar).WithMaxLength(8).WithNullable(true))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr asserts err is set and its text says want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: got %v, want an error saying %q", what, err, want)
	}
}

func upsert(t *testing.T, ids []string, vecs [][]float32, status []string, valid []bool) milvusclient.UpsertOption {
	t.Helper()
	st, err := column.NewNullableColumnVarChar("status", status, valid)
	must(t, err)
	return milvusclient.NewColumnBasedInsertOption(coll,
		column.NewColumnVarChar("id", ids), column.NewColumnFloatVector("vector", 2, vecs), st)
}

func TestSearchAndQuery(t *testing.T) {
	c := setup(t, true, true, true)
	ctx := t.Context()
	_, err := c.Upsert(ctx, upsert(t, []string{"a", "b", "c"}, [][]float32{{1, 0}, {0, 1}, {1, 1}}, []string{"on", "off"}, []bool{true, true, false}))
	must(t, err)

	t.Run("OK", func(t *testing.T) {
		res, err := c.Search(ctx, milvusclient.NewSearchOption(coll, 2, []entity.Vector{entity.FloatVector{1, 0}}).WithANNSField("vector"))
		must(t, err)
		id0, _ := res[0].IDs.GetAsString(0)
		id1, _ := res[0].IDs.GetAsString(1)
		if res[0].ResultCount != 2 || id0 != "a" || id1 != "c" || res[0].Scores[0] != 1 {
			t.Errorf("got %d hits %s %s scores %v; want a (1.0) then c", res[0].ResultCount, id0, id1, res[0].Scores)
		}
	})
	t.Run("OKCountWithFilter", func(t *testing.T) {
		for expr, want := range map[string]int64{
			``:                                 3,
			`status in ["on", "off"]`:          2,
			`status in ["on"] && id in ["b"]`:  0,
			`  id in [ "a" , "c" ]  `:          2,
			`status in ["\x6fn"]`:              1,
			`status in [""]`:                   0,
			`id in ["a"] && status in ["on"]`:  1,
			`id in ["a"]&&status in ["off"]`:   0,
			`status in ["on"] && id in ["a"] `: 1,
		} {
			res, err := c.Query(ctx, milvusclient.NewQueryOption(coll).WithFilter(expr).WithOutputFields("count(*)"))
			must(t, err)
			if n, _ := res.GetColumn("count(*)").GetAsInt64(0); n != want {
				t.Errorf("count(*) where %s = %d, want %d", expr, n, want)
			}
		}
	})
	t.Run("ErrExpressionOutsideSubset", func(t *testing.T) {
		for _, expr := range []string{
			`status == "on"`,
			`status in ["on"] || id in ["a"]`,
			`status in ['on']`,
			`status not in ["on"]`,
			`status in []`,
			`brand in ["x"]`,
			`vector in ["x"]`,
			`status in ["on"] and id in ["a"]`,
			`(status in ["on"])`,
			`status in ["on`,
			`status in ["on"`,
		} {
			_, err := c.Query(ctx, milvusclient.NewQueryOption(coll).WithFilter(expr).WithOutputFields("count(*)"))
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("filter %s: got %v, want InvalidArgument", expr, err)
			}
		}
	})
	t.Run("ErrUnsupportedQuery", func(t *testing.T) {
		_, err := c.Query(ctx, milvusclient.NewQueryOption(coll).WithFilter(`id in ["a"]`).WithOutputFields("status"))
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("query with output fields: got %v, want Unimplemented", err)
		}
	})
	t.Run("ErrSearchParams", func(t *testing.T) {
		q := []entity.Vector{entity.FloatVector{1, 0}}
		_, err := c.Search(ctx, milvusclient.NewSearchOption(coll, 2, q).WithSearchParam("metric_type", "IP"))
		wantErr(t, "search with another metric", err, "metric type not match")
		_, err = c.Search(ctx, milvusclient.NewSearchOption(coll, 20, q).WithAnnParam(index.NewHNSWAnnParam(10)))
		wantErr(t, "search with ef < k", err, "should be larger than k")
		_, err = c.Search(ctx, milvusclient.NewSearchOption(coll, 2, []entity.Vector{entity.FloatVector{1, 0, 0}}))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("search with a 3-dim query: got %v, want InvalidArgument", err)
		}
	})
	t.Run("ErrUpsert", func(t *testing.T) {
		_, err := c.Upsert(ctx, upsert(t, []string{"toolongid"}, [][]float32{{1, 0}}, []string{"on"}, []bool{true}))
		wantErr(t, "upsert of an over-long ID", err, "exceeds max length")
		_, err = c.Upsert(ctx, upsert(t, []string{"d", "d"}, [][]float32{{1, 0}, {0, 1}}, nil, []bool{false, false}))
		wantErr(t, "upsert of one ID twice", err, "duplicate primary keys")
		_, err = c.Upsert(ctx, milvusclient.NewColumnBasedInsertOption(coll, column.NewColumnVarChar("id", []string{"e"}), column.NewColumnFloatVector("vector", 2, [][]float32{{1, 0}})))
		wantErr(t, "upsert without the status column", err, "status is missing")
	})
}

func TestLifecycle(t *testing.T) {
	t.Run("ErrSearchUnloaded", func(t *testing.T) {
		c := setup(t, true, true, false)
		_, err := c.Search(t.Context(), milvusclient.NewSearchOption(coll, 1, []entity.Vector{entity.FloatVector{1, 0}}))
		wantErr(t, "search before load", err, "collection not loaded")
	})
	t.Run("ErrLoadWithoutIndex", func(t *testing.T) {
		c := setup(t, true, false, false)
		_, err := c.LoadCollection(t.Context(), milvusclient.NewLoadCollectionOption(coll))
		wantErr(t, "load before index", err, "index not found")
	})
	t.Run("OKCreateTwiceSameSchema", func(t *testing.T) {
		c := setup(t, true, false, false)
		must(t, c.CreateCollection(t.Context(), milvusclient.NewCreateCollectionOption(coll, schema())))
		other := schema().WithField(entity.NewField().WithName("brand").WithDataType(entity.FieldTypeVarChar).WithMaxLength(8))
		wantErr(t, "create with another schema", c.CreateCollection(t.Context(), milvusclient.NewCreateCollectionOption(coll, other)), "different schema")
	})
	t.Run("ErrDistinctIndex", func(t *testing.T) {
		c := setup(t, true, true, false)
		_, err := c.CreateIndex(t.Context(), milvusclient.NewCreateIndexOption(coll, "vector", index.NewFlatIndex(entity.COSINE)))
		wantErr(t, "a second, different index", err, "at most one distinct index")
	})
	t.Run("ErrUnimplementedRPC", func(t *testing.T) {
		c := setup(t, false, false, false)
		_, err := c.GetService().HasCollection(t.Context(), &milvuspb.HasCollectionRequest{CollectionName: coll})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("HasCollection: got %v, want Unimplemented", err)
		}
		_, err = c.ListCollections(t.Context(), milvusclient.NewListCollectionOption())
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("ShowCollections: got %v, want Unimplemented", err)
		}
	})
	t.Run("ErrUnsupportedSchema", func(t *testing.T) {
		c := setup(t, false, false, false)
		s := schema().WithField(entity.NewField().WithName("price").WithDataType(entity.FieldTypeInt64))
		err := c.CreateCollection(t.Context(), milvusclient.NewCreateCollectionOption(coll, s))
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("schema with an INT64 field: got %v, want Unimplemented", err)
		}
	})
}
