// Package ucp holds the Universal Commerce Protocol wire types that several
// modules answer with (common/types/message.json, total.json and
// shopping/types/item.json), so each module does not declare its own copy.
// It is not a module: any module may import it.
package ucp

// Message is common/types/message.json: something a buyer or agent should
// know or fix, pointing at the field it is about.
type Message struct {
	Type     string `json:"type" jsonschema:"info, warning or error"`
	Code     string `json:"code,omitempty" jsonschema:"machine-readable reason, e.g. not_found, missing, out_of_stock, insufficient_stock"`
	Path     string `json:"path,omitempty" jsonschema:"JSONPath of the field or line the message is about"`
	Content  string `json:"content"`
	Severity string `json:"severity,omitempty" jsonschema:"errors only: recoverable, requires_buyer_input or unrecoverable"`
}

// Total is common/types/total.json: one line of a cost breakdown.
type Total struct {
	Type        string `json:"type" jsonschema:"subtotal, fulfillment, tax or total"`
	DisplayText string `json:"display_text,omitempty"`
	Amount      int64  `json:"amount" jsonschema:"minor units (cents for USD)"`
}

// Item is shopping/types/item.json: what a line buys.
type Item struct {
	ID       string `json:"id" jsonschema:"variant ID (var_...)"`
	Title    string `json:"title"`
	Price    int64  `json:"price" jsonschema:"unit price in minor units (cents for USD)"`
	ImageURL string `json:"image_url,omitempty"`
}
