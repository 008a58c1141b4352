package agent_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/tools/agent"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

// testLease is HYPERRR_AGENT_LEASE in these tests.
const testLease = 600 * time.Millisecond

// crashed is a proposal whose applying instance stopped after its first
// call: archive a, stop the instance, archive b.
type crashed struct {
	conv, proposal string
	a, b           product.Product
}

// crashWhileApplying confirms a proposal whose second call ends the
// goroutine applying it (runtime.Goexit: no result, no further writes),
// then leaves the conversation held for one lease from now, as an instance
// that died mid-call leaves it.
func crashWhileApplying(t *testing.T, e *env, tag string) crashed {
	t.Helper()
	c := crashed{
		a: e.create(t, product.ProductInput{Title: "Ash stool " + tag, Variants: []product.VariantInput{{SKU: "ASH-" + tag, Price: 3000}}}),
		b: e.create(t, product.ProductInput{Title: "Elm stool " + tag, Variants: []product.VariantInput{{SKU: "ELM-" + tag, Price: 3000}}}),
	}
	e.llm.Add(llmtest.Step{Calls: []llmtest.ToolCall{
		llmtest.Call("archive_product", map[string]any{"id": c.a.ID}),
		llmtest.Call("stop_instance", map[string]any{}),
		llmtest.Call("archive_product", map[string]any{"id": c.b.ID}),
	}})
	held := e.chat(e.merchant, agent.Request{Message: "archive the stools"})
	held.wantDone(t, agent.StopConfirmation)
	c.conv, c.proposal = held.conversation(t), held.of(agent.EventConfirmation)[0].Proposal.ID
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		e.chat(e.merchant, agent.Request{ConversationID: c.conv, Confirm: c.proposal})
		t.Error("the confirmation returned; the instance should have stopped in stop_instance")
	}()
	<-stopped
	// The goroutine's deferred release ran; a dead process's would not.
	if _, err := e.g.DB().ExecContext(context.Background(), `UPDATE agent.conversations SET busy_until = $1 WHERE id = $2`,
		time.Now().Add(testLease).UnixMilli(), c.conv); err != nil {
		t.Fatal(err)
	}
	if st, n := e.proposalState(t, c.proposal); st != "applying" || n != 1 {
		t.Fatalf("after the crash: %s with %d recorded outcomes, want applying with 1", st, n)
	}
	if e.product(t, c.a.ID).Status != product.StatusArchived || e.product(t, c.b.ID).Status != product.StatusActive {
		t.Fatalf("after the crash the first call should have run, the third not")
	}
	return c
}

// registerStopInstance adds stop_instance, an operation during which the
// instance applying it stops, and slow_write, which takes two leases.
func registerStopInstance(t *testing.T, e *env) {
	t.Helper()
	err := mdk.Register(e.g.Ops(), mdk.Operation[struct{}, struct{}]{
		Name: "stop_instance", Description: "Test operation: the instance stops while running it.",
		Access: mdk.AccessMerchant, Effect: mdk.EffectDestructive,
		Handle: func(context.Context, struct{}) (struct{}, error) { runtime.Goexit(); return struct{}{}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	err = mdk.Register(e.g.Ops(), mdk.Operation[struct{}, struct{}]{
		Name: "slow_write", Description: "Test operation: takes two leases.",
		Access: mdk.AccessMerchant, Effect: mdk.EffectDestructive,
		Handle: func(context.Context, struct{}) (struct{}, error) { time.Sleep(2 * testLease); return struct{}{}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
}

// applySlowly has the merchant confirm a proposal to run slow_write, then
// archive a new product titled tag+" stool", and returns the conversation,
// the proposal, the product and the confirming turn's end.
func (e *env) applySlowly(t *testing.T, tag string) (conv, prop string, p product.Product, applied <-chan turn) {
	t.Helper()
	p = e.create(t, product.ProductInput{Title: tag + " stool", Variants: []product.VariantInput{{SKU: strings.ToUpper(tag) + "-1", Price: 3000}}})
	e.llm.Add(llmtest.Step{Calls: []llmtest.ToolCall{
		llmtest.Call("slow_write", map[string]any{}), llmtest.Call("archive_product", map[string]any{"id": p.ID}),
	}})
	held := e.chat(e.merchant, agent.Request{Message: "archive the " + p.Title + " slowly"})
	held.wantDone(t, agent.StopConfirmation)
	conv, prop = held.conversation(t), held.of(agent.EventConfirmation)[0].Proposal.ID
	ch := make(chan turn, 1)
	go func() { ch <- e.chat(e.merchant, agent.Request{ConversationID: conv, Confirm: prop}) }()
	return conv, prop, p, ch
}

// proposalState reads a proposal's stored status and number of results.
func (e *env) proposalState(t *testing.T, id string) (string, int) {
	t.Helper()
	var status, results string
	if err := e.g.DB().QueryRowContext(context.Background(), `SELECT status, results FROM agent.proposals WHERE id = $1`, id).Scan(&status, &results); err != nil {
		t.Fatal(err)
	}
	return status, strings.Count(results, `"call_id"`)
}

// wantInterrupted checks the stored and audited resolution of c.
func (e *env) wantInterrupted(t *testing.T, c crashed) {
	t.Helper()
	if st, n := e.proposalState(t, c.proposal); st != string(agent.ProposalInterrupted) || n != 3 {
		t.Errorf("proposal %s with %d outcomes, want interrupted with 3", st, n)
	}
	conv, err := e.svc.Conversation(e.merchant, c.conv)
	if err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, m := range conv.Messages {
		history = append(history, m.Content)
	}
	all := strings.Join(history, "\n")
	for _, want := range []string{"Proposal " + c.proposal + " was interrupted", "1 of 3 change(s) were made",
		"Call 2 (stop_instance) may or may not have been applied", "Not applied: call 3 (archive_product)", "not applied: the server applying"} {
		if !strings.Contains(all, want) {
			t.Errorf("the conversation does not say %q:\n%s", want, all)
		}
	}
	var a []agent.Action
	for _, x := range e.actions(t) {
		if x.ConversationID == c.conv {
			a = append(a, x)
		}
	}
	if count(a, "interrupted", "") != 1 || count(a, "executed", "archive_product") != 1 || count(a, "confirmed", "") != 1 {
		t.Errorf("audit: %+v", a)
	}
	if e.product(t, c.b.ID).Status != product.StatusActive {
		t.Errorf("the call after the crash ran")
	}
}

func TestInterruptedProposalIsResolved(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		registerStopInstance(t, e)
		t.Run("OnTheNextMessage", func(t *testing.T) {
			c := crashWhileApplying(t, e, "1")
			busy := e.chat(e.merchant, agent.Request{ConversationID: c.conv, Message: "did it work?"})
			if mdk.ErrorCode(busy.err) != mdk.CodeConflict {
				t.Fatalf("within the lease: %v, want conflict", busy.err)
			}
			// The hold lapses one lease after the crash. Wait for that by
			// reading it, so a loaded machine cannot fail the test; a hold
			// that a dead turn kept renewing still fails it.
			for deadline := time.Now().Add(6 * testLease); ; time.Sleep(testLease / 4) {
				var until int64
				if err := e.g.DB().QueryRowContext(context.Background(), `SELECT busy_until FROM agent.conversations WHERE id = $1`, c.conv).Scan(&until); err != nil {
					t.Fatal(err)
				}
				if until < time.Now().UnixMilli() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the conversation is still held 6 leases after the crash, until %s", time.UnixMilli(until))
				}
			}
			var seen string
			e.llm.Add(llmtest.Step{Func: func(r llmtest.Request) llmtest.Step {
				seen = r.Messages[len(r.Messages)-2].Text()
				return llmtest.Step{Text: "The ash stool is archived; the elm stool is not."}
			}})
			tr := e.chat(e.merchant, agent.Request{ConversationID: c.conv, Message: "did it work?"})
			tr.wantDone(t, agent.StopAnswered)
			if text := tr.text(); !strings.HasPrefix(text, "Proposal "+c.proposal+" was interrupted") {
				t.Errorf("the merchant was told: %q", text)
			}
			if !strings.Contains(seen, "was interrupted") {
				t.Errorf("the model did not see the resolution: %q", seen)
			}
			e.wantInterrupted(t, c)
			e.wantScriptDone(t)
		})
		t.Run("NotWhileAlive", func(t *testing.T) {
			// A proposal applying for longer than a lease keeps its hold
			// renewed: neither the sweeper nor a message takes it over.
			conv, prop, _, applied := e.applySlowly(t, "Yew")
			time.Sleep(testLease * 3 / 2)
			if n, err := e.svc.ResolveInterrupted(context.Background()); n != 0 || err != nil {
				t.Errorf("the sweeper resolved %d (%v) of a live proposal", n, err)
			}
			if busy := e.chat(e.merchant, agent.Request{ConversationID: conv, Message: "done?"}); mdk.ErrorCode(busy.err) != mdk.CodeConflict {
				t.Errorf("a message during the apply: %v, want conflict", busy.err)
			}
			(<-applied).wantDone(t, agent.StopApplied)
			if st, n := e.proposalState(t, prop); st != string(agent.ProposalApplied) || n != 2 {
				t.Errorf("proposal %s with %d outcomes", st, n)
			}
		})
		t.Run("BySweeper", func(t *testing.T) {
			c := crashWhileApplying(t, e, "2")
			if n, err := e.svc.ResolveInterrupted(context.Background()); n != 0 || err != nil {
				t.Fatalf("within the lease: resolved %d, %v", n, err)
			}
			// The module's sweeper runs once per lease once started.
			if err := e.g.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * testLease)
			for st, _ := e.proposalState(t, c.proposal); st == "applying"; st, _ = e.proposalState(t, c.proposal) {
				if time.Now().After(deadline) {
					t.Fatalf("still applying after %s", 10*testLease)
				}
				time.Sleep(testLease / 4)
			}
			e.wantInterrupted(t, c)
			// The conversation is free at once.
			e.llm.Add(llmtest.Step{Text: "Hello."})
			e.chat(e.merchant, agent.Request{ConversationID: c.conv, Message: "hi"}).wantDone(t, agent.StopAnswered)
		})
	}, "HYPERRR_AGENT_LEASE="+testLease.String())
}
