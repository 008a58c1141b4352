package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// TestResponseCache: anonymous catalog queries are answered from memory
// until a product changes; callers with a key are never.
func TestResponseCache(t *testing.T) {
	e := newEnv(t, sqldb.SQLite, nil)
	id, _ := e.createProduct(t, "Brass Candle Holder", variantSpec{"CANDLE-1", 1500, 5})
	const q = `query($id: ID!) { product(id: $id) { id title } }`
	vars := map[string]any{"id": id}
	title := func(r response) string {
		var out struct{ Product struct{ Title string } }
		if err := json.Unmarshal(r.Data, &out); err != nil || len(r.Errors) > 0 {
			t.Fatalf("%s %+v: %v", r.Data, r.Errors, err)
		}
		return out.Product.Title
	}
	// The product's own events reach the cache through the outbox relay
	// and may empty it after the first request: retry until a hit.
	if first := e.post(t, "", q, vars); first.header.Get("X-Cache") != "" || title(first) != "Brass Candle Holder" {
		t.Fatalf("first request: X-Cache %q, %s", first.header.Get("X-Cache"), first.Data)
	}
	eventually(t, "a cache hit", func() bool {
		r := e.post(t, "", strings.ReplaceAll(q, " ", "  "), vars) // white space does not matter
		return r.header.Get("X-Cache") == "hit" && title(r) == "Brass Candle Holder"
	})
	if r := e.post(t, e.alice, q, vars); r.header.Get("X-Cache") != "" {
		t.Fatal("a shopper's request was answered from the anonymous cache")
	}
	var up struct {
		ProductUpdate struct{ Errors []userError } `json:"productUpdate"`
	}
	e.do(t, e.merchant, `mutation($id: ID!) { productUpdate(input: {id: $id, title: "Brass Candlestick"}) { errors { field message } } }`, vars, &up)
	if len(up.ProductUpdate.Errors) > 0 {
		t.Fatal(up.ProductUpdate.Errors)
	}
	eventually(t, "the cache drops the old title", func() bool { return title(e.post(t, "", q, vars)) == "Brass Candlestick" })
}

// TestPersistedQueries: a client sends a query's hash alone once the
// server has seen the query (automatic persisted queries).
func TestPersistedQueries(t *testing.T) {
	e := newEnv(t, sqldb.SQLite, nil)
	const q = `{ products(first: 1) { totalCount } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	send := func(body map[string]any) response {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.base+"/graphql", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out response
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if r := send(map[string]any{"extensions": ext}); len(r.Errors) != 1 || r.Errors[0].code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %+v, want PERSISTED_QUERY_NOT_FOUND", r.Errors)
	}
	if r := send(map[string]any{"query": q, "extensions": ext}); len(r.Errors) > 0 {
		t.Fatalf("query with hash: %+v", r.Errors)
	}
	if r := send(map[string]any{"extensions": ext}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
		t.Fatalf("hash alone after: %s %+v", r.Data, r.Errors)
	}
}

// TestGraphiQL: a browser opening /graphql gets GraphiQL.
func TestGraphiQL(t *testing.T) {
	e := newEnv(t, sqldb.SQLite, nil)
	req, _ := http.NewRequest(http.MethodGet, e.base+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), "graphiql") {
		t.Fatalf("GET /graphql: %d %.200s", resp.StatusCode, body)
	}
	r, err := http.Get(e.base + "/graphql?query=" + "%7Bproducts(first%3A1)%7BtotalCount%7D%7D")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	got, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(got), `"totalCount"`) {
		t.Fatalf("GET with a query: %s", got)
	}
}
