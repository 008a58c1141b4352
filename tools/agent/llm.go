package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/hyperrr/hyperrr/mdk"
)

// OpenAIBaseURL is the endpoint used when LLMConfig.BaseURL is empty.
const OpenAIBaseURL = "https://api.openai.com/v1"

// LLMConfig says which chat model the agent talks to.
type LLMConfig struct {
	// BaseURL is the API root (HYPERRR_LLM_BASE_URL), e.g.
	// http://localhost:11434/v1 for Ollama; empty means OpenAI.
	BaseURL string
	// Model is the chat model (HYPERRR_LLM_MODEL); it must call tools.
	Model string
	// APIKey is sent as a bearer token (OPENAI_API_KEY).
	APIKey string
	// HTTPClient replaces the default client (proxies, tests).
	HTTPClient *http.Client
}

// errNoLLM is the answer of every agent turn when no model is configured.
var errNoLLM = &mdk.Error{Code: mdk.CodeUnavailable, Message: "the catalog agent has no language model configured: set HYPERRR_LLM_MODEL " +
	"and HYPERRR_LLM_BASE_URL (any OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama), " +
	"or only HYPERRR_LLM_MODEL and OPENAI_API_KEY for OpenAI"}

// llm streams chat completions from an OpenAI-compatible server.
type llm struct {
	client  openai.Client
	baseURL string
	model   string
	timeout time.Duration
	retries int
}

// newLLM checks cfg; it makes no request. Errors are unavailable errors
// naming the setting to fix.
func newLLM(cfg LLMConfig, timeout time.Duration, retries int) (*llm, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	model := strings.TrimSpace(cfg.Model)
	switch {
	case base == "" && model == "":
		return nil, errNoLLM
	case model == "":
		return nil, mdk.Errorf(mdk.CodeUnavailable, "the catalog agent has no model: set HYPERRR_LLM_MODEL to a chat model served at %s that can call tools", base)
	case base == "" && cfg.APIKey == "":
		return nil, mdk.Errorf(mdk.CodeUnavailable, "the catalog agent talks to OpenAI (HYPERRR_LLM_BASE_URL is unset) but OPENAI_API_KEY is not set")
	}
	if base == "" {
		base = OpenAIBaseURL
	}
	opts := []option.RequestOption{
		// Both always set, so OPENAI_* variables never silently override
		// the configuration.
		option.WithBaseURL(base + "/"),
		option.WithAPIKey(cfg.APIKey),
		option.WithMaxRetries(retries),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &llm{client: openai.NewClient(opts...), baseURL: base, model: model, timeout: timeout, retries: retries}, nil
}

// complete asks the model for the next assistant message, streaming its
// text to onText as it arrives. Errors are unavailable errors saying what
// failed; a cancelled ctx returns its error.
func (l *llm) complete(ctx context.Context, msgs []openai.ChatCompletionMessageParamUnion, tools []openai.ChatCompletionToolUnionParam, onText func(string)) (Message, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(l.model), Messages: msgs, Tools: tools}
	stream := l.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		chunk := stream.Current()
		if !acc.AddChunk(chunk) {
			return Message{}, mdk.Unavailable(nil, "the model server at %s sent a malformed stream", l.baseURL)
		}
		for _, c := range chunk.Choices {
			if c.Index == 0 && c.Delta.Content != "" {
				onText(c.Delta.Content)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return Message{}, l.requestError(ctx, err)
	}
	if len(acc.Choices) == 0 {
		return Message{}, mdk.Unavailable(nil, "the model server at %s returned no answer", l.baseURL)
	}
	m := acc.Choices[0].Message
	out := Message{Role: RoleAssistant, Content: m.Content}
	for i, tc := range m.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}
		args := json.RawMessage(tc.Function.Arguments)
		switch {
		case strings.TrimSpace(tc.Function.Arguments) == "":
			args = json.RawMessage("{}")
		case !json.Valid(args):
			// Kept as a JSON string so it can be stored and shown; the
			// call is answered with an invalid error.
			args, _ = json.Marshal(tc.Function.Arguments) // a string always encodes
		}
		id := tc.ID
		if id == "" {
			// Some local servers leave IDs out; tool messages need one.
			id = fmt.Sprintf("call_%d_%d", time.Now().UnixNano(), i)
		}
		out.Calls = append(out.Calls, Call{ID: id, Name: tc.Function.Name, Arguments: args})
	}
	if out.Content == "" && len(out.Calls) == 0 && m.Refusal != "" {
		out.Content = m.Refusal
	}
	return out, nil
}

// requestError turns a failed request into an error that says what to do.
func (l *llm) requestError(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return mdk.Unavailable(err, "the model at %s did not answer within %s (HYPERRR_AGENT_LLM_TIMEOUT); nothing more was done, try again", l.baseURL, l.timeout)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("ask model: %w", ctx.Err())
	}
	var api *openai.Error
	if !errors.As(err, &api) {
		return mdk.Unavailable(err, "cannot reach the model server at %s (HYPERRR_LLM_BASE_URL): %v", l.baseURL, err)
	}
	detail := api.Message
	if detail == "" {
		detail = http.StatusText(api.StatusCode)
	}
	e := &mdk.Error{Code: mdk.CodeUnavailable, Cause: err}
	switch {
	case api.StatusCode == http.StatusUnauthorized || api.StatusCode == http.StatusForbidden:
		e.Message = fmt.Sprintf("the model server at %s refused the API key (HTTP %d: %s): check OPENAI_API_KEY", l.baseURL, api.StatusCode, detail)
	case api.StatusCode == http.StatusNotFound:
		e.Message = fmt.Sprintf("model %q was not found at %s (HTTP 404: %s): check HYPERRR_LLM_MODEL and HYPERRR_LLM_BASE_URL (it usually ends in /v1)", l.model, l.baseURL, detail)
	case api.StatusCode == http.StatusTooManyRequests || api.StatusCode >= 500:
		e.Retryable = true
		e.Message = fmt.Sprintf("the model server at %s failed (HTTP %d: %s) after %d retries; try again later", l.baseURL, api.StatusCode, detail, l.retries)
	default:
		e.Message = fmt.Sprintf("the model server at %s rejected the request for model %q (HTTP %d: %s)", l.baseURL, l.model, api.StatusCode, detail)
	}
	return e
}

// chatParams converts the stored conversation to the API's messages.
func chatParams(system string, msgs []Message) []openai.ChatCompletionMessageParamUnion {
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs)+1)
	out = append(out, openai.SystemMessage(system))
	for _, m := range msgs {
		switch m.Role {
		case RoleUser:
			out = append(out, openai.UserMessage(m.Content))
		case RoleTool:
			out = append(out, openai.ToolMessage(m.Content, m.CallID))
		case RoleAssistant:
			var p openai.ChatCompletionAssistantMessageParam
			if m.Content != "" {
				p.Content.OfString = openai.String(m.Content)
			}
			for _, c := range m.Calls {
				p.ToolCalls = append(p.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       c.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: string(c.Arguments)},
					},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &p})
		}
	}
	return out
}

// toolParams turns operations into function tools, with the operations'
// own descriptions and input schemas: the same registry MCP serves.
func toolParams(ops []mdk.OpInfo) ([]openai.ChatCompletionToolUnionParam, error) {
	out := make([]openai.ChatCompletionToolUnionParam, 0, len(ops))
	for _, op := range ops {
		raw, err := json.Marshal(op.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("encode schema of %s: %w", op.Name, err)
		}
		var params map[string]any
		if err := json.Unmarshal(raw, &params); err != nil {
			return nil, fmt.Errorf("decode schema of %s: %w", op.Name, err)
		}
		desc := op.Description
		if op.Effect == mdk.EffectDestructive {
			desc += " (The server holds this call for the merchant's confirmation.)"
		}
		out = append(out, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: op.Name, Description: openai.String(desc), Parameters: params,
		}))
	}
	return out, nil
}
