package milvusfake

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/protobuf/proto"
)

// collection is one in-memory collection: a VARCHAR primary key, one
// FLOAT_VECTOR field and any number of VARCHAR fields.
type collection struct {
	id int64
	// request is the schema as created, to tell a repeated CreateCollection
	// from a conflicting one.
	request     *schemapb.CollectionSchema
	schema      *schemapb.CollectionSchema
	consistency commonpb.ConsistencyLevel
	created     uint64

	pk     string
	vector string
	dim    int
	// maxLen holds every VARCHAR field, the primary key included.
	maxLen   map[string]int
	nullable map[string]bool

	index  *vectorIndex
	loaded bool
	rows   map[string]row
}

// row is one entity; values holds the VARCHAR fields but the primary key,
// a NULL field being absent.
type row struct {
	vector []float32
	values map[string]string
}

// vectorIndex is the index on the vector field; search honours its metric.
type vectorIndex struct {
	id          int64
	name, field string
	params      []*commonpb.KeyValuePair
	indexType   string
	metric      string
}

// newCollection checks a CreateCollection request. Schemas Milvus would
// refuse get Milvus's status; schemas the fake does not model get an
// Unimplemented error.
func newCollection(req *milvuspb.CreateCollectionRequest) (*collection, *commonpb.Status, error) {
	name := req.GetCollectionName()
	var schema schemapb.CollectionSchema
	if err := proto.Unmarshal(req.GetSchema(), &schema); err != nil {
		return nil, nil, invalid("decode schema of %s: %v", name, err)
	}
	if schema.GetName() != name {
		return nil, fail(merr.WrapErrCollectionIllegalSchema(name, "schema name %q differs from the collection name", schema.GetName())), nil
	}
	if schema.GetEnableDynamicField() || len(schema.GetFunctions()) > 0 || len(schema.GetStructArrayFields()) > 0 {
		return nil, nil, unimplemented("dynamic fields, functions and struct fields")
	}
	c := &collection{
		request:     proto.Clone(&schema).(*schemapb.CollectionSchema),
		schema:      &schema,
		consistency: req.GetConsistencyLevel(),
		created:     uint64(time.Now().UnixNano()),
		maxLen:      map[string]int{},
		nullable:    map[string]bool{},
		rows:        map[string]row{},
	}
	illegal := func(format string, args ...any) (*collection, *commonpb.Status, error) {
		return nil, fail(merr.WrapErrCollectionIllegalSchema(name, append([]any{format}, args...)...)), nil
	}
	seen := map[string]bool{}
	for i, f := range schema.GetFields() {
		f.FieldID = int64(100 + i)
		if seen[f.GetName()] {
			return illegal("duplicated field name %s", f.GetName())
		}
		seen[f.GetName()] = true
		if f.GetDefaultValue() != nil || f.GetIsPartitionKey() || f.GetIsClusteringKey() || f.GetIsDynamic() {
			return nil, nil, unimplemented("default, partition-key, clustering-key and dynamic fields (%s)", f.GetName())
		}
		if f.GetNullable() && (f.GetIsPrimaryKey() || f.GetDataType() != schemapb.DataType_VarChar) {
			return nil, nil, unimplemented("nullable fields other than VARCHAR non-key fields (%s)", f.GetName())
		}
		params := kvs(f.GetTypeParams())
		switch f.GetDataType() {
		case schemapb.DataType_VarChar:
			n, err := strconv.Atoi(params["max_length"])
			if err != nil || n < 1 || n > 65535 {
				return illegal("VARCHAR field %s needs max_length between 1 and 65535, got %q", f.GetName(), params["max_length"])
			}
			c.maxLen[f.GetName()] = n
			c.nullable[f.GetName()] = f.GetNullable()
			if f.GetIsPrimaryKey() {
				if c.pk != "" {
					return illegal("more than one primary key")
				}
				if f.GetAutoID() {
					return nil, nil, unimplemented("auto ID primary keys")
				}
				c.pk = f.GetName()
			}
		case schemapb.DataType_FloatVector:
			n, err := strconv.Atoi(params["dim"])
			if err != nil || n < 1 || n > 32768 {
				return illegal("vector field %s needs dim between 1 and 32768, got %q", f.GetName(), params["dim"])
			}
			if f.GetIsPrimaryKey() {
				return illegal("a vector field cannot be the primary key")
			}
			if c.vector != "" {
				return nil, nil, unimplemented("more than one vector field")
			}
			c.vector, c.dim = f.GetName(), n
		default:
			return nil, nil, unimplemented("field %s of type %s: only VARCHAR and FLOAT_VECTOR are modelled", f.GetName(), f.GetDataType())
		}
	}
	if c.pk == "" {
		return illegal("primary key is not specified")
	}
	if c.vector == "" {
		return illegal("schema has no vector field")
	}
	return c, nil, nil
}

// sameDefinition reports whether other asks for exactly this collection;
// Milvus accepts such a repeated CreateCollection.
func (c *collection) sameDefinition(other *collection) bool {
	return proto.Equal(c.request, other.request) && c.consistency == other.consistency
}

// indexParams are the ExtraParams keys each supported index type takes.
var indexParams = map[string][]string{
	"HNSW":      {"index_type", "metric_type", "M", "efConstruction"},
	"FLAT":      {"index_type", "metric_type"},
	"AUTOINDEX": {"index_type", "metric_type"},
}

// createIndex builds (instantly) the vector index described by req.
func (c *collection) createIndex(req *milvuspb.CreateIndexRequest, id int64) (*commonpb.Status, error) {
	field := req.GetFieldName()
	if field != c.vector {
		if _, ok := c.maxLen[field]; ok {
			return nil, unimplemented("scalar indexes (field %s)", field)
		}
		return fail(merr.WrapErrParameterInvalidMsg("cannot create index on non-existed field: %s", field)), nil
	}
	name := req.GetIndexName()
	if name == "" {
		name = field
	}
	p := kvs(req.GetExtraParams())
	allowed, ok := indexParams[p["index_type"]]
	if !ok {
		return nil, unimplemented("index type %q", p["index_type"])
	}
	for k := range p {
		if !slices.Contains(allowed, k) {
			return nil, unimplemented("index parameter %q for %s", k, p["index_type"])
		}
	}
	if m := p["metric_type"]; m != "COSINE" && m != "IP" {
		return nil, unimplemented("metric type %q: only the similarity metrics COSINE and IP are modelled", m)
	}
	if p["index_type"] == "HNSW" {
		if m, err := strconv.Atoi(p["M"]); err != nil || m < 2 || m > 2048 {
			return fail(merr.WrapErrParameterInvalidMsg("HNSW M must be between 2 and 2048, got %q", p["M"])), nil
		}
		if ef, err := strconv.Atoi(p["efConstruction"]); err != nil || ef < 1 {
			return fail(merr.WrapErrParameterInvalidMsg("HNSW efConstruction must be positive, got %q", p["efConstruction"])), nil
		}
	}
	if c.index != nil {
		if c.index.name == name && maps.Equal(kvs(c.index.params), p) {
			return merr.Success(), nil
		}
		return fail(merr.WrapErrIndexDuplicate(c.index.name, "at most one distinct index is allowed per field")), nil
	}
	c.index = &vectorIndex{
		id: id, name: name, field: field, params: req.GetExtraParams(),
		indexType: p["index_type"], metric: p["metric_type"],
	}
	return merr.Success(), nil
}

func (s *Server) CreateIndex(ctx context.Context, req *milvuspb.CreateIndexRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return st, nil
	}
	s.nextID++
	return c.createIndex(req, s.nextID)
}
