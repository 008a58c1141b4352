package agent_test

import (
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/tools/agent"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

// TestConfirmedProposalWithInvalidCallAppliesNothing: a variant of the
// proposal is removed between the proposal and its confirmation; the
// confirmation applies none of the calls and names the invalid one.
func TestConfirmedProposalWithInvalidCallAppliesNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ids := seedTables(t, e, 3)
		bench := e.create(t, product.ProductInput{Title: "Oak bench", Options: []product.Option{{Name: "Size", Values: []string{"S", "L"}}},
			Variants: []product.VariantInput{
				{SKU: "BENCH-S", Options: map[string]string{"Size": "S"}, Price: 10000},
				{SKU: "BENCH-L", Options: map[string]string{"Size": "L"}, Price: 10000},
			}})
		gone := bench.Variants[0].ID
		e.llm.Add(llmtest.Step{Calls: priceCalls([]string{ids[0], ids[1], gone, ids[2]}, 7000)})
		held := e.chat(e.merchant, agent.Request{Message: "all oak at 70"})
		held.wantDone(t, agent.StopConfirmation)
		conv, prop := held.conversation(t), held.of(agent.EventConfirmation)[0].Proposal
		if _, err := e.g.Ops().CallJSON(e.merchant, "remove_variant", []byte(`{"id":"`+gone+`"}`)); err != nil {
			t.Fatal(err)
		}

		done := e.chat(e.merchant, agent.Request{ConversationID: conv, Confirm: prop.ID})
		done.wantDone(t, agent.StopApplied)
		got := done.last(t).Proposal
		if got.Status != agent.ProposalFailed || len(got.Results) != 4 {
			t.Fatalf("proposal: %+v", got)
		}
		for i, o := range got.Results {
			if o.OK || !o.Skipped {
				t.Errorf("call %d: %+v", i+1, o)
			}
		}
		if e := got.Results[2].Errors; len(e) != 1 || e[0].Code != mdk.CodeNotFound || e[0].Field != "id" || !strings.Contains(e[0].Message, gone) {
			t.Errorf("the removed variant's call says %+v", e)
		}
		if text := done.text(); !strings.Contains(text, "Nothing was changed") || !strings.Contains(text, "call 3 (update_variant)") || !strings.Contains(text, gone) {
			t.Errorf("summary: %q", text)
		}
		if res := done.of(agent.EventToolStarted); len(res) != 0 {
			t.Errorf("calls started: %+v", res)
		}
		prices := e.prices(t)
		for _, id := range ids {
			if prices[id] != 10000 {
				t.Errorf("%s costs %d", id, prices[id])
			}
		}
		a := e.actions(t)
		if count(a, "executed", "") != 0 || count(a, "confirmed", "") != 1 || count(a, "rejected", "") != 1 {
			t.Errorf("audit: %+v", a)
		}
		// The conversation goes on; the proposal can't be confirmed again.
		again := e.chat(e.merchant, agent.Request{ConversationID: conv, Confirm: prop.ID})
		if mdk.ErrorCode(again.err) != mdk.CodeConflict || !strings.Contains(again.err.Error(), "is failed") {
			t.Errorf("confirming again: %v", again.err)
		}
	})
}

// TestInvalidCallIsNotProposed: held calls are checked before they are
// offered; an invalid one sends the errors back to the model instead, and
// only the corrected set is proposed.
func TestInvalidCallIsNotProposed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ids := seedTables(t, e, 4)
		first := priceCalls([]string{ids[0], "var_invented", ids[1], ids[2]}, 7000)
		first[2] = llmtest.Call("update_variant", map[string]any{"id": ids[1], "price": -7000})
		var told []string
		e.llm.Add(
			llmtest.Step{Calls: first},
			llmtest.Step{Func: func(r llmtest.Request) llmtest.Step {
				for _, m := range r.Messages[len(r.Messages)-4:] {
					told = append(told, m.Text())
				}
				return llmtest.Step{Calls: priceCalls(ids, 7000)}
			}},
		)
		tr := e.chat(e.merchant, agent.Request{Message: "all tables at 70"})
		tr.wantDone(t, agent.StopConfirmation)
		props := tr.of(agent.EventConfirmation)
		if len(props) != 1 || len(props[0].Proposal.Calls) != 4 || strings.Contains(props[0].Proposal.Summary, "var_invented") {
			t.Fatalf("proposals: %+v", props)
		}
		if len(told) != 4 || !strings.Contains(told[1], "var_invented names no product or variant") ||
			!strings.Contains(told[2], `"field":"price"`) || !strings.Contains(told[0], "not run and not proposed") ||
			!strings.Contains(told[0], "call id") {
			t.Errorf("the model was told:\n%s", strings.Join(told, "\n"))
		}
		if res := tr.of(agent.EventToolStarted); len(res) != 0 {
			t.Errorf("calls started: %+v", res)
		}
		if a := e.actions(t); count(a, "proposed", "") != 4 || count(a, "executed", "") != 0 {
			t.Errorf("audit: %+v", a)
		}
		e.wantScriptDone(t)
	})
}
