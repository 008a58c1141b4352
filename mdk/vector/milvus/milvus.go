// Package milvus keeps the catalog's vectors in Milvus, the scale-out
// implementation of vector.Index.
//
// One collection holds everything: a VARCHAR primary key "id", a
// FLOAT_VECTOR "vector" and one nullable VARCHAR per filterable field (NULL
// for an item without the field, so no filter passes it; nullable fields
// need Milvus 2.5 or later). New creates
// what is missing (collection, vector index, load) and refuses an existing
// collection whose shape differs from the configuration, because vectors of
// another dimension or another metric cannot be compared with ours.
package milvus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
)

// Metric is how Milvus compares vectors. Both give the cosine similarity
// because the index L2-normalises every vector it writes or searches with.
type Metric string

// The supported metrics.
const (
	Cosine       Metric = "COSINE"
	InnerProduct Metric = "IP"
)

// IndexType is the Milvus index built on the vector field.
type IndexType string

// The supported index types. HNSW is the default: fast and accurate for the
// catalog sizes Hyperrr serves. FLAT is exact search (small collections);
// AUTOINDEX lets a managed Milvus (Zilliz Cloud) choose.
const (
	HNSW      IndexType = "HNSW"
	Flat      IndexType = "FLAT"
	AutoIndex IndexType = "AUTOINDEX"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultCollection     = "hyperrr_products"
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEf             = 64
	DefaultBatchSize      = 500
	DefaultDialTimeout    = 5 * time.Second
	DefaultSetupTimeout   = 2 * time.Minute
)

// Names and sizes of the collection's fields. Milvus needs a maximum length
// for every VARCHAR; these bound an ID and a filter value.
const (
	idField        = "id"
	vectorField    = "vector"
	idMaxLength    = 512
	fieldMaxLength = 1024
	// maxTopK is the largest k Milvus accepts in one search.
	maxTopK = 16384
)

// Config says where Milvus is and what the collection looks like.
type Config struct {
	// Address is host:port ("localhost:19530") or an http(s):// URL; https
	// turns on TLS.
	Address string
	// Username and Password authenticate when Milvus has auth enabled.
	Username string
	Password string
	// Token is an API key or "user:password"; it wins over Username and
	// Password.
	Token string
	// Collection is the collection name, DefaultCollection when empty.
	Collection string
	// Dimensions is the length of every vector; required.
	Dimensions int
	// Metric is Cosine (the default) or InnerProduct.
	Metric Metric
	// FilterFields are the Item.Fields stored so a Filter can test them,
	// e.g. "status", "category", "in_stock". Other fields are not stored,
	// so a filter on them passes nothing: list every field searches filter
	// on.
	FilterFields []string
	// IndexType is HNSW (the default), Flat or AutoIndex.
	IndexType IndexType
	// M and EfConstruction shape a new HNSW index; Ef is the search-time
	// candidate list (raised to k when k is larger).
	M, EfConstruction, Ef int
	// BatchSize is how many items one Upsert or Delete call sends at a time.
	BatchSize int
	// DialTimeout bounds connecting, so an unreachable Milvus fails fast.
	DialTimeout time.Duration
	// SetupTimeout bounds creating, indexing and loading the collection.
	SetupTimeout time.Duration
}

// identifier is what Milvus accepts as a collection or field name; it also
// keeps names safe to write unquoted into a filter expression.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

// exprKeywords are words of Milvus's expression grammar: a field with one of
// these names could be created but never filtered.
var exprKeywords = []string{"in", "not", "and", "or", "like", "exists", "true", "false", "is", "null"}

// withDefaults fills zero fields and reports every invalid one, each with its
// config key as the field path.
func (c Config) withDefaults() (Config, error) {
	if c.Collection == "" {
		c.Collection = DefaultCollection
	}
	if c.Metric == "" {
		c.Metric = Cosine
	}
	if c.IndexType == "" {
		c.IndexType = HNSW
	}
	c.M = cmp.Or(c.M, DefaultM)
	c.EfConstruction = cmp.Or(c.EfConstruction, DefaultEfConstruction)
	c.Ef = cmp.Or(c.Ef, DefaultEf)
	c.BatchSize = cmp.Or(c.BatchSize, DefaultBatchSize)
	c.DialTimeout = cmp.Or(c.DialTimeout, DefaultDialTimeout)
	c.SetupTimeout = cmp.Or(c.SetupTimeout, DefaultSetupTimeout)

	var errs []error
	if !validAddress(c.Address) {
		errs = append(errs, mdk.Invalid("address", "%q is not a Milvus address: use host:port (localhost:19530) or http(s)://host:port", c.Address))
	}
	if !identifier.MatchString(c.Collection) {
		errs = append(errs, mdk.Invalid("collection", "%q is not a Milvus collection name: use letters, digits and underscores, starting with a letter or underscore", c.Collection))
	}
	if c.Dimensions < 1 || c.Dimensions > 32768 {
		errs = append(errs, mdk.Invalid("dimensions", "must be between 1 and 32768, got %d", c.Dimensions))
	}
	if c.Metric != Cosine && c.Metric != InnerProduct {
		errs = append(errs, mdk.Invalid("metric", "must be COSINE or IP, got %q", c.Metric))
	}
	if c.IndexType != HNSW && c.IndexType != Flat && c.IndexType != AutoIndex {
		errs = append(errs, mdk.Invalid("index_type", "must be HNSW, FLAT or AUTOINDEX, got %q", c.IndexType))
	}
	if c.M < 2 || c.M > 2048 {
		errs = append(errs, mdk.Invalid("m", "must be between 2 and 2048, got %d", c.M))
	}
	if c.EfConstruction < 1 || c.Ef < 1 {
		errs = append(errs, mdk.Invalid("ef", "ef and ef_construction must be positive"))
	}
	if c.BatchSize < 1 || c.DialTimeout < 0 || c.SetupTimeout < 0 {
		errs = append(errs, mdk.Invalid("batch_size", "batch size and timeouts must be positive"))
	}
	seen := map[string]bool{}
	for i, name := range c.FilterFields {
		path := fmt.Sprintf("filter_fields[%d]", i)
		switch {
		case !identifier.MatchString(name):
			errs = append(errs, mdk.Invalid(path, "%q is not a Milvus field name: use letters, digits and underscores, starting with a letter or underscore", name))
		case name == idField || name == vectorField || slices.Contains(exprKeywords, strings.ToLower(name)):
			errs = append(errs, mdk.Invalid(path, "%q is reserved; choose another field name", name))
		case seen[name]:
			errs = append(errs, mdk.Invalid(path, "%q is listed twice", name))
		}
		seen[name] = true
	}
	return c, errors.Join(errs...)
}

// validAddress accepts what the client can dial: host:port, or an http or
// https URL with a host.
func validAddress(addr string) bool {
	if !strings.HasPrefix(addr, "http://") && !strings.HasPrefix(addr, "https://") {
		addr = "tcp://" + addr
	}
	u, err := url.Parse(addr)
	return err == nil && u.Host != ""
}

// Index is a vector.Index backed by one Milvus collection. It is safe for
// concurrent use.
type Index struct {
	cfg    Config
	client *milvusclient.Client
	// schema is what the collection actually holds (maximum lengths, the
	// index type in use), read back from Milvus by New.
	schema collectionShape

	// mu lets Close wait for calls in flight; closed rejects later calls.
	mu     sync.RWMutex
	closed bool
}

var _ vector.Index = (*Index)(nil)

// New connects to Milvus and makes the collection ready: created with its
// vector index if missing, checked against cfg if present, loaded for
// search. Errors: invalid (a bad Config field, or an existing collection
// that does not match it, naming the difference), unavailable (Milvus
// unreachable within DialTimeout, or rejecting the credentials).
func New(ctx context.Context, cfg Config) (*Index, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		// Returned as joined, so mdk.AllErrors lists every bad field.
		return nil, err
	}
	dialCtx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	client, err := milvusclient.New(dialCtx, &milvusclient.ClientConfig{
		Address:     cfg.Address,
		Username:    cfg.Username,
		Password:    cfg.Password,
		APIKey:      cfg.Token,
		DialOptions: append(slices.Clone(milvusclient.DefaultGrpcOpts), grpc.WithChainUnaryInterceptor(capRetries)),
	})
	if err != nil {
		if ctx.Err() == nil && dialCtx.Err() != nil {
			return nil, mdk.Unavailable(err, "milvus at %s is unreachable (no connection within %s); check that it is running and that the address is right", cfg.Address, cfg.DialTimeout)
		}
		return nil, wrapErr(ctx, cfg.Address, "connect to milvus", err)
	}
	x := &Index{cfg: cfg, client: client}
	setupCtx, cancelSetup := context.WithTimeout(ctx, cfg.SetupTimeout)
	defer cancelSetup()
	if err := x.setup(setupCtx); err != nil {
		// The setup error is what the caller needs; a failure to close a
		// connection that is being abandoned adds nothing.
		_ = client.Close(context.WithoutCancel(ctx))
		if ctx.Err() == nil && setupCtx.Err() != nil {
			return nil, mdk.Unavailable(err, "milvus at %s did not get collection %s ready within %s; check the Milvus logs or raise the setup timeout", cfg.Address, cfg.Collection, cfg.SetupTimeout)
		}
		return nil, err
	}
	return x, nil
}

// Close releases the connection; calls in flight finish first.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	if err := x.client.Close(context.Background()); err != nil {
		return fmt.Errorf("close milvus connection to %s: %w", x.cfg.Address, err)
	}
	return nil
}

// acquire holds the index open for one call; release with x.mu.RUnlock.
func (x *Index) acquire() error {
	x.mu.RLock()
	if x.closed {
		x.mu.RUnlock()
		return vector.ErrClosed
	}
	return nil
}

// capRetries caps the client's retries of an unavailable Milvus at three
// attempts (about 0.7 s of backoff) instead of its default six (about
// 22 s), so a search fails fast with an unavailable error while Milvus is
// down. It runs before the client's retry interceptor and hands it the cap
// as a call option; it must apply to every call, as the client makes some
// (the collection-schema lookup before a first search) without passing the
// caller's options on.
func capRetries(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	// Three-index slice: never write into the caller's backing array.
	return invoker(ctx, method, req, reply, cc, append(opts[:len(opts):len(opts)], grpc_retry.WithMax(3))...)
}

// wrapErr turns a client error into what callers can act on: the caller's
// own cancellation stays a context error, a Milvus that is down or
// overloaded becomes a retryable unavailable error naming the address, and
// rejected credentials an unavailable error saying what to check.
func wrapErr(ctx context.Context, addr, action string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", action, ctxErr)
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
			return mdk.Unavailable(err, "milvus at %s is unavailable (%s); check that it is running and reachable", addr, action)
		case codes.Unauthenticated, codes.PermissionDenied:
			return authErr(addr, err)
		}
	}
	switch {
	case errors.Is(err, merr.ErrServiceNotReady), errors.Is(err, merr.ErrServiceUnavailable),
		errors.Is(err, merr.ErrServiceTooManyRequests), errors.Is(err, merr.ErrServiceRateLimit),
		errors.Is(err, merr.ErrServiceResourceInsufficient):
		return mdk.Unavailable(err, "milvus at %s is busy or starting (%s); retry later", addr, action)
	case errors.Is(err, merr.ErrPrivilegeNotAuthenticated), errors.Is(err, merr.ErrPrivilegeNotPermitted),
		errors.Is(err, merr.ErrNeedAuthenticate):
		return authErr(addr, err)
	}
	return fmt.Errorf("%s: %w", action, err)
}

func authErr(addr string, err error) error {
	return &mdk.Error{
		Code:    mdk.CodeUnavailable,
		Message: fmt.Sprintf("milvus at %s rejected the credentials; check the username and password or the token", addr),
		Cause:   err,
	}
}
