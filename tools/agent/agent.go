// Package agent is the merchant catalog agent: a merchant chats in plain
// language and a model reached through any OpenAI-compatible chat
// completions API (OpenAI, Ollama, vLLM, llama.cpp) acts through the
// merchant operations of the server's one operation registry.
//
// Safety does not depend on the model behaving. Product text and every tool
// result reach the model as tool-message data, marked untrusted; and calls
// that destroy or change a lot (destructive operations, stock to zero,
// hiding products, price changes over a limit in one turn) are never run
// when the model asks: they are stored as a proposal and run, exactly as
// stored, only when the merchant confirms that proposal. So an instruction
// hidden in a product description can at most produce a proposal the
// merchant declines. Every executed call, proposal and decision is an
// agent.action event in the agent schema's outbox.
package agent

import (
	"encoding/json"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// Role of a chat message.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one stored chat message, provider-neutral.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content,omitempty"`
	// Calls are the tool calls of an assistant message.
	Calls []Call `json:"calls,omitempty"`
	// CallID is the call a tool message answers.
	CallID string `json:"call_id,omitempty"`
}

// Call is one operation call, as the model asked for it.
type Call struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Outcome is what one executed call returned.
type Outcome struct {
	CallID string          `json:"call_id"`
	Name   string          `json:"name"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	// Errors are the operation's errors, one per bad field.
	Errors []*mdk.Error `json:"errors,omitempty"`
	// Skipped: not run (an earlier call of the proposal failed, its
	// pre-flight check failed, or it was interrupted before this call).
	Skipped bool `json:"skipped,omitempty"`
}

// ProposalStatus is where a proposal is in its life.
type ProposalStatus string

const (
	ProposalPending  ProposalStatus = "pending"
	ProposalApplying ProposalStatus = "applying"
	ProposalApplied  ProposalStatus = "applied"
	ProposalFailed   ProposalStatus = "failed"
	ProposalDeclined ProposalStatus = "declined"
	// ProposalExpired: the merchant moved on without deciding.
	ProposalExpired ProposalStatus = "expired"
	// ProposalInterrupted: the instance applying it stopped (crash,
	// kill) before it finished; its results say which calls ran, which
	// may have run and which did not.
	ProposalInterrupted ProposalStatus = "interrupted"
)

// Proposal is a set of calls waiting for the merchant's confirmation.
type Proposal struct {
	ID             string         `json:"id"`
	ConversationID string         `json:"conversation_id"`
	Status         ProposalStatus `json:"status"`
	Calls          []Call         `json:"calls"`
	// Reasons say why confirmation is needed, one per gated call.
	Reasons []string `json:"reasons"`
	// Summary describes the exact change in one line per call.
	Summary string    `json:"summary"`
	Results []Outcome `json:"results,omitempty"`
	Created time.Time `json:"created_at"`
	Decided time.Time `json:"decided_at,omitzero"`
}

// Conversation is a chat of one merchant key.
type Conversation struct {
	ID       string    `json:"id"`
	Owner    string    `json:"-"`
	Messages []Message `json:"messages"`
	Created  time.Time `json:"created_at"`
	Updated  time.Time `json:"updated_at"`
}

// Request is one merchant turn: a message, or a decision on a proposal.
type Request struct {
	// ConversationID continues a conversation; empty starts one.
	ConversationID string `json:"conversation_id,omitempty"`
	Message        string `json:"message,omitempty"`
	// Confirm runs the pending proposal with this ID, exactly as stored.
	// Typing "yes" as the message confirms the latest pending proposal.
	Confirm string `json:"confirm,omitempty"`
	// Decline drops the pending proposal with this ID ("no" does too).
	Decline string `json:"decline,omitempty"`
}

// EventType names a streamed event; the SSE edge uses it as the event name.
type EventType string

const (
	// EventConversation comes first: the conversation the turn belongs to.
	EventConversation EventType = "conversation"
	// EventText is a piece of the assistant's reply.
	EventText EventType = "text"
	// EventToolCall: the model asked for a call (not run yet).
	EventToolCall EventType = "tool_call"
	// EventToolStarted: a call is running.
	EventToolStarted EventType = "tool_started"
	// EventToolResult: a call finished, with its result or error.
	EventToolResult EventType = "tool_result"
	// EventConfirmation: calls were held for the merchant's confirmation.
	EventConfirmation EventType = "confirmation_required"
	// EventDone ends a turn that finished; Stop says how.
	EventDone EventType = "done"
	// EventError ends a turn that failed; Error says why and what to do.
	EventError EventType = "error"
)

// Stop says why a turn ended.
type Stop string

const (
	StopAnswered     Stop = "answered"              // the model replied
	StopConfirmation Stop = "confirmation_required" // calls wait for the merchant
	StopStepLimit    Stop = "step_limit"            // the model kept calling tools
	StopApplied      Stop = "proposal_applied"      // a confirmed proposal ran
	StopDeclined     Stop = "proposal_declined"
)

// Event is one item of a turn's stream.
type Event struct {
	Type           EventType  `json:"type"`
	ConversationID string     `json:"conversation_id,omitempty"`
	Text           string     `json:"text,omitempty"`
	Call           *Call      `json:"call,omitempty"`
	Outcome        *Outcome   `json:"outcome,omitempty"`
	Proposal       *Proposal  `json:"proposal,omitempty"`
	Stop           Stop       `json:"stop,omitempty"`
	Error          *mdk.Error `json:"error,omitempty"`
}

// Emit receives a turn's events in order. It is called from the goroutine
// running the turn.
type Emit func(Event)
