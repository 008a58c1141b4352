package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/tools/agent"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

// post sends a chat request to /agent/chat with key and returns the
// response.
func post(t *testing.T, url, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/agent/chat", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestChatOverHTTP(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			e := open(t, engine, true)
			srv := httptest.NewServer(e.g.Handler())
			t.Cleanup(srv.Close)
			ctx := context.Background()
			key, _, err := e.g.Keys().Create(ctx, mdk.RoleMerchant, "", "agent test")
			if err != nil {
				t.Fatal(err)
			}
			shopperKey, _, err := e.g.Keys().Create(ctx, mdk.RoleShopper, "c1", "shopper")
			if err != nil {
				t.Fatal(err)
			}

			t.Run("OK", func(t *testing.T) {
				e.llm.Add(llmtest.Step{Calls: []llmtest.ToolCall{llmtest.Call("create_product", oakTables)}}, llmtest.Step{Text: "Created the oak table."})
				res := post(t, srv.URL, key, `{"message":"add oak tables"}`)
				if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
					t.Fatalf("status %d, type %s", res.StatusCode, res.Header.Get("Content-Type"))
				}
				raw, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(raw), "event: conversation\ndata: {") || !strings.Contains(string(raw), "event: tool_result\n") {
					t.Errorf("stream: %.300s", raw)
				}
				var types []agent.EventType
				var text strings.Builder
				if err := agent.ReadSSE(strings.NewReader(string(raw)), func(ev agent.Event) error {
					types = append(types, ev.Type)
					text.WriteString(ev.Text)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				want := []agent.EventType{agent.EventConversation, agent.EventToolCall, agent.EventToolStarted, agent.EventToolResult}
				if len(types) < 6 || strings.Join(strs(types[:4]), ",") != strings.Join(strs(want), ",") || types[len(types)-1] != agent.EventDone {
					t.Errorf("event types %v", types)
				}
				if text.String() != "Created the oak table." {
					t.Errorf("text %q", text.String())
				}
			})
			t.Run("ErrorsBeforeTheStream", func(t *testing.T) {
				for _, c := range []struct {
					name, key, body string
					status          int
				}{
					{"Anonymous", "", `{"message":"hi"}`, http.StatusUnauthorized},
					{"Shopper", shopperKey, `{"message":"hi"}`, http.StatusForbidden},
					{"BadJSON", key, `{"mesage":"hi"}`, http.StatusBadRequest},
					{"Empty", key, `{}`, http.StatusBadRequest},
					{"OtherConversation", key, `{"conversation_id":"conv_nope","message":"hi"}`, http.StatusNotFound},
				} {
					t.Run(c.name, func(t *testing.T) {
						res := post(t, srv.URL, c.key, c.body)
						var body struct{ Error mdk.Error }
						if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != c.status || body.Error.Message == "" {
							t.Errorf("status %d (want %d), body %+v, %v", res.StatusCode, c.status, body, err)
						}
					})
				}
			})
			t.Run("ModelDownAfterStart", func(t *testing.T) {
				e.llm.Add(llmtest.Step{Status: 500})
				res := post(t, srv.URL, key, `{"message":"hi"}`)
				var last agent.Event
				if err := agent.ReadSSE(res.Body, func(ev agent.Event) error { last = ev; return nil }); err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusOK || last.Type != agent.EventError || last.Error.Code != mdk.CodeUnavailable {
					t.Errorf("status %d, last event %+v", res.StatusCode, last)
				}
			})
			e.wantScriptDone(t)
		})
	}
}

func TestChatOverHTTPWithoutModel(t *testing.T) {
	e := open(t, dbtest.Engines()[0], false)
	srv := httptest.NewServer(e.g.Handler())
	t.Cleanup(srv.Close)
	key, _, err := e.g.Keys().Create(context.Background(), mdk.RoleMerchant, "", "agent test")
	if err != nil {
		t.Fatal(err)
	}
	res := post(t, srv.URL, key, `{"message":"hi"}`)
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), "HYPERRR_LLM_MODEL") {
		t.Errorf("status %d: %s", res.StatusCode, raw)
	}
	health, err := http.Get(srv.URL + "/healthz")
	if err != nil || health.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v %v", health, err)
	}
	health.Body.Close()
}

func TestSlowModelGetsKeepAlives(t *testing.T) {
	e := open(t, dbtest.Engines()[0], true)
	h := agent.ChatHandler{Service: e.svc, MaxBodyBytes: 1 << 20, KeepAlive: 20 * time.Millisecond,
		WriteError: func(w http.ResponseWriter, err error) { t.Errorf("unexpected error: %v", err) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(e.merchant))
	}))
	t.Cleanup(srv.Close)
	e.llm.Add(llmtest.Step{Delay: 200 * time.Millisecond, Text: "Slow but here."})
	raw, _ := io.ReadAll(post(t, srv.URL, "", `{"message":"hello"}`).Body)
	var text strings.Builder
	if err := agent.ReadSSE(strings.NewReader(string(raw)), func(ev agent.Event) error { text.WriteString(ev.Text); return nil }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), ": keep-alive\n\n") || text.String() != "Slow but here." {
		t.Errorf("stream: %s", raw)
	}
}

func strs(ts []agent.EventType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}
