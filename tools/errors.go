package tools

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/hyperrr/hyperrr/mdk"
)

// errorKind is how the MCP edge presents one error code: the UCP severity
// and a hint saying what an agent should do next.
type errorKind struct {
	severity string
	hint     string
}

// errorKinds is the one table mapping error codes to MCP error results.
// Every error becomes an isError result (the agent can read it and act);
// only malformed JSON-RPC stays a protocol error, in mcp-go.
var errorKinds = map[mdk.Code]errorKind{
	mdk.CodeInvalid:       {"recoverable", "Fix the argument at path and call the tool again."},
	mdk.CodeNotFound:      {"recoverable", "Check the ID: use one returned by an earlier call (search_catalog for products). Carts, checkouts and orders are visible only to the key that created them."},
	mdk.CodeConflict:      {"recoverable", "The object changed state: read it again (get_cart, get_checkout, get_order) and decide from its current state."},
	mdk.CodeUnauthorized:  {"unrecoverable", "Connect with an API key: send Authorization: Bearer <key> (HTTP) or start hyperrr mcp with --api-key."},
	mdk.CodeForbidden:     {"unrecoverable", "This API key's role may not call this tool; tools/list shows the tools it may call."},
	mdk.CodeUnavailable:   {"recoverable", "A service the store depends on is briefly unavailable: retry the same call in a few seconds."},
	mdk.CodeInternal:      {"unrecoverable", "The store failed unexpectedly; nothing in the request needs to change. Retry later or tell the buyer."},
	"out_of_stock":        {"recoverable", "Lower the quantity or choose another variant (get_product shows availability), then try again."},
	"payment_declined":    {"requires_buyer_input", "Ask the buyer for another payment method, set it with update_checkout, then call complete_checkout with a NEW idempotency-key."},
	"requires_escalation": {"requires_buyer_input", "Send the buyer to the checkout's continue_url to finish."},
	"reservation_expired": {"recoverable", "The held stock was released: call complete_checkout again with a new idempotency-key."},
}

// defaultKind is for domain codes the table does not list.
var defaultKind = errorKind{"recoverable", "Read the message and change the request accordingly."}

// errorMessage is one UCP error message (common/types/message_error.json)
// with the hint beside it.
type errorMessage struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Path      string `json:"path,omitempty"`
	Content   string `json:"content"`
	Severity  string `json:"severity"`
	Hint      string `json:"hint"`
	Retryable bool   `json:"retryable,omitempty"`
}

// errorResult turns err into an isError result: a UCP error_response
// (ucp envelope with status error, messages) as structured content, and the
// same in words as text. Internal causes never leave the server.
func (t *tool) errorResult(err error) *mcp.CallToolResult {
	all := mdk.AllErrors(err)
	msgs := make([]errorMessage, 0, len(all))
	var text strings.Builder
	for _, e := range all {
		k, ok := errorKinds[e.Code]
		if !ok {
			k = defaultKind
		}
		m := errorMessage{Type: "error", Code: string(e.Code), Path: t.argPath(e.Field), Content: e.Message, Severity: k.severity, Hint: k.hint, Retryable: e.Retryable}
		msgs = append(msgs, m)
		fmt.Fprintf(&text, "Error %s", m.Code)
		if m.Path != "" {
			fmt.Fprintf(&text, " at %s", m.Path)
		}
		fmt.Fprintf(&text, ": %s\nHint: %s\n", m.Content, m.Hint)
	}
	doc := map[string]any{"messages": msgs}
	if t.ucp != nil {
		doc["ucp"] = map[string]string{"version": UCPVersion, "status": "error"}
	}
	raw, mErr := json.Marshal(doc)
	res := &mcp.CallToolResult{IsError: true, Content: []mcp.Content{mcp.NewTextContent(strings.TrimSuffix(text.String(), "\n"))}}
	if mErr == nil {
		res.StructuredContent = json.RawMessage(raw)
	}
	return res
}

// argPath turns an operation's field path (line_items[0].quantity) into
// the JSONPath of the tool argument ($.cart.line_items[0].quantity). Paths
// already in argument terms ($...) are kept.
func (t *tool) argPath(field string) string {
	switch {
	case field == "":
		return ""
	case strings.HasPrefix(field, "$"):
		return field
	case t.ucp == nil:
		return "$." + field
	}
	m := t.ucp.method
	head, _, _ := strings.Cut(field, ".")
	head, _, _ = strings.Cut(head, "[")
	switch {
	case m.IdempotencyKey != "" && head == m.IdempotencyKey:
		return "$.meta." + metaIdempotency
	case m.IDParam && head == argID:
		return "$." + field
	case m.Object != "":
		return "$." + m.Object + "." + field
	}
	return "$." + field
}
