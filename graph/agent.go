package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hyperrr/hyperrr/graph/model"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools/agent"
)

// The catalog agent's fields (@agent) run a turn of tools/agent rather
// than a registry operation: the agent is a client of the operations and
// checks the merchant itself, so these fields hand the request over and
// translate its events.

// agentService returns the catalog agent, or unavailable when this server
// has none.
func (r *Resolver) agentService() (*agent.Service, error) {
	if r.agent == nil {
		return nil, mdk.Errorf(mdk.CodeUnavailable, "this server runs no catalog agent")
	}
	return r.agent()
}

// chatAll runs one turn to completion and returns its events. Errors
// before the turn starts are the payload's errors (or top-level, for auth
// and availability, as for every mutation); a turn that fails after
// starting ends with its ERROR event, whose error the payload repeats.
func (r *Resolver) chatAll(ctx context.Context, input model.AgentChatInput) (*model.AgentChatPayload, error) {
	svc, err := r.agentService()
	if err != nil {
		return nil, err
	}
	out := &model.AgentChatPayload{Events: []*model.AgentEvent{}, Errors: []*model.UserError{}}
	conv := &agentEvents{r: r}
	err = svc.Chat(ctx, agentRequest(input), func(ev agent.Event) {
		e := conv.event(ctx, ev)
		if e == nil {
			return
		}
		// The reply streams in small pieces; a whole turn gives it in one
		// TEXT event per stretch of text.
		if n := len(out.Events); n > 0 && e.Type == model.AgentEventTypeText && out.Events[n-1].Type == model.AgentEventTypeText {
			joined := *out.Events[n-1].Text + *e.Text
			out.Events[n-1].Text = &joined
			return
		}
		out.Events = append(out.Events, e)
	})
	if conv.id != "" {
		out.ConversationID = &conv.id
	}
	switch {
	case err == nil:
	case len(out.Events) == 0:
		if out.Errors, err = userErrors(ctx, err); err != nil {
			return nil, err
		}
	default:
		if last := out.Events[len(out.Events)-1]; last.Error != nil {
			out.Errors = append(out.Errors, last.Error)
		} else {
			out.Errors = append(out.Errors, agentError(mdk.AsError(err)))
		}
	}
	return out, nil
}

// chatStream starts one turn and streams its events; the channel closes
// when the turn ends (the subscription then completes). An error before
// the first event is returned instead, so it answers the subscribe
// message. The client going away cancels the turn, as closing an
// /agent/chat stream does.
func (r *Resolver) chatStream(ctx context.Context, input model.AgentChatInput) (<-chan *model.AgentEvent, error) {
	svc, err := r.agentService()
	if err != nil {
		return nil, err
	}
	ch := make(chan *model.AgentEvent, 16)
	started, ended := make(chan struct{}), make(chan error, 1)
	conv := &agentEvents{r: r}
	var once sync.Once
	emit := func(ev agent.Event) {
		once.Do(func() { close(started) })
		e := conv.event(ctx, ev)
		if e == nil {
			return
		}
		select {
		case ch <- e:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(ch)
		ended <- r.runTurn(ctx, svc, agentRequest(input), emit)
	}()
	select {
	case <-started:
		return ch, nil
	case err := <-ended:
		select {
		case <-started: // events were sent before Chat returned
			return ch, nil
		default:
		}
		if err == nil {
			err = mdk.Internal(errNoEvents)
		}
		return nil, err
	}
}

// runTurn runs a turn outside the resolver's goroutine, where gqlgen's
// recovery does not reach: a panic becomes an internal error, ending a
// started stream with an ERROR event.
func (r *Resolver) runTurn(ctx context.Context, svc *agent.Service, req agent.Request, emit agent.Emit) (err error) {
	emitted := false
	defer func() {
		if p := recover(); p != nil {
			r.log.ErrorContext(ctx, "agent turn panicked", "panic", p, "stack", string(debug.Stack()))
			err = mdk.Internal(fmt.Errorf("agent turn panicked: %v", p))
			if emitted {
				emit(agent.Event{Type: agent.EventError, Error: mdk.AsError(err)})
			}
		}
	}()
	return svc.Chat(ctx, req, func(ev agent.Event) { emitted = true; emit(ev) })
}

var errNoEvents = errors.New("the agent turn ended without events")

// conversations lists the calling key's conversations, without messages.
func (r *Resolver) conversations(ctx context.Context) ([]*model.AgentConversation, error) {
	svc, err := r.agentService()
	if err != nil {
		return nil, err
	}
	list, err := svc.Conversations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.AgentConversation, len(list))
	for i, c := range list {
		out[i] = agentConversation(c)
	}
	return out, nil
}

// conversation returns one of the calling key's conversations; another
// key's, like a missing one, is null.
func (r *Resolver) conversation(ctx context.Context, id string) (*model.AgentConversation, error) {
	svc, err := r.agentService()
	if err != nil {
		return nil, err
	}
	c, err := svc.Conversation(ctx, id)
	if err != nil {
		return nullIfNotFound[model.AgentConversation](nil, err)
	}
	return agentConversation(c), nil
}

func agentConversation(c agent.Conversation) *model.AgentConversation {
	out := &model.AgentConversation{ID: c.ID, CreatedAt: c.Created.UTC().Format(time.RFC3339Nano),
		UpdatedAt: c.Updated.UTC().Format(time.RFC3339Nano), Messages: make([]*model.AgentMessage, len(c.Messages))}
	for i, m := range c.Messages {
		msg := &model.AgentMessage{Role: model.AgentRole(strings.ToUpper(string(m.Role))), Content: m.Content,
			ToolCalls: make([]*model.AgentToolCall, len(m.Calls))}
		for j, call := range m.Calls {
			msg.ToolCalls[j] = agentCall(call)
		}
		if m.CallID != "" {
			msg.ToolCallID = &m.CallID
		}
		out.Messages[i] = msg
	}
	return out
}

func agentRequest(in model.AgentChatInput) agent.Request {
	return agent.Request{ConversationID: deref(in.ConversationID), Message: deref(in.Message),
		Confirm: deref(in.Confirm), Decline: deref(in.Decline)}
}

// agentEvents translates one turn's events, giving each the conversation
// ID that only some of them carry.
type agentEvents struct {
	r  *Resolver
	id string
}

func (c *agentEvents) event(ctx context.Context, ev agent.Event) *model.AgentEvent {
	if ev.ConversationID != "" && c.id == "" {
		c.id = ev.ConversationID
	}
	typ := model.AgentEventType(strings.ToUpper(string(ev.Type)))
	if !typ.IsValid() {
		// A kind of event this schema does not know yet: leaving it out
		// loses detail, not the turn.
		c.r.log.WarnContext(ctx, "agent event not in the GraphQL schema", "type", ev.Type)
		return nil
	}
	out := &model.AgentEvent{Type: typ, ConversationID: c.id}
	if ev.Text != "" {
		out.Text = &ev.Text
	}
	if ev.Call != nil {
		out.ToolCall = agentCall(*ev.Call)
	}
	if o := ev.Outcome; o != nil {
		out.Outcome = &model.AgentToolOutcome{CallID: o.CallID, Name: o.Name, Ok: o.OK, Skipped: o.Skipped,
			Result: jsonText(o.Result), Errors: []*model.UserError{}}
		for _, e := range o.Errors {
			out.Outcome.Errors = append(out.Outcome.Errors, agentError(e))
		}
	}
	if p := ev.Proposal; p != nil {
		out.Proposal = &model.AgentProposal{ID: p.ID, Status: string(p.Status), Reasons: p.Reasons, Summary: p.Summary,
			Calls: make([]*model.AgentToolCall, len(p.Calls))}
		if out.Proposal.Reasons == nil {
			out.Proposal.Reasons = []string{}
		}
		for i, call := range p.Calls {
			out.Proposal.Calls[i] = agentCall(call)
		}
	}
	if ev.Stop != "" {
		stop := model.AgentStop(strings.ToUpper(string(ev.Stop)))
		if stop.IsValid() {
			out.Stop = &stop
		} else {
			c.r.log.WarnContext(ctx, "agent stop reason not in the GraphQL schema", "stop", ev.Stop)
		}
	}
	if ev.Error != nil {
		out.Error = agentError(ev.Error)
	}
	return out
}

func agentCall(c agent.Call) *model.AgentToolCall {
	args := "{}"
	if s := jsonText(c.Arguments); s != nil {
		args = *s
	}
	return &model.AgentToolCall{ID: c.ID, Name: c.Name, Arguments: args}
}

// agentError is an error of the agent or of an operation it called; its
// field is a path in the call's arguments, kept as the operation names it.
func agentError(e *mdk.Error) *model.UserError {
	ue := &model.UserError{Code: string(e.Code), Message: e.Message}
	if e.Field != "" {
		ue.Field = &e.Field
	}
	return ue
}

func jsonText(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	s := string(raw)
	return &s
}
