// Package milvusfake is an in-process Milvus for tests: a gRPC server on
// 127.0.0.1 that speaks Milvus's protocol for exactly the calls the Go
// client makes on behalf of the milvus vector index, keeps collections in
// memory and searches them exactly.
//
// Implemented RPCs: Connect; CreateCollection, DescribeCollection,
// DropCollection; CreateIndex, DescribeIndex; LoadCollection, GetLoadState,
// GetLoadingProgress; Upsert, Delete, Search and Query (count(*) only).
// Every other RPC answers Unimplemented.
//
// It is strict on purpose. Anything outside what it implements — another
// RPC, a schema with other field types, a filter expression outside
// `field in ["a", "b"] && ...`, output fields, templates, partitions — is
// rejected with a gRPC error (Unimplemented or InvalidArgument) instead of
// being half-handled, so a test cannot pass by accident. Where real Milvus
// refuses something (searching an unloaded collection, loading without an
// index, a metric that differs from the index's, HNSW ef below k, a VARCHAR
// over its maximum length) the fake refuses it too, with Milvus's status
// codes, so the client's error handling is exercised as in production.
package milvusfake

import (
	"context"
	"encoding/base64"
	"net"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Server is a running fake Milvus.
type Server struct {
	milvuspb.UnimplementedMilvusServiceServer

	addr string
	grpc *grpc.Server
	// auth is the authorization header every call must carry; "" when the
	// fake runs without authentication.
	auth string

	mu          sync.Mutex
	collections map[string]*collection
	nextID      int64
	calls       map[string]int
	exprs       []string
}

// Option configures Start.
type Option func(*Server)

// WithCredentials makes the fake require user and password (or the token
// "user:password"), as Milvus does with authorization enabled.
func WithCredentials(user, password string) Option {
	return func(s *Server) {
		s.auth = base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	}
}

// Start runs a fake Milvus on a free port of 127.0.0.1 until the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{collections: map[string]*collection{}, calls: map[string]int{}, nextID: 1000}
	for _, opt := range opts {
		opt(s)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("milvusfake: listen: %v", err)
	}
	s.addr = lis.Addr().String()
	s.grpc = grpc.NewServer(
		grpc.UnaryInterceptor(s.intercept),
		// The Go client pings every 5 s even when idle; grpc-go's default
		// policy (5 min) would answer with GOAWAY and break long tests.
		// Milvus's proxy allows the same.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	milvuspb.RegisterMilvusServiceServer(s.grpc, s)
	go func() {
		// Serve returns when Stop closes the listener; nothing to report.
		_ = s.grpc.Serve(lis)
	}()
	tb.Cleanup(s.Stop)
	return s
}

// Addr is the host:port to give the client.
func (s *Server) Addr() string { return s.addr }

// Stop shuts the server down, as if Milvus crashed; calls fail afterwards.
func (s *Server) Stop() { s.grpc.Stop() }

// Calls reports how many times the RPC named method (e.g.
// "CreateCollection") was received.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Exprs returns the boolean expressions received by Search, Query and
// Delete, in order, empty ones left out.
func (s *Server) Exprs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.exprs)
}

// intercept counts calls and checks credentials.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	s.mu.Lock()
	s.calls[path.Base(info.FullMethod)]++
	s.mu.Unlock()
	if s.auth != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		if got := md.Get("authorization"); len(got) != 1 || got[0] != s.auth {
			return nil, status.Error(codes.Unauthenticated, "milvusfake: wrong or missing credentials")
		}
	}
	return handler(ctx, req)
}

// unimplemented is the gRPC error for requests outside what the fake
// handles.
func unimplemented(format string, args ...any) error {
	return status.Errorf(codes.Unimplemented, "milvusfake: "+format, args...)
}

// invalid is the gRPC error for requests the fake cannot parse.
func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "milvusfake: "+format, args...)
}

// fail is a Milvus error status, as real Milvus returns it.
func fail(err error) *commonpb.Status { return merr.Status(err) }

func (s *Server) Connect(ctx context.Context, req *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{
		Status:     merr.Success(),
		ServerInfo: &commonpb.ServerInfo{BuildTags: "milvusfake", Reserved: map[string]string{}},
		Identifier: 1,
	}, nil
}

// lookup returns the named collection or the status Milvus gives for a
// missing one. The caller holds s.mu.
func (s *Server) lookup(name string) (*collection, *commonpb.Status) {
	c := s.collections[name]
	if c == nil {
		return nil, fail(merr.WrapErrCollectionNotFound(name))
	}
	return c, nil
}

// lookupLoaded is lookup for reads, which Milvus serves only from loaded
// collections.
func (s *Server) lookupLoaded(name string) (*collection, *commonpb.Status) {
	c, st := s.lookup(name)
	if st == nil && !c.loaded {
		return nil, fail(merr.WrapErrCollectionNotLoaded(name))
	}
	return c, st
}

func (s *Server) CreateCollection(ctx context.Context, req *milvuspb.CreateCollectionRequest) (*commonpb.Status, error) {
	if req.GetDbName() != "" && req.GetDbName() != "default" {
		return nil, unimplemented("databases other than default")
	}
	if req.GetNumPartitions() > 0 || len(req.GetProperties()) > 0 {
		return nil, unimplemented("partitions and collection properties")
	}
	c, st, err := newCollection(req)
	if st != nil || err != nil {
		return st, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.collections[req.GetCollectionName()]; old != nil {
		if old.sameDefinition(c) {
			return merr.Success(), nil
		}
		return fail(merr.WrapErrParameterInvalidMsg("collection %s already exists with a different schema", req.GetCollectionName())), nil
	}
	c.id = s.nextID
	s.nextID++
	s.collections[req.GetCollectionName()] = c
	return merr.Success(), nil
}

func (s *Server) DescribeCollection(ctx context.Context, req *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	if req.GetCollectionID() != 0 {
		return nil, unimplemented("describing a collection by ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return &milvuspb.DescribeCollectionResponse{Status: st}, nil
	}
	return &milvuspb.DescribeCollectionResponse{
		Status:           merr.Success(),
		Schema:           c.schema,
		CollectionID:     c.id,
		CollectionName:   req.GetCollectionName(),
		ShardsNum:        1,
		ConsistencyLevel: c.consistency,
		CreatedTimestamp: c.created,
		UpdateTimestamp:  c.created,
	}, nil
}

func (s *Server) DropCollection(ctx context.Context, req *milvuspb.DropCollectionRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Milvus treats dropping a missing collection as done.
	delete(s.collections, req.GetCollectionName())
	return merr.Success(), nil
}

func (s *Server) DescribeIndex(ctx context.Context, req *milvuspb.DescribeIndexRequest) (*milvuspb.DescribeIndexResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return &milvuspb.DescribeIndexResponse{Status: st}, nil
	}
	idx := c.index
	if idx == nil || (req.GetIndexName() != "" && req.GetIndexName() != idx.name) ||
		(req.GetFieldName() != "" && req.GetFieldName() != idx.field) {
		return &milvuspb.DescribeIndexResponse{Status: fail(merr.WrapErrIndexNotFound(req.GetIndexName()))}, nil
	}
	return &milvuspb.DescribeIndexResponse{
		Status: merr.Success(),
		IndexDescriptions: []*milvuspb.IndexDescription{{
			IndexName:   idx.name,
			IndexID:     idx.id,
			FieldName:   idx.field,
			Params:      idx.params,
			State:       commonpb.IndexState_Finished,
			IndexedRows: int64(len(c.rows)),
			TotalRows:   int64(len(c.rows)),
		}},
	}, nil
}

func (s *Server) LoadCollection(ctx context.Context, req *milvuspb.LoadCollectionRequest) (*commonpb.Status, error) {
	if len(req.GetLoadFields()) > 0 || len(req.GetResourceGroups()) > 0 {
		return nil, unimplemented("partial loads and resource groups")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return st, nil
	}
	if c.index == nil {
		return fail(merr.WrapErrIndexNotFoundForCollection(req.GetCollectionName(), "create an index on the vector field before loading")), nil
	}
	c.loaded = true
	return merr.Success(), nil
}

func (s *Server) GetLoadState(ctx context.Context, req *milvuspb.GetLoadStateRequest) (*milvuspb.GetLoadStateResponse, error) {
	if len(req.GetPartitionNames()) > 0 {
		return nil, unimplemented("partitions")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.lookup(req.GetCollectionName())
	if st != nil {
		return &milvuspb.GetLoadStateResponse{Status: st}, nil
	}
	state := commonpb.LoadState_LoadStateNotLoad
	if c.loaded {
		state = commonpb.LoadState_LoadStateLoaded
	}
	return &milvuspb.GetLoadStateResponse{Status: merr.Success(), State: state}, nil
}

func (s *Server) GetLoadingProgress(ctx context.Context, req *milvuspb.GetLoadingProgressRequest) (*milvuspb.GetLoadingProgressResponse, error) {
	if len(req.GetPartitionNames()) > 0 {
		return nil, unimplemented("partitions")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, st := s.lookupLoaded(req.GetCollectionName()); st != nil {
		return &milvuspb.GetLoadingProgressResponse{Status: st}, nil
	}
	// Loading is instant here.
	return &milvuspb.GetLoadingProgressResponse{Status: merr.Success(), Progress: 100, RefreshProgress: 100}, nil
}

// kvs reads Milvus's key-value pair lists.
func kvs(pairs []*commonpb.KeyValuePair) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.GetKey()] = p.GetValue()
	}
	return m
}

// strIDs is a primary-key list in Milvus's wire form.
func strIDs(ids []string) *schemapb.IDs {
	return &schemapb.IDs{IdField: &schemapb.IDs_StrId{StrId: &schemapb.StringArray{Data: ids}}}
}

// checkPartition rejects requests aimed at a partition; the fake has only
// the default one.
func checkPartition(names ...string) error {
	for _, n := range names {
		if n != "" && n != "_default" {
			return unimplemented("partitions (got %q)", n)
		}
	}
	return nil
}

// recordExpr logs a non-empty expression for Exprs. The caller holds s.mu.
func (s *Server) recordExpr(expr string) {
	if expr != "" {
		s.exprs = append(s.exprs, expr)
	}
}
