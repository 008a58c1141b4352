package milvus_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/milvus"
	"github.com/hyperrr/hyperrr/mdk/vector/milvus/milvusfake"
	"github.com/hyperrr/hyperrr/mdk/vector/vectortest"
)

// suiteFields are the fields the shared suite filters on; it also filters
// on fields no item stores ("missing", "none"), which Milvus cannot store
// either, so they are left out on purpose.
var suiteFields = []string{"category", "status", "color", "n", "shard"}

var seq atomic.Int64

// uniqueCollection names a collection no other test uses.
func uniqueCollection() string {
	return fmt.Sprintf("hyperrr_test_%d_%d", time.Now().UnixNano(), seq.Add(1))
}

// open is milvus.New that fails the test on error and closes the index
// when the test ends.
func open(t *testing.T, cfg milvus.Config) *milvus.Index {
	t.Helper()
	x := openNoCleanup(t, cfg)
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return x
}

func openNoCleanup(t *testing.T, cfg milvus.Config) *milvus.Index {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	x, err := milvus.New(ctx, cfg)
	if err != nil {
		t.Fatalf("milvus.New(%s): %v", cfg.Collection, err)
	}
	return x
}

func TestIndex(t *testing.T) {
	srv := milvusfake.Start(t)
	for _, tc := range []struct {
		metric milvus.Metric
		index  milvus.IndexType
	}{{milvus.Cosine, milvus.HNSW}, {milvus.InnerProduct, milvus.Flat}} {
		t.Run(string(tc.metric)+"_"+string(tc.index), func(t *testing.T) {
			vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
				return openNoCleanup(t, milvus.Config{
					Address:      srv.Addr(),
					Collection:   uniqueCollection(),
					Dimensions:   dims,
					Metric:       tc.metric,
					IndexType:    tc.index,
					FilterFields: suiteFields,
				})
			})
		})
	}
}

// TestIndexRealMilvus runs the shared suite against a real Milvus, one
// throwaway collection per subtest, dropped afterwards.
func TestIndexRealMilvus(t *testing.T) {
	addr := os.Getenv("HYPERRR_TEST_MILVUS_ADDR")
	if addr == "" {
		t.Skip("set HYPERRR_TEST_MILVUS_ADDR=localhost:19530 (and HYPERRR_TEST_MILVUS_TOKEN=user:password if auth is on) to run the vector suite against a real Milvus")
	}
	token := os.Getenv("HYPERRR_TEST_MILVUS_TOKEN")
	for _, metric := range []milvus.Metric{milvus.Cosine, milvus.InnerProduct} {
		t.Run(string(metric), func(t *testing.T) {
			vectortest.Run(t, func(t *testing.T, dims int) vector.Index {
				cfg := milvus.Config{
					Address:      addr,
					Token:        token,
					Collection:   uniqueCollection(),
					Dimensions:   dims,
					Metric:       metric,
					FilterFields: suiteFields,
				}
				t.Cleanup(func() { dropCollection(t, cfg) })
				return openNoCleanup(t, cfg)
			})
		})
	}
}

func dropCollection(t *testing.T, cfg milvus.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := milvusclient.New(ctx, &milvusclient.ClientConfig{Address: cfg.Address, APIKey: cfg.Token})
	if err != nil {
		t.Errorf("connect to drop %s: %v", cfg.Collection, err)
		return
	}
	if err := c.DropCollection(ctx, milvusclient.NewDropCollectionOption(cfg.Collection)); err != nil {
		t.Errorf("drop %s: %v", cfg.Collection, err)
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("close client: %v", err)
	}
}

func TestNew(t *testing.T) {
	srv := milvusfake.Start(t)
	base := milvus.Config{Address: srv.Addr(), Dimensions: 8, FilterFields: []string{"status", "category"}}
	items := vectortest.RandomItems(1, "p", 20, 8)

	t.Run("OKReuseOnReconnect", func(t *testing.T) {
		cfg := base
		cfg.Collection = uniqueCollection()
		first := openNoCleanup(t, cfg)
		if err := first.Upsert(t.Context(), items...); err != nil {
			t.Fatalf("upsert: %v", err)
		}
		if err := first.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		creates, indexes, loads := srv.Calls("CreateCollection"), srv.Calls("CreateIndex"), srv.Calls("LoadCollection")

		second := open(t, cfg)
		if got := srv.Calls("CreateCollection"); got != creates {
			t.Errorf("reconnect called CreateCollection again (%d calls, want %d)", got, creates)
		}
		if got := srv.Calls("CreateIndex"); got != indexes {
			t.Errorf("reconnect called CreateIndex again (%d calls, want %d)", got, indexes)
		}
		if got := srv.Calls("LoadCollection"); got != loads {
			t.Errorf("reconnect loaded a loaded collection again (%d calls, want %d)", got, loads)
		}
		n, err := second.Count(t.Context())
		if err != nil || n != len(items) {
			t.Errorf("count after reconnect = %d, %v; want %d", n, err, len(items))
		}
	})

	t.Run("OKDefaultCollection", func(t *testing.T) {
		srv := milvusfake.Start(t)
		cfg := base
		cfg.Address = srv.Addr()
		open(t, cfg)
		if srv.Calls("CreateCollection") != 1 {
			t.Errorf("CreateCollection calls = %d, want 1", srv.Calls("CreateCollection"))
		}
		if _, err := milvus.New(t.Context(), milvus.Config{Address: srv.Addr(), Collection: milvus.DefaultCollection, Dimensions: 9, FilterFields: cfg.FilterFields}); err == nil {
			t.Errorf("New with 9 dimensions on the default collection (made with 8) succeeded; want a mismatch, proving the default name was used")
		}
	})

	mismatch := []struct {
		name   string
		change func(*milvus.Config)
		field  string
		says   string
	}{
		{"ErrDimensionMismatch", func(c *milvus.Config) { c.Dimensions = 16 }, "dimensions", "stores 8-dimensional vectors but the index is configured for 16"},
		{"ErrFilterFieldMissing", func(c *milvus.Config) { c.FilterFields = []string{"status", "category", "brand"} }, "filter_fields", "missing nullable VARCHAR fields [brand]"},
		{"ErrFilterFieldExtra", func(c *milvus.Config) { c.FilterFields = []string{"status"} }, "filter_fields", "fields not configured [category]"},
		{"ErrMetricMismatch", func(c *milvus.Config) { c.Metric = milvus.InnerProduct }, "metric", `indexed with metric "COSINE"`},
	}
	for _, tc := range mismatch {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Collection = uniqueCollection()
			open(t, cfg)
			tc.change(&cfg)
			_, err := milvus.New(t.Context(), cfg)
			e := wantCode(t, err, mdk.CodeInvalid)
			if e != nil && (e.Field != tc.field || !strings.Contains(e.Message, tc.says) || !strings.Contains(e.Message, cfg.Collection)) {
				t.Errorf("got field %q message %q; want field %q and a message naming the collection and saying %q", e.Field, e.Message, tc.field, tc.says)
			}
		})
	}

	t.Run("ErrInvalidConfig", func(t *testing.T) {
		_, err := milvus.New(t.Context(), milvus.Config{
			Address:      "http://",
			Collection:   "bad-name",
			Metric:       "L2",
			FilterFields: []string{"status", "id", "in", "status", "2x"},
		})
		var fields []string
		for _, e := range mdk.AllErrors(err) {
			if e.Code != mdk.CodeInvalid {
				t.Errorf("%v: code %s, want invalid", e, e.Code)
			}
			fields = append(fields, e.Field)
		}
		want := "address collection dimensions metric filter_fields[1] filter_fields[2] filter_fields[3] filter_fields[4]"
		if got := strings.Join(fields, " "); got != want {
			t.Errorf("invalid fields = %q, want %q", got, want)
		}
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		down := milvusfake.Start(t)
		addr := down.Addr()
		down.Stop()
		start := time.Now()
		_, err := milvus.New(t.Context(), milvus.Config{Address: addr, Dimensions: 8, DialTimeout: 500 * time.Millisecond})
		elapsed := time.Since(start)
		e := wantCode(t, err, mdk.CodeUnavailable)
		if e != nil && (!e.Retryable || !strings.Contains(e.Message, addr)) {
			t.Errorf("got %+v; want a retryable error naming %s", e, addr)
		}
		if elapsed > 2*time.Second {
			t.Errorf("New took %s against a closed port; want it bounded by the 500ms dial timeout", elapsed)
		}
	})

	t.Run("ErrCredentials", func(t *testing.T) {
		secure := milvusfake.Start(t, milvusfake.WithCredentials("root", "s3cret"))
		cfg := milvus.Config{Address: secure.Addr(), Dimensions: 8, Collection: uniqueCollection()}
		bad := cfg
		bad.Username, bad.Password = "root", "wrong"
		_, err := milvus.New(t.Context(), bad)
		if e := wantCode(t, err, mdk.CodeUnavailable); e != nil && !strings.Contains(e.Message, "credentials") {
			t.Errorf("message %q does not say the credentials were rejected", e.Message)
		}
		withPassword := cfg
		withPassword.Username, withPassword.Password = "root", "s3cret"
		open(t, withPassword)
		withToken := cfg
		withToken.Token = "root:s3cret"
		open(t, withToken)
	})
}

// wantCode asserts err carries an *mdk.Error with code and returns it.
func wantCode(t *testing.T, err error, code mdk.Code) *mdk.Error {
	t.Helper()
	var e *mdk.Error
	if !errors.As(err, &e) {
		t.Errorf("got %v, want an *mdk.Error with code %s", err, code)
		return nil
	}
	if e.Code != code {
		t.Errorf("got code %s (%v), want %s", e.Code, err, code)
	}
	return e
}
