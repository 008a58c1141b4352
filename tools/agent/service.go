package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/hyperrr/hyperrr/mdk"
)

// Config bounds what one turn may do.
type Config struct {
	// MaxSteps is how many times one merchant message may ask the model
	// (each answer may call tools); a model still calling tools then is
	// stopped with a message saying so.
	MaxSteps int
	// BulkLimit is how many price changes one merchant message may make
	// without confirmation.
	BulkLimit int
	// LLMTimeout bounds each model answer; LLMRetries is how often a
	// failed request (connection error, 429, 5xx) is retried.
	LLMTimeout time.Duration
	LLMRetries int
	// Lease is how long a turn holds its conversation without renewing
	// it; a running turn renews it every third of the lease. So a turn
	// whose instance stopped frees its conversation, and a proposal it was
	// applying is resolved as interrupted, one lease later.
	Lease time.Duration
}

// maxMessageLen bounds a merchant message.
const maxMessageLen = 8000

// applyTimeout bounds applying one confirmed proposal.
const applyTimeout = 10 * time.Minute

// Service runs agent turns. It is safe for concurrent use; turns on one
// conversation run one at a time.
type Service struct {
	cfg    Config
	store  *store
	ops    *mdk.Registry
	log    *slog.Logger
	llm    *llm
	llmErr error
	gate   gate

	toolsMu    sync.Mutex
	toolsCache *toolset
}

func newService(cfg Config, st *store, ops *mdk.Registry, log *slog.Logger) *Service {
	return &Service{cfg: cfg, store: st, ops: ops, log: log, llmErr: errNoLLM, gate: gate{bulkLimit: cfg.BulkLimit}}
}

// UseLLM sets the model the agent talks to; call it before serving. An
// incomplete configuration is not an error here: turns that need the model
// answer with an unavailable error naming the setting to fix, and the rest
// of the server runs as usual.
func (s *Service) UseLLM(cfg LLMConfig) {
	s.llm, s.llmErr = newLLM(cfg, s.cfg.LLMTimeout, s.cfg.LLMRetries)
}

// Ready returns nil when a model is configured, else the error turns
// answer with.
func (s *Service) Ready() error { return s.llmErr }

// Chat runs one merchant turn and streams its events to emit: first a
// conversation event, then text, tool and confirmation events, last done
// or error. The caller must be a merchant (the principal in ctx); its API
// key owns the conversation.
//
// Errors found before the conversation event (invalid request,
// unauthorized, forbidden, not_found for another key's conversation,
// conflict while another turn runs, unavailable when no model is
// configured) are only returned, so an edge can answer with a status.
// Later errors are emitted as the error event and returned too.
func (s *Service) Chat(ctx context.Context, req Request, emit Emit) error {
	p := mdk.PrincipalFrom(ctx)
	if err := merchantOnly(p); err != nil {
		return err
	}
	req.Message = strings.TrimSpace(req.Message)
	req.Confirm, req.Decline = strings.TrimSpace(req.Confirm), strings.TrimSpace(req.Decline)
	if err := req.validate(); err != nil {
		return err
	}
	if req.Message != "" && s.llmErr != nil && decision(req.Message) == "" {
		return s.llmErr
	}
	id, token := req.ConversationID, ""
	var err error
	if id == "" {
		if req.Message == "" {
			return mdk.Invalid("conversation_id", "a confirmation or decline needs the conversation_id of its proposal")
		}
		if id, token, err = s.store.create(ctx, p.KeyID, s.cfg.Lease); err != nil {
			return err
		}
	} else if token, err = s.store.hold(ctx, id, p.KeyID, s.cfg.Lease); err != nil {
		return err
	}
	defer func() {
		if err := s.store.release(ctx, id, token); err != nil {
			s.log.Warn("conversation stays busy until its lease ends", "conversation", id, "err", err)
		}
	}()
	defer s.keepHeld(ctx, id, token)()
	// Holding the conversation means any proposal still applying in it
	// lost its instance: resolve it before the turn reads the history.
	interrupted, err := s.resolveInterrupted(ctx, id, token, p.KeyID)
	if err != nil {
		return err
	}
	conv, err := s.store.conversation(ctx, id, p.KeyID)
	if err != nil {
		return err
	}
	t := &turn{s: s, conv: conv, keyID: p.KeyID, token: token, emit: emit}
	emit(Event{Type: EventConversation, ConversationID: id})
	for _, ip := range interrupted {
		emit(Event{Type: EventText, Text: interruptedSummary(ip) + "\n\n"})
	}
	err = t.run(ctx, req)
	if err != nil {
		e := mdk.AsError(err)
		if ctx.Err() != nil {
			e = &mdk.Error{Code: mdk.CodeUnavailable, Message: "the request was cancelled; calls already run in this turn are recorded", Cause: err}
		}
		if e.Code == mdk.CodeInternal {
			s.log.ErrorContext(ctx, "agent turn failed", "conversation", id, "err", err)
		}
		emit(Event{Type: EventError, ConversationID: id, Error: e})
	}
	return err
}

// run dispatches the request: a decision on a proposal, or a message.
func (t *turn) run(ctx context.Context, req Request) error {
	switch {
	case req.Confirm != "":
		return t.confirm(ctx, req.Confirm)
	case req.Decline != "":
		return t.decline(ctx, req.Decline)
	}
	if d := decision(req.Message); d != "" {
		p, err := t.s.store.pending(ctx, t.conv.ID, "")
		switch {
		case err == nil && d == "yes":
			return t.confirm(ctx, p.ID)
		case err == nil:
			return t.decline(ctx, p.ID)
		case mdk.ErrorCode(err) != mdk.CodeNotFound:
			return err
		}
		if t.s.llmErr != nil {
			return t.s.llmErr
		}
	}
	return t.message(ctx, req.Message)
}

// Conversation returns one of the calling merchant key's conversations.
// Errors: unauthorized, forbidden, not_found.
func (s *Service) Conversation(ctx context.Context, id string) (Conversation, error) {
	p := mdk.PrincipalFrom(ctx)
	if err := merchantOnly(p); err != nil {
		return Conversation{}, err
	}
	return s.store.conversation(ctx, id, p.KeyID)
}

// Conversations lists the calling merchant key's latest conversations
// (at most 50, without messages), most recently active first.
// Errors: unauthorized, forbidden.
func (s *Service) Conversations(ctx context.Context) ([]Conversation, error) {
	p := mdk.PrincipalFrom(ctx)
	if err := merchantOnly(p); err != nil {
		return nil, err
	}
	return s.store.list(ctx, p.KeyID, 50)
}

func merchantOnly(p mdk.Principal) error {
	switch {
	case p.IsMerchant():
		return nil
	case p.Role == mdk.RoleAnonymous:
		return &mdk.Error{Code: mdk.CodeUnauthorized, Message: "the catalog agent needs a merchant API key: send Authorization: Bearer <key>"}
	default:
		return &mdk.Error{Code: mdk.CodeForbidden, Message: fmt.Sprintf("the catalog agent is for merchants; this key's role is %s", p.Role)}
	}
}

func (r Request) validate() error {
	n := 0
	for _, v := range []string{r.Message, r.Confirm, r.Decline} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return mdk.Invalid("message", "send exactly one of message, confirm (a proposal ID) or decline (a proposal ID)")
	}
	if len(r.Message) > maxMessageLen {
		return mdk.Invalid("message", "a message may have at most %d characters, this one has %d", maxMessageLen, len(r.Message))
	}
	return nil
}

// decision reads a bare yes or no, which answers the pending proposal.
func decision(msg string) string {
	switch strings.ToLower(strings.Trim(msg, " .!")) {
	case "yes", "y", "confirm", "confirmed", "ok", "okay", "go ahead", "do it", "apply":
		return "yes"
	case "no", "n", "decline", "cancel", "don't", "stop":
		return "no"
	}
	return ""
}

// toolset is the operations offered to the model, with their tool
// definitions encoded once.
type toolset struct {
	ops    map[string]mdk.OpInfo
	params []openai.ChatCompletionToolUnionParam
	size   int // operations in the registry when built
}

// tools returns the operations offered to the model: everything a
// merchant may call except shopper-side writes (carts, checkouts), which
// are not catalog management. Every merchant gets the same set, so it is
// built once, and again only if operations were registered since.
func (s *Service) tools() (*toolset, error) {
	all := s.ops.ListFor(mdk.Principal{Role: mdk.RoleMerchant})
	s.toolsMu.Lock()
	defer s.toolsMu.Unlock()
	if s.toolsCache != nil && s.toolsCache.size == len(all) {
		return s.toolsCache, nil
	}
	ts := &toolset{ops: map[string]mdk.OpInfo{}, size: len(all)}
	var offered []mdk.OpInfo
	for _, op := range all {
		if op.Access == mdk.AccessMerchant || op.Effect == mdk.EffectRead {
			ts.ops[op.Name] = op
			offered = append(offered, op)
		}
	}
	params, err := toolParams(offered)
	if err != nil {
		return nil, mdk.Internal(err)
	}
	ts.params = params
	s.toolsCache = ts
	return ts, nil
}
