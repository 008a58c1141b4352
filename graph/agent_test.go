package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

// agentEvent is an AgentEvent as a client reads it.
type agentEvent struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	Text           *string
	ToolCall       *struct{ ID, Name, Arguments string } `json:"toolCall"`
	Outcome        *struct {
		Name   string      `json:"name"`
		OK     bool        `json:"ok"`
		Result *string     `json:"result"`
		Errors []userError `json:"errors"`
	} `json:"outcome"`
	Proposal *struct {
		ID, Status, Summary string
		Reasons             []string
		Calls               []struct{ ID, Name, Arguments string }
	} `json:"proposal"`
	Stop  *string
	Error *userError
	at    time.Time // when the client received it
}

const agentEventFields = `type conversationId text toolCall { id name arguments }
  outcome { name ok result errors { field code message } }
  proposal { id status summary reasons calls { id name arguments } } stop error { field code message }`

const agentChatMutation = `mutation($in: AgentChatInput!) {
  agentChat(input: $in) { conversationId events { ` + agentEventFields + ` } errors { field code message } }
}`

const agentChatSubscription = `subscription($in: AgentChatInput!) { agentChat(input: $in) { ` + agentEventFields + ` } }`

type agentPayload struct {
	ConversationID *string      `json:"conversationId"`
	Events         []agentEvent `json:"events"`
	Errors         []userError  `json:"errors"`
}

// agentTurn is what a client saw of one turn.
type agentTurn []agentEvent

func (tr agentTurn) types() string {
	var out []string
	for _, ev := range tr {
		out = append(out, ev.Type)
	}
	return strings.Join(out, ",")
}

func (tr agentTurn) text() string {
	var b strings.Builder
	for _, ev := range tr {
		if ev.Type == "TEXT" && ev.Text != nil {
			b.WriteString(*ev.Text)
		}
	}
	return b.String()
}

func (tr agentTurn) of(typ string) []agentEvent {
	var out []agentEvent
	for _, ev := range tr {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// wantDone checks the turn ran in conversation conv (any, when "") and
// ended with DONE and stop.
func (tr agentTurn) wantDone(t *testing.T, conv, stop string) {
	t.Helper()
	if len(tr) < 2 || tr[0].Type != "CONVERSATION" || tr[0].ConversationID == "" {
		t.Fatalf("events %s: want CONVERSATION first", tr.types())
	}
	for _, ev := range tr {
		if ev.ConversationID != tr[0].ConversationID || (conv != "" && ev.ConversationID != conv) {
			t.Errorf("%s event in conversation %q, want %q", ev.Type, ev.ConversationID, tr[0].ConversationID)
		}
	}
	if last := tr[len(tr)-1]; last.Type != "DONE" || last.Stop == nil || *last.Stop != stop {
		t.Fatalf("events %s, last %+v: want DONE/%s", tr.types(), last, stop)
	}
}

func (e *env) agentChat(t *testing.T, key string, in map[string]any) agentPayload {
	t.Helper()
	var out struct{ AgentChat agentPayload }
	e.do(t, key, agentChatMutation, map[string]any{"in": in}, &out)
	return out.AgentChat
}

// agentWS runs one subscription turn over graphql-transport-ws and returns
// its events, checking the server completes the subscription after the
// last one.
func (e *env) agentWS(t *testing.T, key string, in map[string]any) agentTurn {
	t.Helper()
	ws := e.dialWS(t, key)
	ws.subscribe("1", agentChatSubscription, map[string]any{"in": in})
	var tr agentTurn
	for {
		m := ws.next()
		if m.Type == "complete" {
			return tr
		}
		var p struct {
			Data struct {
				AgentChat *agentEvent `json:"agentChat"`
			} `json:"data"`
			Errors []gqlError `json:"errors"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || m.Type != "next" || len(p.Errors) > 0 || p.Data.AgentChat == nil {
			t.Fatalf("message %s %s after %s: %v", m.Type, m.Payload, tr.types(), err)
		}
		p.Data.AgentChat.at = time.Now()
		tr = append(tr, *p.Data.AgentChat)
	}
}

// agentWSRefused subscribes over graphql-transport-ws to a turn that must
// not start and returns the errors that answer it.
func (e *env) agentWSRefused(t *testing.T, key string, in map[string]any) []gqlError {
	t.Helper()
	ws := e.dialWS(t, key)
	ws.subscribe("1", agentChatSubscription, map[string]any{"in": in})
	m := ws.next()
	var p struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || m.Type != "next" || string(p.Data) != "null" {
		t.Fatalf("message %s %s: want no data and errors (%v)", m.Type, m.Payload, err)
	}
	return p.Errors
}

// agentSSE runs one subscription turn over GraphQL's SSE transport.
func (e *env) agentSSE(t *testing.T, key string, in map[string]any) agentTurn {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": agentChatSubscription, "variables": map[string]any{"in": in}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q, want text/event-stream", ct)
	}
	var tr agentTurn
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "event: complete" {
			return tr
		}
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "" {
			continue
		}
		var p struct {
			Data struct {
				AgentChat *agentEvent `json:"agentChat"`
			} `json:"data"`
			Errors []gqlError `json:"errors"`
		}
		if err := json.Unmarshal([]byte(data), &p); err != nil || len(p.Errors) > 0 || p.Data.AgentChat == nil {
			t.Fatalf("event %s after %s: %v", data, tr.types(), err)
		}
		p.Data.AgentChat.at = time.Now()
		tr = append(tr, *p.Data.AgentChat)
	}
	t.Fatalf("the stream ended without complete after %s: %v", tr.types(), sc.Err())
	return nil
}

// withModel points the server's catalog agent at a scripted model.
func withModel(llm *llmtest.Server) func(*gateway.Config) {
	return func(c *gateway.Config) { c.LLMBaseURL, c.LLMModel = llm.URL, "scripted-model" }
}

// adminPrices returns the price of every variant, by variant ID.
func (e *env) adminPrices(t *testing.T) map[string]int64 {
	t.Helper()
	var out struct {
		AdminProducts struct {
			Nodes []struct {
				Title    string
				Variants []struct {
					ID    string
					Price struct{ Amount int64 }
				}
			}
		}
	}
	e.do(t, e.merchant, `{ adminProducts(first: 50) { nodes { title variants { id price { amount } } } } }`, nil, &out)
	prices := map[string]int64{}
	for _, p := range out.AdminProducts.Nodes {
		for _, v := range p.Variants {
			prices[v.ID] = v.Price.Amount
		}
	}
	return prices
}

// TestAgentChat: a merchant chats with the catalog agent through GraphQL,
// the agent talking to a scripted OpenAI-compatible model over HTTP.
func TestAgentChat(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			llm := llmtest.New(t)
			e := newEnv(t, engine, withModel(llm))

			t.Run("MutationCreatesProduct", func(t *testing.T) {
				const reply = "Created Oak table with Small ($450) and Large ($650)."
				llm.Add(llmtest.Step{Calls: []llmtest.ToolCall{llmtest.Call("create_product", map[string]any{
					"title": "Oak table", "description": "Solid oak dining table.",
					"options": []any{map[string]any{"name": "Size", "values": []string{"Small", "Large"}}},
					"variants": []any{
						map[string]any{"sku": "OAK-S", "options": map[string]string{"Size": "Small"}, "price": 45000, "stock": 5},
						map[string]any{"sku": "OAK-L", "options": map[string]string{"Size": "Large"}, "price": 65000, "stock": 5},
					},
				})}}, llmtest.Step{Text: reply})
				out := e.agentChat(t, e.merchant, map[string]any{"message": "add oak tables, small at $450 and large at $650, 5 of each"})
				tr := agentTurn(out.Events)
				tr.wantDone(t, "", "ANSWERED")
				if len(out.Errors) > 0 || out.ConversationID == nil || *out.ConversationID != tr[0].ConversationID {
					t.Errorf("payload conversation %v, errors %+v", out.ConversationID, out.Errors)
				}
				if got := tr.of("TEXT"); len(got) != 1 || *got[0].Text != reply {
					t.Errorf("text events %+v, want the reply in one piece: %q", got, reply)
				}
				calls, results := tr.of("TOOL_CALL"), tr.of("TOOL_RESULT")
				if len(calls) != 1 || calls[0].ToolCall.Name != "create_product" || !strings.Contains(calls[0].ToolCall.Arguments, `"sku":"OAK-S"`) {
					t.Fatalf("tool calls: %+v", calls)
				}
				if len(results) != 1 || !results[0].Outcome.OK || results[0].Outcome.Result == nil || !strings.Contains(*results[0].Outcome.Result, `"Oak table"`) {
					t.Fatalf("tool results: %+v", results)
				}
				var p struct {
					AdminProducts struct {
						Nodes []struct {
							Title    string
							Variants []struct{ SKU string }
						}
					}
				}
				e.do(t, e.merchant, `{ adminProducts { nodes { title variants { sku } } } }`, nil, &p)
				if n := p.AdminProducts.Nodes; len(n) != 1 || n[0].Title != "Oak table" || len(n[0].Variants) != 2 {
					t.Errorf("catalog after the turn: %+v", n)
				}

				t.Run("StoredConversation", func(t *testing.T) {
					id := tr[0].ConversationID
					var c struct {
						AgentConversations []struct{ ID string }
						AgentConversation  *struct {
							ID       string
							Messages []struct {
								Role, Content string
								ToolCalls     []struct{ ID, Name string }
								ToolCallID    *string
							}
						}
					}
					e.do(t, e.merchant, `query($id: ID!) { agentConversations { id }
					  agentConversation(id: $id) { id createdAt updatedAt messages { role content toolCalls { id name } toolCallId } } }`,
						map[string]any{"id": id}, &c)
					if len(c.AgentConversations) != 1 || c.AgentConversations[0].ID != id {
						t.Errorf("agentConversations: %+v, want %s", c.AgentConversations, id)
					}
					conv := c.AgentConversation
					if conv == nil || len(conv.Messages) != 4 {
						t.Fatalf("agentConversation: %+v, want 4 messages", conv)
					}
					var roles []string
					for _, m := range conv.Messages {
						roles = append(roles, m.Role)
					}
					m := conv.Messages
					if strings.Join(roles, ",") != "USER,ASSISTANT,TOOL,ASSISTANT" || !strings.HasPrefix(m[0].Content, "add oak tables") ||
						len(m[1].ToolCalls) != 1 || m[1].ToolCalls[0].Name != "create_product" ||
						m[2].ToolCallID == nil || *m[2].ToolCallID != m[1].ToolCalls[0].ID || m[3].Content != reply {
						t.Errorf("messages: %+v", m)
					}
				})
			})

			t.Run("SubscriptionHoldsBulkChangeUntilConfirmed", func(t *testing.T) {
				var ids []string
				for i := range 4 {
					_, vs := e.createProduct(t, fmt.Sprintf("Oak side table %c", 'A'+i), variantSpec{fmt.Sprintf("SIDE-%c", 'A'+i), 10000, 3})
					ids = append(ids, vs[0])
				}
				var calls []llmtest.ToolCall
				for _, id := range ids {
					calls = append(calls, llmtest.Call("update_variant", map[string]any{"id": id, "price": 8500, "compare_at_price": 10000}))
				}
				llm.Add(llmtest.Step{Text: "Putting 4 tables 15% off.", Calls: calls})
				tr := e.agentWS(t, e.merchant, map[string]any{"message": "which oak tables are low on stock? put them 15% off"})
				tr.wantDone(t, "", "CONFIRMATION_REQUIRED")
				conv := tr[0].ConversationID
				if got := tr.text(); got != "Putting 4 tables 15% off." || len(tr.of("TEXT")) < 2 {
					t.Errorf("streamed text %q in %d pieces, want it in pieces as the model sends it", got, len(tr.of("TEXT")))
				}
				held := tr.of("CONFIRMATION_REQUIRED")
				if len(held) != 1 || held[0].Proposal == nil || len(held[0].Proposal.Calls) != 4 || len(held[0].Proposal.Reasons) == 0 ||
					held[0].Proposal.Status != "pending" || !strings.Contains(held[0].Proposal.Summary, `"price":8500`) {
					t.Fatalf("confirmation events: %+v", held)
				}
				if n := len(tr.of("TOOL_STARTED")); n != 0 {
					t.Errorf("%d calls started before confirmation", n)
				}
				before := e.adminPrices(t)
				for _, id := range ids {
					if before[id] != 10000 {
						t.Errorf("variant %s costs %d before confirmation", id, before[id])
					}
				}

				out := e.agentChat(t, e.merchant, map[string]any{"conversationId": conv, "confirm": held[0].Proposal.ID})
				done := agentTurn(out.Events)
				done.wantDone(t, conv, "PROPOSAL_APPLIED")
				if res := done.of("TOOL_RESULT"); len(res) != 4 || !res[0].Outcome.OK || res[0].Outcome.Name != "update_variant" {
					t.Errorf("tool results after confirming: %+v", res)
				}
				after := e.adminPrices(t)
				for _, id := range ids {
					if after[id] != 8500 {
						t.Errorf("variant %s costs %d after confirmation, want 8500", id, after[id])
					}
				}

				t.Run("ErrConfirmTwice", func(t *testing.T) {
					again := e.agentChat(t, e.merchant, map[string]any{"conversationId": conv, "confirm": held[0].Proposal.ID})
					// The turn starts (the conversation is the merchant's)
					// and ends with the ERROR event, which errors repeats.
					tr := agentTurn(again.Events)
					if tr.types() != "CONVERSATION,ERROR" || tr[1].Error == nil || tr[1].Error.Code != "conflict" ||
						len(again.Errors) != 1 || again.Errors[0] != *tr[1].Error || !strings.Contains(again.Errors[0].Message, "applied") {
						t.Errorf("second confirmation: %s %+v", tr.types(), again.Errors)
					}
					if got := e.adminPrices(t); got[ids[0]] != 8500 {
						t.Errorf("price after a second confirmation: %d", got[ids[0]])
					}
				})
				t.Run("ContinuedOverSSE", func(t *testing.T) {
					const think = 300 * time.Millisecond
					llm.Add(llmtest.Step{Delay: think, Text: "All four are now $85."})
					tr := e.agentSSE(t, e.merchant, map[string]any{"conversationId": conv, "message": "what do they cost now?"})
					tr.wantDone(t, conv, "ANSWERED")
					// Streamed: the conversation event came while the model
					// was still thinking, not with the answer.
					if gap := tr[len(tr)-1].at.Sub(tr[0].at); gap < think*2/3 {
						t.Errorf("first and last event %v apart, want the first before the model answered (%v)", gap, think)
					}
					if tr.text() != "All four are now $85." {
						t.Errorf("text %q", tr.text())
					}
					if reqs := llm.Requests(); !reqs[len(reqs)-1].Contains("15% off") {
						t.Errorf("the model did not see the earlier turns of the conversation")
					}
				})
			})

			t.Run("ErrInput", func(t *testing.T) {
				for _, c := range []struct {
					name            string
					in              map[string]any
					code, wantField string
				}{
					{"NothingToSay", map[string]any{}, "invalid", "message"},
					{"TwoThings", map[string]any{"message": "hi", "decline": "prop_x", "conversationId": "conv_x"}, "invalid", "message"},
					{"ConfirmWithoutConversation", map[string]any{"confirm": "prop_x"}, "invalid", "conversationId"},
					{"UnknownConversation", map[string]any{"conversationId": "conv_nope", "message": "hi"}, "not_found", ""},
				} {
					t.Run(c.name, func(t *testing.T) {
						out := e.agentChat(t, e.merchant, c.in)
						if len(out.Events) != 0 || out.ConversationID != nil || len(out.Errors) != 1 || out.Errors[0].Code != c.code || out.Errors[0].Message == "" {
							t.Fatalf("payload %+v, want one %s error", out, c.code)
						}
						if f := out.Errors[0].Field; (c.wantField == "") != (f == nil) || (f != nil && *f != c.wantField) {
							t.Errorf("error field %v, want %q", f, c.wantField)
						}
					})
				}
			})

			t.Run("ErrNotMerchant", func(t *testing.T) {
				for _, c := range []struct{ name, key, code string }{
					{"Shopper", e.alice, "forbidden"},
					{"Anonymous", "", "unauthorized"},
				} {
					t.Run(c.name, func(t *testing.T) {
						r := e.post(t, c.key, agentChatMutation, map[string]any{"in": map[string]any{"message": "archive everything"}})
						if len(r.Errors) != 1 || r.Errors[0].code() != c.code || !strings.Contains(r.Errors[0].Message, "merchant") {
							t.Errorf("mutation: %+v, want %s", r.Errors, c.code)
						}
					})
				}
				t.Run("Conversations", func(t *testing.T) {
					other, _, err := e.g.Keys().Create(context.Background(), mdk.RoleMerchant, "", "another merchant")
					if err != nil {
						t.Fatal(err)
					}
					const q = `query($id: ID!) { agentConversations { id } agentConversation(id: $id) { id } }`
					var c struct {
						AgentConversations []struct{ ID string }
						AgentConversation  *struct{ ID string }
					}
					e.do(t, other, q, map[string]any{"id": conversationOf(t, e)}, &c)
					if len(c.AgentConversations) != 0 || c.AgentConversation != nil {
						t.Errorf("another merchant key sees %+v", c)
					}
					if r := e.post(t, e.alice, q, map[string]any{"id": "conv_x"}); len(r.Errors) == 0 || r.Errors[0].code() != "forbidden" {
						t.Errorf("shopper reading conversations: %+v", r.Errors)
					}
				})
				t.Run("ShopperSubscription", func(t *testing.T) {
					errs := e.agentWSRefused(t, e.alice, map[string]any{"message": "archive everything"})
					if len(errs) != 1 || errs[0].code() != "forbidden" {
						t.Errorf("shopper subscribing: %+v", errs)
					}
				})
			})
			if left, extra := llm.Left(); left != 0 || extra != 0 {
				t.Errorf("scripted model: %d replies unused, %d unexpected requests", left, extra)
			}
		})
	}
}

// conversationOf returns one of the merchant's conversations.
func conversationOf(t *testing.T, e *env) string {
	t.Helper()
	var c struct{ AgentConversations []struct{ ID string } }
	e.do(t, e.merchant, `{ agentConversations { id } }`, nil, &c)
	if len(c.AgentConversations) == 0 {
		t.Fatal("the merchant has no conversations")
	}
	return c.AgentConversations[0].ID
}

// TestAgentChatWithoutModel: with no model configured the agent's fields
// say which settings to set, and the rest of the API works.
func TestAgentChatWithoutModel(t *testing.T) {
	e := newEnv(t, dbtest.Engines()[0], nil)
	wantSettings := func(t *testing.T, errs []gqlError) {
		t.Helper()
		if len(errs) != 1 || errs[0].code() != "unavailable" {
			t.Fatalf("errors %+v, want one unavailable", errs)
		}
		for _, s := range []string{"HYPERRR_LLM_BASE_URL", "HYPERRR_LLM_MODEL", "OPENAI_API_KEY"} {
			if !strings.Contains(errs[0].Message, s) {
				t.Errorf("message %q does not name %s", errs[0].Message, s)
			}
		}
	}
	t.Run("Mutation", func(t *testing.T) {
		r := e.post(t, e.merchant, agentChatMutation, map[string]any{"in": map[string]any{"message": "add a scarf"}})
		wantSettings(t, r.Errors)
	})
	t.Run("Subscription", func(t *testing.T) {
		wantSettings(t, e.agentWSRefused(t, e.merchant, map[string]any{"message": "add a scarf"}))
	})
	t.Run("RestOfTheAPI", func(t *testing.T) {
		e.createProduct(t, "Red Wool Scarf", variantSpec{"SCARF-1", 2500, 40})
		var out struct {
			AdminProducts      struct{ Nodes []struct{ Title string } }
			AgentConversations []struct{ ID string }
		}
		e.do(t, e.merchant, `{ adminProducts { nodes { title } } agentConversations { id } }`, nil, &out)
		if len(out.AdminProducts.Nodes) != 1 || out.AgentConversations == nil || len(out.AgentConversations) != 0 {
			t.Errorf("products %+v, conversations %+v", out.AdminProducts.Nodes, out.AgentConversations)
		}
	})
}
