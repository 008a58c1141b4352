package milvusfake

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/protobuf/proto"
)

// maxTopK is the largest limit Milvus accepts.
const maxTopK = 16384

func (s *Server) Upsert(ctx context.Context, req *milvuspb.UpsertRequest) (*milvuspb.MutationResult, error) {
	if err := checkPartition(req.GetPartitionName()); err != nil {
		return nil, err
	}
	if req.GetPartialUpdate() {
		return nil, unimplemented("partial updates")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return &milvuspb.MutationResult{Status: st}, nil
	}
	ids, rows, st, err := c.decodeRows(req.GetFieldsData(), int(req.GetNumRows()))
	if st != nil || err != nil {
		return &milvuspb.MutationResult{Status: st}, err
	}
	succ := make([]uint32, len(ids))
	for i, id := range ids {
		c.rows[id] = rows[i]
		succ[i] = uint32(i)
	}
	return &milvuspb.MutationResult{Status: merr.Success(), IDs: strIDs(ids), SuccIndex: succ, UpsertCnt: int64(len(ids))}, nil
}

// decodeRows checks column data against the schema, as Milvus does on
// insert: every field present once, the declared types, lengths and
// dimension, no NaN, no primary key twice.
func (c *collection) decodeRows(data []*schemapb.FieldData, n int) ([]string, []row, *commonpb.Status, error) {
	bad := func(format string, args ...any) ([]string, []row, *commonpb.Status, error) {
		return nil, nil, fail(merr.WrapErrParameterInvalidMsg(format, args...)), nil
	}
	if n < 1 {
		return bad("no rows to write")
	}
	byName := map[string]*schemapb.FieldData{}
	for _, fd := range data {
		if fd.GetIsDynamic() {
			return nil, nil, nil, unimplemented("dynamic field data (%s)", fd.GetFieldName())
		}
		if _, dup := byName[fd.GetFieldName()]; dup {
			return bad("field %s given twice", fd.GetFieldName())
		}
		byName[fd.GetFieldName()] = fd
	}
	for name := range byName {
		if _, ok := c.maxLen[name]; !ok && name != c.vector {
			return bad("field %s does not exist in collection", name)
		}
	}
	rows := make([]row, n)
	for i := range rows {
		rows[i].values = map[string]string{}
	}
	var ids []string
	for name, maxLen := range c.maxLen {
		fd := byName[name]
		if fd == nil || fd.GetType() != schemapb.DataType_VarChar {
			return bad("VARCHAR field %s is missing", name)
		}
		values := fd.GetScalars().GetStringData().GetData()
		valid, err := validRows(fd, n, c.nullable[name])
		if err != nil {
			return bad("field %s: %v", name, err)
		}
		if len(values) != countTrue(valid) {
			return bad("field %s has %d values for %d non-null rows", name, len(values), countTrue(valid))
		}
		next := 0
		for i := range n {
			if !valid[i] {
				continue
			}
			v := values[next]
			next++
			if !utf8.ValidString(v) {
				return bad("field %s row %d is not valid UTF-8", name, i)
			}
			if len(v) > maxLen {
				return bad("length of varchar field %s exceeds max length, row number: %d, length: %d, max length: %d", name, i, len(v), maxLen)
			}
			if name != c.pk {
				rows[i].values[name] = v
			}
		}
		if name == c.pk {
			ids = values
		}
	}
	vec := byName[c.vector].GetVectors()
	floats := vec.GetFloatVector().GetData()
	if byName[c.vector].GetType() != schemapb.DataType_FloatVector || int(vec.GetDim()) != c.dim || len(floats) != n*c.dim {
		return bad("vector field %s needs %d FLOAT_VECTOR values of dim %d", c.vector, n, c.dim)
	}
	for i := range rows {
		rows[i].vector = slices.Clone(floats[i*c.dim : (i+1)*c.dim])
		if slices.ContainsFunc(rows[i].vector, func(f float32) bool { return math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) }) {
			return bad("vector of row %d contains NaN or Inf", i)
		}
	}
	seen := make(map[string]bool, n)
	for _, id := range ids {
		if seen[id] {
			return bad("duplicate primary keys are not allowed in the same batch: %q", id)
		}
		seen[id] = true
	}
	return ids, rows, nil, nil
}

// validRows says which of n rows have a value. A nullable field sends its
// present values compacted plus a validity flag per row (the Go client's
// layout); other fields send one value per row.
func validRows(fd *schemapb.FieldData, n int, nullable bool) ([]bool, error) {
	valid := fd.GetValidData()
	switch {
	case len(valid) == 0:
		all := make([]bool, n)
		for i := range all {
			all[i] = true
		}
		return all, nil
	case !nullable:
		return nil, errors.New("valid_data sent for a field that is not nullable")
	case len(valid) != n:
		return nil, fmt.Errorf("%d valid_data flags for %d rows", len(valid), n)
	}
	return valid, nil
}

func countTrue(flags []bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}

func (s *Server) Delete(ctx context.Context, req *milvuspb.DeleteRequest) (*milvuspb.MutationResult, error) {
	if err := checkPartition(req.GetPartitionName()); err != nil {
		return nil, err
	}
	if len(req.GetExprTemplateValues()) > 0 {
		return nil, unimplemented("expression templates")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordExpr(req.GetExpr())
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return &milvuspb.MutationResult{Status: st}, nil
	}
	pred, err := c.parseExpr(req.GetExpr())
	if err != nil {
		return nil, err
	}
	if len(pred) == 0 {
		return &milvuspb.MutationResult{Status: fail(merr.WrapErrParameterInvalidMsg("delete needs an expression"))}, nil
	}
	var deleted []string
	for id, r := range c.rows {
		if pred.match(c, id, r) {
			delete(c.rows, id)
			deleted = append(deleted, id)
		}
	}
	slices.Sort(deleted)
	return &milvuspb.MutationResult{Status: merr.Success(), IDs: strIDs(deleted), DeleteCnt: int64(len(deleted))}, nil
}

func (s *Server) Search(ctx context.Context, req *milvuspb.SearchRequest) (*milvuspb.SearchResults, error) {
	if err := checkPartition(req.GetPartitionNames()...); err != nil {
		return nil, err
	}
	if len(req.GetOutputFields()) > 0 || len(req.GetExprTemplateValues()) > 0 || req.GetFunctionScore() != nil || len(req.GetSubReqs()) > 0 {
		return nil, unimplemented("output fields, expression templates, rerankers and sub-requests")
	}
	if req.GetDsl() != "" && req.GetDslType() != commonpb.DslType_BoolExprV1 {
		return nil, invalid("DSL type %s", req.GetDslType())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordExpr(req.GetDsl())
	c, st := s.lookupLoaded(req.GetCollectionName())
	if st != nil {
		return &milvuspb.SearchResults{Status: st}, nil
	}
	topK, st, err := c.checkSearchParams(kvs(req.GetSearchParams()))
	if st != nil || err != nil {
		return &milvuspb.SearchResults{Status: st}, err
	}
	queries, err := c.decodeQueries(req)
	if err != nil {
		return nil, err
	}
	pred, err := c.parseExpr(req.GetDsl())
	if err != nil {
		return nil, err
	}
	res := &schemapb.SearchResultData{NumQueries: int64(len(queries)), TopK: int64(topK), PrimaryFieldName: c.pk}
	var ids []string
	for _, q := range queries {
		hits := c.search(q, topK, pred)
		for _, h := range hits {
			ids = append(ids, h.id)
			res.Scores = append(res.Scores, h.score)
		}
		res.Topks = append(res.Topks, int64(len(hits)))
	}
	res.Ids = strIDs(ids)
	return &milvuspb.SearchResults{Status: merr.Success(), Results: res, CollectionName: req.GetCollectionName()}, nil
}

// checkSearchParams validates what the client sends as search params and
// returns the limit. Like Milvus, it refuses a metric other than the
// index's and an HNSW ef below the limit.
func (c *collection) checkSearchParams(p map[string]string) (int, *commonpb.Status, error) {
	bad := func(format string, args ...any) (int, *commonpb.Status, error) {
		return 0, fail(merr.WrapErrParameterInvalidMsg(format, args...)), nil
	}
	for _, k := range []string{"group_by_field", "group_size", "strict_group_size", "iterator", "search_iter_v2"} {
		if _, ok := p[k]; ok {
			return 0, nil, unimplemented("search parameter %s", k)
		}
	}
	if f := p["anns_field"]; f != "" && f != c.vector {
		return bad("anns field %s is not the vector field %s", f, c.vector)
	}
	if m := p["metric_type"]; m != "" && m != c.index.metric {
		return bad("metric type not match: invalid parameter[expected=%s][actual=%s]", c.index.metric, m)
	}
	topK, err := strconv.Atoi(p["topk"])
	if err != nil || topK < 1 || topK > maxTopK {
		return bad("topk must be between 1 and %d, got %q", maxTopK, p["topk"])
	}
	if off := p["offset"]; off != "" && off != "0" {
		return 0, nil, unimplemented("search offsets")
	}
	var ann map[string]any
	if raw := p["params"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &ann); err != nil {
			return 0, nil, invalid("search params %q: %v", raw, err)
		}
	}
	for k, v := range ann {
		if k != "ef" || c.index.indexType != "HNSW" {
			return 0, nil, unimplemented("search parameter %s for index %s", k, c.index.indexType)
		}
		if ef, ok := v.(float64); !ok || ef < float64(topK) {
			return bad("ef(%v) should be larger than k(%d)", v, topK)
		}
	}
	return topK, nil, nil
}

// decodeQueries reads the query vectors from the placeholder group.
func (c *collection) decodeQueries(req *milvuspb.SearchRequest) ([][]float32, error) {
	var group commonpb.PlaceholderGroup
	if err := proto.Unmarshal(req.GetPlaceholderGroup(), &group); err != nil {
		return nil, invalid("decode placeholder group: %v", err)
	}
	if len(group.GetPlaceholders()) != 1 {
		return nil, invalid("want one placeholder, got %d", len(group.GetPlaceholders()))
	}
	ph := group.GetPlaceholders()[0]
	if ph.GetType() != commonpb.PlaceholderType_FloatVector {
		return nil, unimplemented("query vectors of type %s", ph.GetType())
	}
	if len(ph.GetValues()) != int(req.GetNq()) || req.GetNq() < 1 {
		return nil, invalid("nq is %d but %d query vectors were sent", req.GetNq(), len(ph.GetValues()))
	}
	queries := make([][]float32, len(ph.GetValues()))
	for i, raw := range ph.GetValues() {
		if len(raw) != 4*c.dim {
			return nil, invalid("query vector %d has %d bytes, want dim %d", i, len(raw), c.dim)
		}
		q := make([]float32, c.dim)
		for j := range q {
			q[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		queries[i] = q
	}
	return queries, nil
}

type hit struct {
	id    string
	score float32
}

// search scores every row passing pred exactly and returns the best k,
// ties broken by primary key so results are stable.
func (c *collection) search(q []float32, k int, pred predicate) []hit {
	var hits []hit
	for id, r := range c.rows {
		if pred.match(c, id, r) {
			hits = append(hits, hit{id: id, score: c.score(q, r.vector)})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.id, b.id)
	})
	return hits[:min(k, len(hits))]
}

// score is the index metric: inner product, or cosine similarity.
func (c *collection) score(a, b []float32) float32 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if c.index.metric == "IP" {
		return float32(dot)
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / math.Sqrt(na*nb))
}

// countField is the one output Query supports.
const countField = "count(*)"

func (s *Server) Query(ctx context.Context, req *milvuspb.QueryRequest) (*milvuspb.QueryResults, error) {
	if err := checkPartition(req.GetPartitionNames()...); err != nil {
		return nil, err
	}
	if !slices.Equal(req.GetOutputFields(), []string{countField}) || len(req.GetQueryParams()) > 0 || len(req.GetExprTemplateValues()) > 0 {
		return nil, unimplemented("queries other than count(*) (output fields %v)", req.GetOutputFields())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordExpr(req.GetExpr())
	c, st := s.lookupLoaded(req.GetCollectionName())
	if st != nil {
		return &milvuspb.QueryResults{Status: st}, nil
	}
	pred, err := c.parseExpr(req.GetExpr())
	if err != nil {
		return nil, err
	}
	var n int64
	for id, r := range c.rows {
		if pred.match(c, id, r) {
			n++
		}
	}
	return &milvuspb.QueryResults{
		Status:         merr.Success(),
		CollectionName: req.GetCollectionName(),
		OutputFields:   []string{countField},
		FieldsData: []*schemapb.FieldData{{
			Type:      schemapb.DataType_Int64,
			FieldName: countField,
			Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{
				Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{n}}},
			}},
		}},
	}, nil
}
