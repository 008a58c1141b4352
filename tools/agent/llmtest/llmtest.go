// Package llmtest is a scripted OpenAI-compatible chat completions server
// for tests: real HTTP, the real wire format (JSON, or Server-Sent Events
// chunks when the client streams), with replies taken from a script in
// order. It records every request so tests can check what the model was
// shown.
package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Step is one scripted reply.
type Step struct {
	// Text is the assistant's text.
	Text string
	// Calls are the tool calls of the reply.
	Calls []ToolCall
	// Status, when set, answers with this HTTP status and an OpenAI error.
	Status int
	// Hang never answers: the client has to give up.
	Hang bool
	// Delay waits this long before answering.
	Delay time.Duration
	// Func computes the reply from the request (e.g. to use IDs the
	// previous tool results returned).
	Func func(Request) Step
}

// ToolCall is a call the scripted model makes.
type ToolCall struct {
	Name      string
	Arguments string
}

// Call returns a tool call with v encoded as its arguments.
func Call(name string, v any) ToolCall {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("llmtest: encode arguments of %s: %v", name, err))
	}
	return ToolCall{Name: name, Arguments: string(raw)}
}

// Request is a chat completions request as the server received it.
type Request struct {
	Model    string    `json:"model"`
	Stream   bool      `json:"stream"`
	Messages []Message `json:"messages"`
	Tools    []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
}

// Message is one request message.
type Message struct {
	Role       string `json:"role"`
	Content    any    `json:"content"`
	ToolCallID string `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// Text returns the message content as a string.
func (m Message) Text() string {
	if s, ok := m.Content.(string); ok {
		return s
	}
	raw, _ := json.Marshal(m.Content) // decoded from JSON, so it encodes
	return string(raw)
}

// ToolNames lists the tools offered in the request.
func (r Request) ToolNames() []string {
	out := make([]string, len(r.Tools))
	for i, t := range r.Tools {
		out[i] = t.Function.Name
	}
	return out
}

// Last returns the last message of the request.
func (r Request) Last() Message { return r.Messages[len(r.Messages)-1] }

// Server replays a script.
type Server struct {
	// URL is the base URL to configure clients with (ends in /v1).
	URL string

	mu       sync.Mutex
	script   []Step
	requests []Request
	extra    int
	hang     chan struct{}
}

// New starts a server with the script; it stops when t ends.
func New(t testing.TB, steps ...Step) *Server {
	s := &Server{script: steps, hang: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { close(s.hang); srv.Close() })
	s.URL = srv.URL + "/v1"
	return s
}

// Add appends steps to the script.
func (s *Server) Add(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, steps...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Left is the number of steps not replayed yet; Unexpected the number of
// requests that came after the script ended.
func (s *Server) Left() (left, unexpected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script), s.extra
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("llmtest serves POST /v1/chat/completions, not %s %s", r.Method, r.URL.Path))
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "llmtest: bad request body: "+err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	if len(s.script) == 0 {
		s.extra++
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "llmtest: the script has no more replies")
		return
	}
	step := s.script[0]
	s.script = s.script[1:]
	s.mu.Unlock()
	if step.Func != nil {
		step = step.Func(req)
	}
	if step.Delay > 0 {
		select {
		case <-time.After(step.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case step.Hang:
		select {
		case <-r.Context().Done():
		case <-s.hang:
		}
		return
	case step.Status != 0:
		writeError(w, step.Status, fmt.Sprintf("scripted failure %d", step.Status))
		return
	}
	if req.Stream {
		stream(w, req.Model, step)
		return
	}
	complete(w, req.Model, step)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "server_error", "code": nil}}) //nolint:errcheck // test server
}

// complete answers without streaming: one chat.completion object.
func complete(w http.ResponseWriter, model string, step Step) {
	msg := map[string]any{"role": "assistant", "content": step.Text}
	finish := "stop"
	if len(step.Calls) > 0 {
		var calls []map[string]any
		for i, c := range step.Calls {
			calls = append(calls, map[string]any{"id": callID(i), "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Arguments}})
		}
		msg["tool_calls"], finish = calls, "tool_calls"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // test server
		"id": "chatcmpl-llmtest", "object": "chat.completion", "created": time.Now().Unix(), "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
	})
}

// stream answers as OpenAI streams: chat.completion.chunk objects as SSE
// data lines, text and tool arguments split across chunks, then [DONE].
func stream(w http.ResponseWriter, model string, step Step) {
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	created := time.Now().Unix()
	send := func(delta map[string]any, finish any) {
		chunk := map[string]any{
			"id": "chatcmpl-llmtest", "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		raw, _ := json.Marshal(chunk) // plain maps encode
		fmt.Fprintf(w, "data: %s\n\n", raw)
		if flusher != nil {
			flusher.Flush()
		}
	}
	send(map[string]any{"role": "assistant", "content": ""}, nil)
	for _, piece := range split(step.Text, 7) {
		send(map[string]any{"content": piece}, nil)
	}
	for i, c := range step.Calls {
		send(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": callID(i), "type": "function", "function": map[string]any{"name": c.Name, "arguments": ""},
		}}}, nil)
		for _, piece := range split(c.Arguments, 16) {
			send(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": piece}}}}, nil)
		}
	}
	finish := "stop"
	if len(step.Calls) > 0 {
		finish = "tool_calls"
	}
	send(map[string]any{}, finish)
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

func callID(i int) string { return fmt.Sprintf("call_%d_%d", time.Now().UnixNano(), i) }

// split cuts s into pieces of at most n bytes, never inside a UTF-8 rune.
func split(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		cut := min(n, len(s))
		for cut < len(s) && !utf8Start(s[cut]) {
			cut++
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Contains reports whether any message of the request contains sub.
func (r Request) Contains(sub string) bool {
	for _, m := range r.Messages {
		if strings.Contains(m.Text(), sub) {
			return true
		}
	}
	return false
}
