package agent_test

import (
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
