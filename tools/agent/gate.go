package agent

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// gate decides which calls the merchant must confirm. Its rules read the
// operation's declared effect and the arguments' field names, never a list
// of operation names, so a new operation is covered by what it declares:
//
//   - an operation whose effect is destructive (archive, delete, refund);
//   - any call setting on_hand to 0 (stock to zero);
//   - any call setting status to archived or draft (hides products);
//   - price changes (a write setting price or compare_at_price) beyond
//     bulkLimit in one merchant turn: then every price change of the batch.
type gate struct {
	bulkLimit int
}

// review returns, per call, why it needs confirmation ("" when it does
// not). pricesBefore is the number of price changes already run in this
// turn; the second result is the number of price changes in calls.
func (g gate) review(ops map[string]mdk.OpInfo, calls []Call, pricesBefore int) ([]string, int) {
	reasons := make([]string, len(calls))
	var prices []int
	for i, c := range calls {
		op, ok := ops[c.Name]
		if !ok || op.Effect == mdk.EffectRead {
			continue
		}
		var args map[string]any
		if json.Unmarshal(c.Arguments, &args) != nil {
			continue // not run: the call is answered with an invalid error
		}
		var why []string
		if op.Effect == mdk.EffectDestructive {
			why = append(why, "destructive operation")
		}
		if n, ok := args["on_hand"].(float64); ok && n == 0 {
			why = append(why, "sets stock to zero")
		}
		if s, ok := args["status"].(string); ok && (s == "archived" || s == "draft") {
			why = append(why, fmt.Sprintf("hides the product from shoppers (status %s)", s))
		}
		_, price := args["price"]
		_, compare := args["compare_at_price"]
		if price || compare {
			prices = append(prices, i)
		}
		reasons[i] = strings.Join(why, "; ")
	}
	if total := pricesBefore + len(prices); total > g.bulkLimit {
		for _, i := range prices {
			why := fmt.Sprintf("one of %d price changes in this request (more than %d need confirmation: HYPERRR_AGENT_BULK_LIMIT)", total, g.bulkLimit)
			if reasons[i] != "" {
				why = reasons[i] + "; " + why
			}
			reasons[i] = why
		}
	}
	return reasons, len(prices)
}

// describe renders calls as the exact change, one line per call.
func describe(calls []Call) string {
	var b strings.Builder
	for i, c := range calls {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d. %s %s", i+1, c.Name, compactJSON(c.Arguments))
	}
	return b.String()
}

func compactJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(out)
}
