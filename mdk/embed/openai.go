package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hyperrr/hyperrr/mdk"
)

// OpenAIBaseURL is the endpoint used when Config.BaseURL is empty.
const OpenAIBaseURL = "https://api.openai.com/v1"

// nativeDims are the vector lengths of OpenAI's embedding models, so that
// Dimensions may be left out for them.
var nativeDims = map[string]int{
	"text-embedding-3-small": 1536,
	"text-embedding-3-large": 3072,
	"text-embedding-ada-002": 1536,
}

// Config configures an OpenAI-compatible embedder.
type Config struct {
	// BaseURL is the API root, e.g. "http://localhost:11434/v1" for Ollama
	// or "http://vllm:8000/v1"; empty means OpenAI.
	BaseURL string
	// Model is the embedding model; empty means "text-embedding-3-small"
	// on OpenAI and is an error elsewhere.
	Model string
	// APIKey is sent as a bearer token; OpenAI needs one, local servers
	// usually do not.
	APIKey string
	// Dimensions is the vector length. For text-embedding-3 models it is
	// sent to shorten the vectors; for any other model it must be the
	// model's own length, and is checked against every response. It may
	// be left out only for OpenAI's models.
	Dimensions int
	// BatchSize is how many texts go in one request (default 64).
	BatchSize int
	// MaxRetries is how many times a request that failed with a
	// connection error, 408, 409, 429 or 5xx is retried, with exponential
	// backoff (from 0.5 s, honouring Retry-After) that ctx cuts short.
	// Zero means 2; negative means none.
	MaxRetries int
	// Timeout bounds each request attempt (default 60 s).
	Timeout time.Duration
	// HTTPClient replaces the default HTTP client (for tests and proxies).
	HTTPClient *http.Client
}

// OpenAI is an Embedder over any OpenAI-compatible embeddings endpoint
// (POST {BaseURL}/embeddings): OpenAI, Ollama, vLLM, llama.cpp, LocalAI.
type OpenAI struct {
	client     openai.Client
	baseURL    string
	model      string
	dims       int
	sendDims   bool
	batch      int
	maxRetries int
}

// NewOpenAI checks cfg and returns an embedder. It makes no request: an
// endpoint that is down or a key that is wrong shows on the first Embed.
// A configuration error is an invalid *mdk.Error naming the setting.
func NewOpenAI(cfg Config) (*OpenAI, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	onOpenAI := base == ""
	if onOpenAI {
		base = OpenAIBaseURL
	}
	var errs []error
	if onOpenAI && cfg.APIKey == "" {
		errs = append(errs, mdk.Invalid("api_key", "set the API key: OpenAI's embeddings endpoint needs one"))
	}
	model := cfg.Model
	if model == "" && onOpenAI {
		model = "text-embedding-3-small"
	}
	if model == "" {
		errs = append(errs, mdk.Invalid("model", "name the embedding model served at %s", base))
	}
	dims := cfg.Dimensions
	if dims == 0 {
		dims = nativeDims[model]
	}
	if dims <= 0 && model != "" {
		errs = append(errs, mdk.Invalid("dimensions", "set the vector length of model %q (e.g. 768 for nomic-embed-text, 1024 for bge-m3)", model))
	}
	if cfg.BatchSize < 0 || cfg.BatchSize > 2048 {
		errs = append(errs, mdk.Invalid("batch_size", "batch size must be between 1 and 2048, got %d", cfg.BatchSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e := &OpenAI{
		baseURL:    base,
		model:      model,
		dims:       dims,
		sendDims:   strings.HasPrefix(model, "text-embedding-3") && cfg.Dimensions > 0,
		batch:      cfg.BatchSize,
		maxRetries: cfg.MaxRetries,
	}
	if e.batch == 0 {
		e.batch = 64
	}
	switch {
	case e.maxRetries == 0:
		e.maxRetries = 2
	case e.maxRetries < 0:
		e.maxRetries = 0
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	opts := []option.RequestOption{
		// Both are always set, so OPENAI_* variables in the environment
		// never silently override the configuration.
		option.WithBaseURL(base + "/"),
		option.WithAPIKey(cfg.APIKey),
		option.WithMaxRetries(e.maxRetries),
		option.WithRequestTimeout(timeout),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	e.client = openai.NewClient(opts...)
	return e, nil
}

// Model names the model and the vector length, e.g.
// "text-embedding-3-small@1536": shortened vectors are not comparable with
// full ones.
func (e *OpenAI) Model() string { return fmt.Sprintf("%s@%d", e.model, e.dims) }

// Dimensions is the length of every vector.
func (e *OpenAI) Dimensions() int { return e.dims }

// Embed returns one unit vector per text, requesting BatchSize texts at a
// time. Errors are *mdk.Error: unavailable when the endpoint cannot be
// reached, rate-limits or fails after the retries (retryable), or rejects
// the key or the model (not retryable, the message says what to fix);
// invalid when the vectors do not have Dimensions. A cancelled ctx returns
// its error.
func (e *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		vecs, err := e.embedBatch(ctx, texts[start:min(start+e.batch, len(texts))])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (e *OpenAI) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	input := make([]string, len(texts))
	for i, t := range texts {
		// OpenAI rejects an empty string; a space embeds as "nothing".
		if strings.TrimSpace(t) == "" {
			t = " "
		}
		input[i] = t
	}
	params := openai.EmbeddingNewParams{
		Model: openai.EmbeddingModel(e.model),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: input},
	}
	if e.sendDims {
		params.Dimensions = openai.Int(int64(e.dims))
	}
	res, err := e.client.Embeddings.New(ctx, params)
	if err != nil {
		return nil, e.requestError(ctx, err)
	}
	if len(res.Data) != len(texts) {
		return nil, mdk.Unavailable(nil, "the embeddings endpoint at %s returned %d vectors for %d texts", e.baseURL, len(res.Data), len(texts))
	}
	out := make([][]float32, len(texts))
	for _, d := range res.Data {
		i := int(d.Index)
		if i < 0 || i >= len(out) || out[i] != nil {
			return nil, mdk.Unavailable(nil, "the embeddings endpoint at %s returned a bad or repeated index %d", e.baseURL, d.Index)
		}
		if len(d.Embedding) != e.dims {
			return nil, mdk.Invalid("dimensions", "model %q at %s returns %d-dimensional vectors but the embedder is set to %d: set Dimensions to %d (and rebuild the vector index)",
				e.model, e.baseURL, len(d.Embedding), e.dims, len(d.Embedding))
		}
		v, ok := unit(d.Embedding)
		if !ok {
			return nil, mdk.Unavailable(nil, "model %q at %s returned a zero or non-finite vector for text %d", e.model, e.baseURL, i)
		}
		out[i] = v
	}
	return out, nil
}

// requestError turns a failed request into an error that says what to do.
func (e *OpenAI) requestError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("embed texts: %w", ctxErr)
	}
	var api *openai.Error
	if !errors.As(err, &api) {
		return mdk.Unavailable(err, "cannot reach the embeddings endpoint at %s", e.baseURL)
	}
	fatal := func(format string, args ...any) error {
		return &mdk.Error{Code: mdk.CodeUnavailable, Message: fmt.Sprintf(format, args...), Cause: err}
	}
	detail := api.Message
	if detail == "" {
		detail = http.StatusText(api.StatusCode)
	}
	switch {
	case api.StatusCode == http.StatusUnauthorized || api.StatusCode == http.StatusForbidden:
		return fatal("the embeddings endpoint at %s refused the API key (HTTP %d: %s): check the embedder's API key", e.baseURL, api.StatusCode, detail)
	case api.StatusCode == http.StatusNotFound || api.Code == "model_not_found":
		return fatal("model %q was not found at %s (HTTP %d: %s): check the model name and the base URL (it usually ends in /v1), or pull the model into the server (e.g. ollama pull %s)", e.model, e.baseURL, api.StatusCode, detail, e.model)
	case api.StatusCode == http.StatusTooManyRequests:
		return mdk.Unavailable(err, "the embeddings endpoint at %s is rate-limiting requests (still after %d retries): try again later or lower the batch size", e.baseURL, e.maxRetries)
	case api.StatusCode >= 500 || api.StatusCode == http.StatusRequestTimeout || api.StatusCode == http.StatusConflict:
		return mdk.Unavailable(err, "the embeddings endpoint at %s failed (HTTP %d: %s) after %d retries", e.baseURL, api.StatusCode, detail, e.maxRetries)
	default:
		return fatal("the embeddings endpoint at %s rejected the request for model %q (HTTP %d: %s)", e.baseURL, e.model, api.StatusCode, detail)
	}
}

// unit converts a vector to float32 at unit length: OpenAI's vectors are
// normalised already, other servers' not always.
func unit(v []float64) ([]float32, bool) {
	var sum float64
	for _, x := range v {
		sum += x * x
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return nil, false
	}
	inv := 1 / math.Sqrt(sum)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x * inv)
	}
	return out, true
}
