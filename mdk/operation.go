package mdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// Access says who may call an operation.
type Access string

const (
	// AccessPublic: anyone, including anonymous callers (catalog reads).
	AccessPublic Access = "public"
	// AccessShopper: an authenticated shopper, or a merchant acting for one.
	AccessShopper Access = "shopper"
	// AccessMerchant: merchants only.
	AccessMerchant Access = "merchant"
)

// Effect says what an operation does to state, so edges can annotate it
// (MCP readOnly/destructive hints, GraphQL query vs mutation).
type Effect string

const (
	EffectRead        Effect = "read"
	EffectWrite       Effect = "write"
	EffectDestructive Effect = "destructive"
)

// Operation is the single source of truth for one thing the server can do.
// GraphQL resolvers and MCP tools are generated from it and call it through
// the Registry, so access checks, validation and errors are the same on
// every edge.
type Operation[In, Out any] struct {
	// Name is snake_case and unique: it is the MCP tool name and, in
	// camelCase, the GraphQL field.
	Name string
	// Description is written for humans and LLMs alike: what it does, when
	// to use it, what comes back.
	Description string
	Access      Access
	Effect      Effect
	// Idempotent says calling twice with the same input has the effect of
	// calling once.
	Idempotent bool
	// UCP, when set, says the operation is a method of the UCP shopping
	// service, so the MCP edge speaks UCP's argument and result shapes for
	// it (see UCPMethod). Operations without it are exposed as they are.
	UCP *UCPMethod
	// Handle does the work. It returns *Error for anything the caller can
	// act on; any other error is reported as internal.
	Handle func(ctx context.Context, in In) (Out, error)
}

// UCPMethod binds an operation with a flat input ({id, line_items, ...}) to
// a UCP MCP method, whose arguments are {meta, id?, <Object>: {...}} and
// whose result carries the `ucp` envelope. It is data, so the MCP edge
// needs no code per tool.
type UCPMethod struct {
	// Capability is the UCP capability the method belongs to
	// (dev.ucp.shopping.cart); it names the result's envelope.
	Capability string
	// Object is the argument that holds the request object (catalog, cart,
	// checkout); empty when the method takes only meta and id.
	Object string
	// IDParam says the input's "id" field is the method's top-level id
	// argument rather than a field of Object.
	IDParam bool
	// IdempotencyKey names the input field filled from meta's
	// idempotency-key; empty when the method takes none.
	IdempotencyKey string
	// Resource, when set, also exposes the method as the MCP resource
	// template hyperrr://<Resource>/{id}, read by calling it with {"id"}.
	Resource string
}

// Validator is implemented by inputs with rules a JSON Schema cannot say
// (cross-field rules, money ranges). Return field errors, several joined
// with errors.Join.
type Validator interface {
	Validate() error
}

// OpInfo describes a registered operation.
type OpInfo struct {
	Name         string
	Description  string
	Access       Access
	Effect       Effect
	Idempotent   bool
	InputSchema  *jsonschema.Schema
	OutputSchema *jsonschema.Schema
	UCP          *UCPMethod
}

// Allows reports whether p may call an operation with access a.
func (a Access) Allows(p Principal) bool {
	switch a {
	case AccessPublic:
		return true
	case AccessShopper:
		return p.Role == RoleShopper || p.Role == RoleMerchant
	case AccessMerchant:
		return p.Role == RoleMerchant
	}
	return false
}

type registered struct {
	info  OpInfo
	input *inputValidator
	// checkJSON is callJSON's validation without the call.
	checkJSON func(raw json.RawMessage) error
	callJSON  func(ctx context.Context, raw json.RawMessage) (any, error)
	callAny   func(ctx context.Context, in any) (any, error)
}

// CallObserver is told about every finished call, for metrics.
type CallObserver func(op string, d time.Duration, err error)

// Registry holds every operation of the running server.
type Registry struct {
	mu      sync.RWMutex
	ops     map[string]*registered
	log     *slog.Logger
	observe CallObserver
}

// NewRegistry returns an empty registry. observe may be nil.
func NewRegistry(log *slog.Logger, observe CallObserver) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{ops: map[string]*registered{}, log: log, observe: observe}
}

var opName = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Register adds op to r. The input and output JSON Schemas are derived from
// In and Out (field docs come from `jsonschema:"..."` tags).
func Register[In, Out any](r *Registry, op Operation[In, Out]) error {
	if !opName.MatchString(op.Name) {
		return fmt.Errorf("operation name %q: use snake_case", op.Name)
	}
	if op.Description == "" || op.Handle == nil {
		return fmt.Errorf("operation %s: description and handler are required", op.Name)
	}
	switch op.Access {
	case AccessPublic, AccessShopper, AccessMerchant:
	default:
		return fmt.Errorf("operation %s: access %q is not public, shopper or merchant", op.Name, op.Access)
	}
	switch op.Effect {
	case EffectRead, EffectWrite, EffectDestructive:
	default:
		return fmt.Errorf("operation %s: effect %q is not read, write or destructive", op.Name, op.Effect)
	}
	inSchema, err := jsonschema.For[In](nil)
	if err != nil {
		return fmt.Errorf("operation %s: input schema: %w", op.Name, err)
	}
	outSchema, err := jsonschema.For[Out](nil)
	if err != nil {
		return fmt.Errorf("operation %s: output schema: %w", op.Name, err)
	}
	validator, err := newInputValidator(op.Name, inSchema)
	if err != nil {
		return fmt.Errorf("operation %s: input schema: %w", op.Name, err)
	}
	reg := &registered{
		info: OpInfo{
			Name: op.Name, Description: op.Description, Access: op.Access, Effect: op.Effect,
			Idempotent: op.Idempotent, InputSchema: inSchema, OutputSchema: outSchema, UCP: op.UCP,
		},
		input: validator,
	}
	validate := func(in In) error {
		if v, ok := any(in).(Validator); ok {
			return v.Validate()
		}
		if v, ok := any(&in).(Validator); ok {
			return v.Validate()
		}
		return nil
	}
	run := func(ctx context.Context, in In) (any, error) {
		if err := validate(in); err != nil {
			return nil, err
		}
		return op.Handle(ctx, in)
	}
	reg.checkJSON = func(raw json.RawMessage) error {
		in, err := decodeInput[In](validator, raw)
		if err != nil {
			return err
		}
		return validate(in)
	}
	reg.callJSON = func(ctx context.Context, raw json.RawMessage) (any, error) {
		in, err := decodeInput[In](validator, raw)
		if err != nil {
			return nil, err
		}
		return run(ctx, in)
	}
	reg.callAny = func(ctx context.Context, v any) (any, error) {
		in, ok := v.(In)
		if !ok {
			var want In
			return nil, Internal(fmt.Errorf("operation %s called with %T, want %T", op.Name, v, want))
		}
		return run(ctx, in)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.ops[op.Name]; dup {
		return fmt.Errorf("operation %s is registered twice", op.Name)
	}
	r.ops[op.Name] = reg
	return nil
}

// decodeInput validates raw against the input schema, then decodes it. An
// empty body is an empty object, so operations without input need none.
func decodeInput[In any](v *inputValidator, raw json.RawMessage) (In, error) {
	var in In
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = json.RawMessage("{}")
	}
	if err := v.validate(raw); err != nil {
		return in, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return in, Invalid(typeErr.Field, "want %s, got %s", typeErr.Type, typeErr.Value)
		}
		return in, Invalid("", "decode input: %v", err)
	}
	return in, nil
}

// List returns every operation, sorted by name.
func (r *Registry) List() []OpInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]OpInfo, 0, len(r.ops))
	for _, op := range r.ops {
		out = append(out, op.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ListFor returns the operations p may call, sorted by name.
func (r *Registry) ListFor(p Principal) []OpInfo {
	var out []OpInfo
	for _, op := range r.List() {
		if op.Access.Allows(p) {
			out = append(out, op)
		}
	}
	return out
}

// Lookup returns the operation called name.
func (r *Registry) Lookup(name string) (OpInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	op, ok := r.ops[name]
	if !ok {
		return OpInfo{}, false
	}
	return op.info, true
}

// CallJSON calls an operation with JSON input, as the MCP and HTTP edges do.
// The result is the operation's Out value.
func (r *Registry) CallJSON(ctx context.Context, name string, input json.RawMessage) (any, error) {
	return r.call(ctx, name, func(op *registered) (any, error) { return op.callJSON(ctx, input) })
}

// Check validates a call of an operation with JSON input exactly as
// CallJSON would (existence, access for the caller in ctx, JSON Schema, the
// input's Validate) without running it, so a batch of calls can be checked
// whole before any of it runs. It returns the error CallJSON would return
// before calling the handler.
func (r *Registry) Check(ctx context.Context, name string, input json.RawMessage) (err error) {
	op, err := r.allowed(ctx, name)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			r.log.ErrorContext(ctx, "operation input check panicked", "op", name, "panic", p, "stack", string(debug.Stack()))
			err = Internal(fmt.Errorf("check input of %s: panic: %v", name, p))
		}
	}()
	return op.checkJSON(input)
}

// Call calls an operation with typed input, as GraphQL resolvers do. In and
// Out must be the operation's own types.
func Call[In, Out any](ctx context.Context, r *Registry, name string, in In) (Out, error) {
	var zero Out
	res, err := r.call(ctx, name, func(op *registered) (any, error) { return op.callAny(ctx, in) })
	if err != nil {
		return zero, err
	}
	out, ok := res.(Out)
	if !ok {
		return zero, Internal(fmt.Errorf("operation %s returned %T, want %T", name, res, zero))
	}
	return out, nil
}

// allowed returns the operation called name if the caller in ctx may call
// it. Errors: not_found, unauthorized, forbidden.
func (r *Registry) allowed(ctx context.Context, name string) (*registered, error) {
	r.mu.RLock()
	op, ok := r.ops[name]
	r.mu.RUnlock()
	if !ok {
		return nil, NotFound("no operation named %q", name)
	}
	p := PrincipalFrom(ctx)
	if !op.info.Access.Allows(p) {
		if p.Role == RoleAnonymous {
			return nil, &Error{Code: CodeUnauthorized, Message: fmt.Sprintf("%s needs a %s API key: send Authorization: Bearer <key>", name, op.info.Access)}
		}
		return nil, &Error{Code: CodeForbidden, Message: fmt.Sprintf("%s is for %ss; this key's role is %s", name, op.info.Access, p.Role)}
	}
	return op, nil
}

func (r *Registry) call(ctx context.Context, name string, do func(*registered) (any, error)) (out any, err error) {
	// Unknown names are answered before the observer sees them, so
	// callers can't grow metric labels without bound.
	r.mu.RLock()
	_, ok := r.ops[name]
	r.mu.RUnlock()
	if !ok {
		return nil, NotFound("no operation named %q", name)
	}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r.log.ErrorContext(ctx, "operation panicked", "op", name, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, Internal(fmt.Errorf("operation %s panicked: %v", name, p))
		}
		if err != nil {
			if e := AsError(err); e.Code == CodeInternal {
				r.log.ErrorContext(ctx, "operation failed", "op", name, "err", err)
			}
		}
		if r.observe != nil {
			r.observe(name, time.Since(start), err)
		}
	}()
	op, err := r.allowed(ctx, name)
	if err != nil {
		return nil, err
	}
	return do(op)
}
