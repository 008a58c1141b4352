package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/embed"
)

// fakeOpenAI speaks the OpenAI embeddings wire protocol: POST /embeddings
// with {"input": [...], "model": ..., "dimensions": ...}, answered with
// {"object": "list", "data": [{"object": "embedding", "embedding": [...],
// "index": i}], "model": ..., "usage": {...}} or an OpenAI error body.
type fakeOpenAI struct {
	t    *testing.T
	dims int
	// fail, when set, answers request n (from 1) with a status and error
	// code instead of vectors; 0 means answer normally.
	fail func(n int) (status int, code string)
	// retryAfter, when set, goes out as Retry-After-Ms with failures, so
	// the client's retry waits that long instead of its backoff.
	retryAfter string

	mu       sync.Mutex
	requests []embeddingRequest
}

type embeddingRequest struct {
	Input      []string `json:"input"`
	Model      string   `json:"model"`
	Dimensions *int     `json:"dimensions"`
	Auth       string   `json:"-"`
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		f.t.Errorf("got %s %s, want POST /v1/embeddings", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	var req embeddingRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("decode request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Auth = r.Header.Get("Authorization")
	f.mu.Lock()
	f.requests = append(f.requests, req)
	n := len(f.requests)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.fail != nil {
		if status, code := f.fail(n); status != 0 {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After-Ms", f.retryAfter)
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"message":"fake failure %d","type":"invalid_request_error","param":null,"code":%q}}`, status, code)
			return
		}
	}
	type item struct {
		Object    string    `json:"object"`
		Embedding []float64 `json:"embedding"`
		Index     int       `json:"index"`
	}
	var data []item
	// Answer in reverse order: clients must place vectors by index.
	for i := len(req.Input) - 1; i >= 0; i-- {
		data = append(data, item{Object: "embedding", Embedding: fakeVector(req.Input[i], f.dims), Index: i})
	}
	if err := json.NewEncoder(w).Encode(map[string]any{
		"object": "list",
		"data":   data,
		"model":  req.Model,
		"usage":  map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)},
	}); err != nil {
		f.t.Errorf("encode response: %v", err)
	}
}

// fakeVector is a deterministic, deliberately unnormalised vector whose
// first component tells the text apart.
func fakeVector(text string, dims int) []float64 {
	v := make([]float64, dims)
	for i := range v {
		v[i] = 3
	}
	v[0] = float64(len(text)) * 3
	return v
}

func (f *fakeOpenAI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func newFake(t *testing.T, dims int, fail func(int) (int, string)) (*fakeOpenAI, string) {
	f := &fakeOpenAI{t: t, dims: dims, fail: fail, retryAfter: "5"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/v1"
}

func newOpenAI(t *testing.T, cfg embed.Config) *embed.OpenAI {
	t.Helper()
	e, err := embed.NewOpenAI(cfg)
	if err != nil {
		t.Fatalf("new openai embedder: %v", err)
	}
	return e
}

func wantError(t *testing.T, err error, code mdk.Code, retryable bool, mention string) {
	t.Helper()
	var e *mdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want *mdk.Error", err, err)
	}
	if e.Code != code || e.Retryable != retryable || !strings.Contains(e.Message, mention) {
		t.Errorf("got %s retryable=%v %q, want %s retryable=%v mentioning %q", e.Code, e.Retryable, e.Message, code, retryable, mention)
	}
}

func TestOpenAI(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		fake, url := newFake(t, 8, nil)
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "nomic-embed-text", APIKey: "sk-test", Dimensions: 8, BatchSize: 2})
		texts := []string{"a", "bb", "", "dddd", "eeeee"}
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		if got := fake.count(); got != 3 {
			t.Errorf("%d texts in batches of 2 took %d requests, want 3", len(texts), got)
		}
		for _, r := range fake.requests {
			if r.Model != "nomic-embed-text" || r.Auth != "Bearer sk-test" || r.Dimensions != nil {
				t.Errorf("request model=%q auth=%q dimensions=%v, want nomic-embed-text, the bearer key, no dimensions", r.Model, r.Auth, r.Dimensions)
			}
		}
		if fake.requests[1].Input[0] != " " {
			t.Errorf("empty text sent as %q, want a space (OpenAI rejects empty input)", fake.requests[1].Input[0])
		}
		for i, v := range vecs {
			if len(v) != 8 {
				t.Fatalf("vector %d has %d dimensions, want 8", i, len(v))
			}
			var norm float64
			for _, x := range v {
				norm += float64(x) * float64(x)
			}
			if math.Abs(norm-1) > 1e-5 {
				t.Errorf("vector %d has squared norm %f, want 1", i, norm)
			}
			sent := texts[i]
			if sent == "" {
				sent = " "
			}
			want := fakeVector(sent, 8)
			if ratio := float64(v[0] / v[1]); math.Abs(ratio-want[0]/want[1]) > 1e-4 {
				t.Errorf("vector %d belongs to another text (ratio %f, want %f): not placed by index", i, ratio, want[0]/want[1])
			}
		}
		if e.Model() != "nomic-embed-text@8" || e.Dimensions() != 8 {
			t.Errorf("Model() = %q, Dimensions() = %d", e.Model(), e.Dimensions())
		}
	})
	t.Run("OKShortenedOpenAIModel", func(t *testing.T) {
		fake, url := newFake(t, 256, nil)
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "text-embedding-3-small", Dimensions: 256})
		if _, err := e.Embed(ctx, []string{"sofa"}); err != nil {
			t.Fatal(err)
		}
		if d := fake.requests[0].Dimensions; d == nil || *d != 256 {
			t.Errorf("dimensions sent = %v, want 256", d)
		}
		if fake.requests[0].Auth != "" {
			t.Errorf("no key configured, but sent Authorization %q", fake.requests[0].Auth)
		}
	})
	t.Run("OKRetryAfter500", func(t *testing.T) {
		fake, url := newFake(t, 4, func(n int) (int, string) {
			if n == 1 {
				return http.StatusInternalServerError, "server_error"
			}
			return 0, ""
		})
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "m", Dimensions: 4})
		if _, err := e.Embed(ctx, []string{"x"}); err != nil {
			t.Fatalf("want success on retry, got %v", err)
		}
		if fake.count() != 2 {
			t.Errorf("got %d requests, want 2 (one failure, one retry)", fake.count())
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		fake, url := newFake(t, 4, func(int) (int, string) { return http.StatusUnauthorized, "invalid_api_key" })
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "m", APIKey: "wrong", Dimensions: 4})
		_, err := e.Embed(ctx, []string{"x"})
		wantError(t, err, mdk.CodeUnavailable, false, "API key")
		if fake.count() != 1 {
			t.Errorf("a 401 was retried: %d requests", fake.count())
		}
	})
	t.Run("ErrModelNotFound", func(t *testing.T) {
		_, url := newFake(t, 4, func(int) (int, string) { return http.StatusNotFound, "model_not_found" })
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "no-such-model", Dimensions: 4})
		_, err := e.Embed(ctx, []string{"x"})
		wantError(t, err, mdk.CodeUnavailable, false, `model "no-such-model" was not found`)
	})
	t.Run("ErrRateLimited", func(t *testing.T) {
		fake, url := newFake(t, 4, func(int) (int, string) { return http.StatusTooManyRequests, "rate_limit_exceeded" })
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "m", Dimensions: 4, MaxRetries: 1})
		_, err := e.Embed(ctx, []string{"x"})
		wantError(t, err, mdk.CodeUnavailable, true, "rate-limiting")
		if fake.count() != 2 {
			t.Errorf("got %d requests, want 2 (MaxRetries 1)", fake.count())
		}
	})
	t.Run("ErrDimensions", func(t *testing.T) {
		_, url := newFake(t, 768, nil)
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "m", Dimensions: 1024})
		_, err := e.Embed(ctx, []string{"x"})
		wantError(t, err, mdk.CodeInvalid, false, "set Dimensions to 768")
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		dead := srv.URL
		srv.Close()
		e := newOpenAI(t, embed.Config{BaseURL: dead + "/v1", Model: "m", Dimensions: 4, MaxRetries: -1})
		_, err := e.Embed(ctx, []string{"x"})
		wantError(t, err, mdk.CodeUnavailable, true, "cannot reach")
	})
	t.Run("ErrCancelledDuringBackoff", func(t *testing.T) {
		fake, url := newFake(t, 4, func(int) (int, string) { return http.StatusServiceUnavailable, "" })
		fake.retryAfter = "" // the client's own backoff: 0.5 s, then 1 s, ...
		e := newOpenAI(t, embed.Config{BaseURL: url, Model: "m", Dimensions: 4, MaxRetries: 5})
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := e.Embed(ctx, []string{"x"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want the context's error", err)
		}
		if waited := time.Since(start); waited > 400*time.Millisecond {
			t.Errorf("returned after %v: the retry backoff ignored ctx", waited)
		}
	})
	t.Run("ErrConfig", func(t *testing.T) {
		for _, tc := range []struct {
			cfg   embed.Config
			field string
		}{
			{embed.Config{}, "api_key"},
			{embed.Config{BaseURL: "http://localhost:11434/v1", Dimensions: 768}, "model"},
			{embed.Config{BaseURL: "http://localhost:11434/v1", Model: "nomic-embed-text"}, "dimensions"},
			{embed.Config{APIKey: "k", BatchSize: 5000}, "batch_size"},
		} {
			_, err := embed.NewOpenAI(tc.cfg)
			found := false
			for _, e := range mdk.AllErrors(err) {
				found = found || (e.Code == mdk.CodeInvalid && e.Field == tc.field)
			}
			if !found {
				t.Errorf("config %+v: got %v, want an invalid error on %s", tc.cfg, err, tc.field)
			}
		}
		e, err := embed.NewOpenAI(embed.Config{APIKey: "k"})
		if err != nil || e.Model() != "text-embedding-3-small@1536" {
			t.Errorf("OpenAI defaults: got %v, %v; want text-embedding-3-small@1536", e, err)
		}
	})
}
