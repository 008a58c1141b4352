package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// Each operation commits on its own, so a proposal can't be applied in
// one transaction. What can fail is caught before any call runs instead:
// every call is checked exactly as the registry would run it (known tool,
// access, JSON Schema, the input's Validate) when the proposal is made and
// again when it is confirmed, and on confirmation every product or variant
// a call names must still exist. Only a failure inside an operation (a
// conflict, the database going away) can stop a proposal part way, and
// then the merchant is told exactly which calls ran.

// resolver is the read operation that finds a product or variant by ID;
// refFields are the argument fields that may hold such an ID, and
// refPrefixes the ID prefixes of the catalog (other IDs, such as order
// IDs, are left to their operation).
const resolver = "get_product_admin"

var (
	refFields   = []string{"id", "product_id", "variant_id"}
	refPrefixes = []string{"prod_", "var_"}
)

// preflight checks calls without running any and returns each call's
// errors (none when it would run as asked) and whether any call has one.
func (s *Service) preflight(ctx context.Context, ops map[string]mdk.OpInfo, calls []Call) ([][]*mdk.Error, bool) {
	errs := make([][]*mdk.Error, len(calls))
	looked := map[string]*mdk.Error{} // ID → its lookup error, nil when found
	bad := false
	for i, c := range calls {
		if e := argsError(ops, c); e != nil {
			errs[i] = []*mdk.Error{e}
		} else if err := s.ops.Check(ctx, c.Name, c.Arguments); err != nil {
			errs[i] = mdk.AllErrors(err)
		} else {
			errs[i] = s.references(ctx, ops, c, looked)
		}
		bad = bad || len(errs[i]) > 0
	}
	return errs, bad
}

// references looks up every catalog ID c names, once per ID per check.
func (s *Service) references(ctx context.Context, ops map[string]mdk.OpInfo, c Call, looked map[string]*mdk.Error) []*mdk.Error {
	if _, ok := ops[resolver]; !ok {
		return nil
	}
	var args map[string]any
	if json.Unmarshal(c.Arguments, &args) != nil {
		return nil
	}
	var out []*mdk.Error
	for _, f := range refFields {
		id, _ := args[f].(string)
		id = strings.TrimSpace(id)
		if !hasAnyPrefix(id, refPrefixes) {
			continue
		}
		e, seen := looked[id]
		if !seen {
			in, _ := json.Marshal(map[string]string{"id": id}) // strings always encode
			if _, err := s.ops.CallJSON(ctx, resolver, in); err != nil {
				e = mdk.AsError(err)
			}
			looked[id] = e
		}
		switch {
		case e == nil:
		case e.Code == mdk.CodeNotFound:
			out = append(out, &mdk.Error{Code: mdk.CodeNotFound, Field: f,
				Message: fmt.Sprintf("%s names no product or variant (removed since, or never existed): look it up again", id)})
		default:
			out = append(out, &mdk.Error{Code: e.Code, Field: f, Retryable: e.Retryable,
				Message: fmt.Sprintf("could not check that %s exists: %s", id, e.Message)})
		}
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}

// unproposed answers held calls that can't be proposed because some are
// invalid: each invalid call gets its errors, the others a note that they
// were not run either.
func (t *turn) unproposed(held []Call, errs [][]*mdk.Error) []Message {
	var bad []string
	for i, e := range errs {
		if len(e) > 0 {
			bad = append(bad, fmt.Sprintf("%s (call id %s)", held[i].Name, held[i].ID))
		}
	}
	out := make([]Message, 0, len(held))
	for i, c := range held {
		o := Outcome{CallID: c.ID, Name: c.Name, Errors: errs[i]}
		if len(o.Errors) == 0 {
			o.Skipped = true
			o.Errors = []*mdk.Error{mdk.Errorf(mdk.CodeConflict,
				"not run and not proposed: these calls need the merchant's confirmation together, and %s is invalid. Fix it, then make all the calls again", strings.Join(bad, ", "))}
		}
		t.emit(Event{Type: EventToolResult, Outcome: &o})
		out = append(out, toolMessage(o))
	}
	return out
}

// confirm runs a pending proposal's calls exactly as stored, in order,
// once all of them pass the pre-flight check; a call failing at run time
// stops it and the rest are reported skipped. Each outcome is recorded as
// it comes, so an instance that stops part way leaves an honest record
// (see resolveInterrupted). The model is not asked again: confirming works
// even with the model down.
func (t *turn) confirm(ctx context.Context, proposalID string) error {
	p, err := t.s.store.pending(ctx, t.conv.ID, proposalID)
	if err != nil {
		return err
	}
	if err := t.s.store.claim(ctx, t.keyID, p, ProposalApplying, "confirmed"); err != nil {
		return err
	}
	// A confirmed proposal runs to its end even if the client leaves, so
	// it is never left half-applied by a closed connection.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	ts, err := t.s.tools()
	if err != nil {
		return err
	}
	if errs, bad := t.s.preflight(ctx, ts.ops, p.Calls); bad {
		return t.reject(ctx, p, errs)
	}
	failed := false
	for i, c := range p.Calls {
		c.ID = callID(&p, i)
		var o Outcome
		if failed {
			o = Outcome{CallID: c.ID, Name: c.Name, Skipped: true,
				Errors: []*mdk.Error{mdk.Errorf(mdk.CodeConflict, "not run: an earlier call of proposal %s failed", p.ID)}}
			t.emit(Event{Type: EventToolResult, Outcome: &o})
			p.Results = append(p.Results, o)
			continue
		}
		o = t.call(ctx, ts.ops, c)
		p.Results = append(p.Results, o)
		if err := t.s.store.progress(ctx, t.token, t.keyID, &p, executed(c, o, p.ID)); err != nil {
			return err // the proposal stays applying; the next turn resolves it as interrupted
		}
		failed = !o.OK
	}
	n := applied(p.Results)
	p.Status, p.Decided = ProposalApplied, time.Now().UTC()
	summary := fmt.Sprintf("Applied proposal %s: %d of %d change(s) made.", p.ID, n, len(p.Calls))
	if failed {
		p.Status = ProposalFailed
		summary = fmt.Sprintf("Proposal %s stopped at a failing call: %d of %d change(s) made, the rest not run. See the errors above.", p.ID, n, len(p.Calls))
	}
	return t.decided(ctx, p, summary, nil)
}

// reject ends a confirmed proposal that failed its pre-flight check:
// nothing of it ran.
func (t *turn) reject(ctx context.Context, p Proposal, errs [][]*mdk.Error) error {
	var bad []string
	for i, c := range p.Calls {
		o := Outcome{CallID: callID(&p, i), Name: c.Name, Skipped: true, Errors: errs[i]}
		if len(errs[i]) > 0 {
			bad = append(bad, fmt.Sprintf("call %d (%s): %s", i+1, c.Name, errs[i][0].Error()))
		} else {
			o.Errors = []*mdk.Error{mdk.Errorf(mdk.CodeConflict, "not run: another call of proposal %s failed the check before applying", p.ID)}
		}
		t.emit(Event{Type: EventToolResult, Outcome: &o})
		p.Results = append(p.Results, o)
	}
	p.Status, p.Decided = ProposalFailed, time.Now().UTC()
	summary := fmt.Sprintf("Nothing was changed: proposal %s can't be applied as confirmed. %s. Ask again to get a new proposal.",
		p.ID, strings.Join(bad, "; "))
	return t.decided(ctx, p, summary, []Action{{Kind: "rejected", ProposalID: p.ID, Error: summary}})
}

// decided records a confirmed proposal's end (its calls, their outcomes
// and summary as conversation messages) and ends the turn.
func (t *turn) decided(ctx context.Context, p Proposal, summary string, actions []Action) error {
	rec := record{decided: &p, messages: proposalMessages(p, summary), actions: actions}
	if err := t.s.store.write(ctx, t.conv.ID, t.token, t.keyID, rec); err != nil {
		return err
	}
	t.emit(Event{Type: EventText, Text: summary})
	t.emit(Event{Type: EventDone, ConversationID: t.conv.ID, Stop: StopApplied, Proposal: &p})
	return nil
}

// proposalMessages renders a decided proposal for the conversation: the
// calls as an assistant message, one tool message per outcome, then the
// summary, so the model sees what ran.
func proposalMessages(p Proposal, summary string) []Message {
	asked := Message{Role: RoleAssistant}
	out := []Message{{}}
	for i, c := range p.Calls {
		c.ID = callID(&p, i)
		asked.Calls = append(asked.Calls, c)
		if i < len(p.Results) {
			out = append(out, toolMessage(p.Results[i]))
		}
	}
	out[0] = asked
	return append(out, Message{Role: RoleAssistant, Content: summary})
}

// callID names call i of p in the conversation.
func callID(p *Proposal, i int) string { return fmt.Sprintf("%s_%d", p.ID, i+1) }

// decline drops a pending proposal; nothing of it runs.
func (t *turn) decline(ctx context.Context, proposalID string) error {
	p, err := t.s.store.pending(ctx, t.conv.ID, proposalID)
	if err != nil {
		return err
	}
	if err := t.s.store.claim(ctx, t.keyID, p, ProposalDeclined, "declined"); err != nil {
		return err
	}
	p.Status, p.Decided = ProposalDeclined, time.Now().UTC()
	summary := fmt.Sprintf("Declined proposal %s: nothing was changed.", p.ID)
	rec := record{
		messages: []Message{{Role: RoleUser, Content: fmt.Sprintf("I decline proposal %s; do not apply it.", p.ID)}, {Role: RoleAssistant, Content: summary}},
	}
	if err := t.s.store.write(ctx, t.conv.ID, t.token, t.keyID, rec); err != nil {
		return err
	}
	t.emit(Event{Type: EventText, Text: summary})
	t.emit(Event{Type: EventDone, ConversationID: t.conv.ID, Stop: StopDeclined, Proposal: &p})
	return nil
}
