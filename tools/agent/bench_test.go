package agent_test

import (
	"fmt"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/tools/agent"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

// BenchmarkTurn measures what the agent adds around the model: a message
// whose answer calls one read operation, then replies, against the
// scripted model over loopback HTTP (two streamed completions, one
// operation, holding and recording the conversation).
func BenchmarkTurn(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			e := open(b, engine, true)
			p := e.create(b, product.ProductInput{Title: "Oak table", Variants: []product.VariantInput{{SKU: "OAK-1", Price: 45000}}})
			call := llmtest.Step{Calls: []llmtest.ToolCall{llmtest.Call("get_product_admin", map[string]any{"id": p.ID})}}
			reply := llmtest.Step{Text: "The oak table costs $450.00 and is active."}
			b.ResetTimer()
			for b.Loop() {
				e.llm.Add(call, reply)
				err := e.svc.Chat(e.merchant, agent.Request{Message: "how much is the oak table?"}, func(agent.Event) {})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConfirm measures proposing and applying a bulk change of 10
// price updates: the proposal's pre-flight check (10 input checks and 10
// lookups), then on confirmation the check again, the 10 updates and a
// progress record per update.
func BenchmarkConfirm(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			e := open(b, engine, true)
			var ids []string
			for i := range 10 {
				p := e.create(b, product.ProductInput{Title: fmt.Sprintf("Oak table %d", i), Variants: []product.VariantInput{{SKU: fmt.Sprintf("OAK-%d", i), Price: 45000}}})
				ids = append(ids, p.Variants[0].ID)
			}
			price := 40000
			b.ResetTimer()
			for b.Loop() {
				price++
				e.llm.Add(llmtest.Step{Calls: priceCalls(ids, price)})
				var prop *agent.Proposal
				err := e.svc.Chat(e.merchant, agent.Request{Message: "all oak tables cheaper"}, func(ev agent.Event) {
					if ev.Type == agent.EventConfirmation {
						prop = ev.Proposal
					}
				})
				if err != nil || prop == nil {
					b.Fatalf("no proposal: %v", err)
				}
				var stop agent.Stop
				err = e.svc.Chat(e.merchant, agent.Request{ConversationID: prop.ConversationID, Confirm: prop.ID}, func(ev agent.Event) {
					if ev.Type == agent.EventDone && ev.Proposal.Status == agent.ProposalApplied {
						stop = ev.Stop
					}
				})
				if err != nil || stop != agent.StopApplied {
					b.Fatalf("not applied: %v", err)
				}
			}
		})
	}
}
