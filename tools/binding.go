package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/hyperrr/hyperrr/mdk"
)

// UCPVersion is the UCP protocol version the shopper tools speak.
const UCPVersion = "2026-04-08"

// The argument names of the UCP MCP binding
// (services/shopping/mcp.openrpc.json).
const (
	argMeta            = "meta"
	argID              = "id"
	metaIdempotency    = "idempotency-key"
	metaAgent          = "ucp-agent"
	capabilityCheckout = "dev.ucp.shopping.checkout"
)

// binding turns a UCP method's arguments ({meta, id?, <object>: {...}})
// into the operation's flat input and its result into a UCP response. It
// is built once per tool from the operation's mdk.UCPMethod; there is no
// code per tool.
type binding struct {
	method mdk.UCPMethod
	// object is the schema of the request object: the operation's input
	// without the fields that come from id and meta.
	object *jsonschema.Schema
	// envelope is `{"ucp":{...},` ready to prepend to a result object;
	// ucp is its {...}.
	envelope []byte
	ucp      json.RawMessage
	// messages says the result has a UCP messages list to report ignored
	// keys in.
	messages bool
}

func newBinding(op mdk.OpInfo, handlers map[string][]PaymentHandler) (*binding, error) {
	m := *op.UCP
	b := &binding{method: m, messages: op.OutputSchema.Properties["messages"] != nil}
	if m.Object != "" {
		obj := op.InputSchema.CloneSchemas()
		obj.Properties = maps(obj.Properties, func(name string) bool {
			return !(m.IDParam && name == argID) && name != m.IdempotencyKey
		})
		obj.Required = slices.DeleteFunc(slices.Clone(obj.Required), func(name string) bool {
			return (m.IDParam && name == argID) || name == m.IdempotencyKey
		})
		b.object = obj
	}
	env := map[string]any{
		"version":      UCPVersion,
		"status":       "success",
		"capabilities": map[string]any{m.Capability: []map[string]string{{"version": UCPVersion}}},
	}
	if m.Capability == capabilityCheckout {
		env["payment_handlers"] = handlers
	}
	raw, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode ucp envelope: %w", err)
	}
	b.ucp = raw
	b.envelope = append(append([]byte(`{"ucp":`), raw...), ',')
	return b, nil
}

// maps returns the entries of m whose key keep accepts.
func maps(m map[string]*jsonschema.Schema, keep func(string) bool) map[string]*jsonschema.Schema {
	out := make(map[string]*jsonschema.Schema, len(m))
	for k, v := range m {
		if keep(k) {
			out[k] = v
		}
	}
	return out
}

// inputSchema is the tool's argument schema in UCP's shape.
func (b *binding) inputSchema(op mdk.OpInfo) *jsonschema.Schema {
	meta := &jsonschema.Schema{
		Type:        "object",
		Description: "UCP request metadata. ucp-agent (the platform's profile URL) is welcome but optional here.",
		Properties: map[string]*jsonschema.Schema{
			metaAgent: {Type: "object", Description: "platform agent identification",
				Properties: map[string]*jsonschema.Schema{"profile": {Type: "string", Description: "URL of the platform's UCP profile"}},
				Required:   []string{"profile"}},
			metaIdempotency: {Type: "string", Description: "unique key for retry safety (a UUID): a retry with the same key returns the first result"},
		},
	}
	s := &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{argMeta: meta}}
	if b.method.IdempotencyKey != "" {
		meta.Required = []string{metaIdempotency}
		meta.Description += " idempotency-key is required: use a new UUID per attempt and the same one to retry."
		s.Required = append(s.Required, argMeta)
	}
	if b.method.IDParam {
		id := &jsonschema.Schema{Type: "string"}
		if p := op.InputSchema.Properties[argID]; p != nil {
			id.Description = p.Description
		}
		s.Properties[argID] = id
		s.Required = append(s.Required, argID)
	}
	if b.object != nil {
		s.Properties[b.method.Object] = b.object
		if len(b.object.Required) > 0 {
			s.Required = append(s.Required, b.method.Object)
		}
	}
	return s
}

// outputSchema is the operation's output schema with the ucp envelope.
func (b *binding) outputSchema(op mdk.OpInfo) *jsonschema.Schema {
	s := op.OutputSchema.CloneSchemas()
	props := make(map[string]*jsonschema.Schema, len(s.Properties)+1)
	for k, v := range s.Properties {
		props[k] = v
	}
	env := &jsonschema.Schema{
		Type:        "object",
		Description: "UCP protocol metadata: version, status and the capability answering",
		Properties: map[string]*jsonschema.Schema{
			"version":      {Type: "string"},
			"status":       {Type: "string"},
			"capabilities": {Type: "object"},
		},
		Required: []string{"version"},
	}
	if b.method.Capability == capabilityCheckout {
		env.Properties["payment_handlers"] = &jsonschema.Schema{Type: "object", Description: "payment handlers that issue the payment token update_checkout takes"}
		env.Required = append(env.Required, "payment_handlers")
	}
	props["ucp"] = env
	s.Properties = props
	s.Required = append([]string{"ucp"}, s.Required...)
	return s
}

// unwrap turns UCP arguments into the operation's flat input. Keys of the
// request object that the operation does not know are dropped and returned
// as ignored (UCP objects are open for forward compatibility, so a valid
// UCP request must not fail on them); unknown top-level arguments are
// errors, since they are usually fields put outside the object.
func (b *binding) unwrap(args map[string]any) (in map[string]any, ignored []string, err error) {
	in = map[string]any{}
	var fields map[string]any
	var errs []error
	for k, v := range args {
		switch {
		case k == argMeta:
			meta, ok := v.(map[string]any)
			if !ok {
				errs = append(errs, mdk.Invalid("$.meta", "want an object such as {\"idempotency-key\": \"<uuid>\"}"))
				continue
			}
			if b.method.IdempotencyKey != "" {
				if key, ok := meta[metaIdempotency].(string); ok {
					in[b.method.IdempotencyKey] = key
				}
			}
		case k == argID && b.method.IDParam:
			in[argID] = v
		case k == b.method.Object && b.object != nil:
			obj, ok := v.(map[string]any)
			if !ok {
				errs = append(errs, mdk.Invalid("$."+k, "want an object"))
				continue
			}
			fields = prune(obj, b.object, "$."+k, &ignored)
		default:
			errs = append(errs, b.unknownArg(k))
		}
	}
	for name, val := range fields {
		if _, taken := in[name]; !taken { // id and meta win over the object
			in[name] = val
		}
	}
	if b.method.IdempotencyKey != "" {
		if key, _ := in[b.method.IdempotencyKey].(string); strings.TrimSpace(key) == "" {
			errs = append(errs, mdk.Invalid("$.meta.idempotency-key", "required: a new UUID per attempt; reuse it only to retry the same request"))
		}
	}
	if len(errs) > 0 {
		return nil, nil, joinErrors(errs)
	}
	sort.Strings(ignored)
	return in, ignored, nil
}

func (b *binding) unknownArg(k string) error {
	if b.object != nil && b.object.Properties[k] != nil {
		return mdk.Invalid("$."+k, "%s goes inside %q: {\"%s\": {\"%s\": ...}}", k, b.method.Object, b.method.Object, k)
	}
	known := []string{argMeta}
	if b.method.IDParam {
		known = append(known, argID)
	}
	if b.object != nil {
		known = append(known, b.method.Object)
	}
	return mdk.Invalid("$."+k, "not an argument of this tool; the arguments are %s", strings.Join(known, ", "))
}

// prune returns v without the object keys s does not declare where s
// allows no others, recording their JSONPaths in ignored.
func prune(v map[string]any, s *jsonschema.Schema, path string, ignored *[]string) map[string]any {
	if s == nil || s.Properties == nil {
		return v
	}
	out := make(map[string]any, len(v))
	for k, val := range v {
		ps, known := s.Properties[k]
		if !known && closed(s) {
			*ignored = append(*ignored, path+"."+k)
			continue
		}
		out[k] = pruneValue(val, ps, path+"."+k, ignored)
	}
	return out
}

func pruneValue(v any, s *jsonschema.Schema, path string, ignored *[]string) any {
	if s == nil {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		return prune(x, s, path, ignored)
	case []any:
		if s.Items == nil {
			return v
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pruneValue(e, s.Items, fmt.Sprintf("%s[%d]", path, i), ignored)
		}
		return out
	}
	return v
}

// closed reports whether s forbids properties it does not name.
func closed(s *jsonschema.Schema) bool {
	a := s.AdditionalProperties
	return a != nil && a.Not != nil && a.Not.Type == "" && len(a.Not.Properties) == 0
}

// envelop prepends the ucp envelope to a result object and, when keys
// were ignored, adds a warning message per key.
func (b *binding) envelop(out []byte, ignored []string) ([]byte, error) {
	if len(ignored) > 0 && b.messages {
		var err error
		if out, err = addWarnings(out, ignored); err != nil {
			return nil, err
		}
	}
	body := bytes.TrimPrefix(bytes.TrimSpace(out), []byte("{"))
	res := make([]byte, 0, len(b.envelope)+len(body))
	res = append(res, b.envelope...)
	if bytes.Equal(bytes.TrimSpace(body), []byte("}")) {
		res = res[:len(res)-1] // no fields after the envelope: drop its comma
	}
	return append(res, body...), nil
}

// addWarnings appends an ignored_field warning per path to the result's
// messages.
func addWarnings(out []byte, ignored []string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	var msgs []map[string]any
	if raw, ok := doc["messages"]; ok && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("decode messages: %w", err)
		}
	}
	for _, p := range ignored {
		msgs = append(msgs, map[string]any{
			"type": "warning", "code": "ignored_field", "path": p,
			"content": fmt.Sprintf("%s is not supported by this store and was ignored", p),
		})
	}
	raw, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	doc["messages"] = raw
	return marshal(doc)
}

// joinErrors joins field errors as mdk.AllErrors reads them.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
