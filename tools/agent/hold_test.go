package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/tools/agent"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

// otherHold is the hold another instance takes in these tests.
const otherHold = "hold_other_instance"

// takeOver does what another instance does once a turn stalled for over a
// lease: it holds the conversation with its own token, here for an hour.
// It may run on the scripted model's goroutine, so it does not stop the test.
func (e *env) takeOver(t *testing.T, conv string) int64 {
	t.Helper()
	until := time.Now().Add(time.Hour).UnixMilli()
	if _, err := e.g.DB().ExecContext(context.Background(), `UPDATE agent.conversations SET busy_until = $1, busy_token = $2 WHERE id = $3`,
		until, otherHold, conv); err != nil {
		t.Errorf("take over: %v", err)
	}
	return until
}

// holdOf reads conversation conv's hold.
func (e *env) holdOf(t *testing.T, conv string) (until int64, token string) {
	t.Helper()
	if err := e.g.DB().QueryRowContext(context.Background(), `SELECT busy_until, busy_token FROM agent.conversations WHERE id = $1`, conv).Scan(&until, &token); err != nil {
		t.Fatal(err)
	}
	return until, token
}

// wantHeldByOther checks that the other instance's hold is untouched.
func (e *env) wantHeldByOther(t *testing.T, conv string, until int64) {
	t.Helper()
	if u, tok := e.holdOf(t, conv); u != until || tok != otherHold {
		t.Errorf("the new holder's hold became until %d with token %q, want until %d with %q", u, tok, until, otherHold)
	}
}

// wantTakenOver checks a turn ended because its hold was taken over.
func wantTakenOver(t *testing.T, tr turn) {
	t.Helper()
	if mdk.ErrorCode(tr.err) != mdk.CodeConflict || !strings.Contains(tr.err.Error(), "taken over") {
		t.Fatalf("turn after a takeover: %v, want conflict saying it was taken over", tr.err)
	}
}

func TestHoldTakenOver(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		registerStopInstance(t, e)
		t.Run("ApplyingTurn", func(t *testing.T) {
			// The turn applies slow_write (two leases, so it tries to renew
			// several times) and is taken over meanwhile: it renews, records
			// and releases nothing, and runs no further call.
			conv, prop, p, applied := e.applySlowly(t, "Fir")
			for deadline := time.Now().Add(testLease); ; time.Sleep(10 * time.Millisecond) {
				if st, _ := e.proposalState(t, prop); st == string(agent.ProposalApplying) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the confirmation did not start applying")
				}
			}
			until := e.takeOver(t, conv)
			wantTakenOver(t, <-applied)
			e.wantHeldByOther(t, conv, until)
			if st, n := e.proposalState(t, prop); st != string(agent.ProposalApplying) || n != 0 {
				t.Errorf("proposal %s with %d recorded outcomes, want applying with none (the new holder resolves it)", st, n)
			}
			if e.product(t, p.ID).Status != product.StatusActive {
				t.Errorf("the call after the takeover ran")
			}
		})
		t.Run("MessageTurn", func(t *testing.T) {
			e.llm.Add(llmtest.Step{Text: "Hello."})
			first := e.chat(e.merchant, agent.Request{Message: "hi"})
			first.wantDone(t, agent.StopAnswered)
			conv := first.conversation(t)
			before, err := e.svc.Conversation(e.merchant, conv)
			if err != nil {
				t.Fatal(err)
			}
			var until int64
			e.llm.Add(llmtest.Step{Func: func(llmtest.Request) llmtest.Step {
				until = e.takeOver(t, conv) // while the model answers
				return llmtest.Step{Text: "Too late."}
			}})
			wantTakenOver(t, e.chat(e.merchant, agent.Request{ConversationID: conv, Message: "still there?"}))
			e.wantHeldByOther(t, conv, until)
			after, err := e.svc.Conversation(e.merchant, conv)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Messages) != len(before.Messages) {
				t.Errorf("the taken-over turn recorded %d message(s)", len(after.Messages)-len(before.Messages))
			}
			e.wantScriptDone(t)
		})
		t.Run("NormalTurnReleases", func(t *testing.T) {
			e.llm.Add(llmtest.Step{Text: "Hello."}, llmtest.Step{Text: "Hello again."})
			first := e.chat(e.merchant, agent.Request{Message: "hi"})
			first.wantDone(t, agent.StopAnswered)
			conv := first.conversation(t)
			if until, tok := e.holdOf(t, conv); until != 0 || tok != "" {
				t.Errorf("after the turn: held until %d with token %q, want released", until, tok)
			}
			e.chat(e.merchant, agent.Request{ConversationID: conv, Message: "hi again"}).wantDone(t, agent.StopAnswered)
			if until, tok := e.holdOf(t, conv); until != 0 || tok != "" {
				t.Errorf("after the second turn: held until %d with token %q, want released", until, tok)
			}
			e.wantScriptDone(t)
		})
	}, "HYPERRR_AGENT_LEASE="+testLease.String())
}
