package order

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/hyperrr/hyperrr/mdk"
)

// Payment error codes a caller can act on.
const (
	CodePaymentDeclined = mdk.Code("payment_declined")
	// CodeRequiresEscalation is returned by a provider that needs the
	// buyer to finish the payment elsewhere (3-D Secure and the like);
	// checkout turns it into status requires_escalation.
	CodeRequiresEscalation = mdk.Code("requires_escalation")
	CodeCaptureFailed      = mdk.Code("payment_capture_failed")
)

// Test payment tokens understood by TestProvider.
const (
	TokenSuccess     = "tok_success"
	TokenDecline     = "tok_decline"
	TokenEscalate    = "tok_escalate"
	TokenFailCapture = "tok_fail_capture"
)

// Authorization is a hold on the buyer's funds.
type Authorization struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

// Provider is a payment service. Every call carries an idempotency key:
// the saga may run a step again after a crash, and the provider must not
// charge twice for it.
type Provider interface {
	Authorize(ctx context.Context, key, token string, amount int64, currency string) (Authorization, error)
	Capture(ctx context.Context, key, authID string, amount int64) error
	Void(ctx context.Context, key, authID string) error
	Refund(ctx context.Context, key, authID string, amount int64) error
}

// TestProvider is the built-in provider for development and tests, driven
// by the token: tok_success authorizes, tok_decline is declined,
// tok_escalate requires escalation, tok_fail_capture authorizes but fails
// to capture. It remembers authorizations in memory only. Like a real
// provider, it is idempotent by key: Authorize with a key it has seen
// returns the first authorization and holds no more funds. It is safe for
// concurrent use, and may be shared by several gateways to stand for an
// external service that outlives them.
type TestProvider struct {
	mu    sync.Mutex
	auths map[string]testAuth // by authorization ID
	byKey map[string]string   // idempotency key → authorization ID
	calls int                 // Authorize calls, declined ones included
	after AfterAuthorize
	// done holds the keys of the captures and refunds applied: a repeat
	// of one is answered without applying it again.
	done              map[string]bool
	captures, refunds int
}

// AfterAuthorize is a test hook run by TestProvider.Authorize once the
// authorization is held, before it returns; a non-nil error is returned by
// Authorize in place of the authorization. It lets tests stop a process at
// the moment the provider has charged but the caller has not yet recorded
// it.
type AfterAuthorize func(ctx context.Context, key string, auth Authorization) error

type testAuth struct {
	token            string
	amount, refunded int64
	captured, voided bool
}

// NewTestProvider returns an empty TestProvider.
func NewTestProvider() *TestProvider {
	return &TestProvider{auths: map[string]testAuth{}, byKey: map[string]string{}, done: map[string]bool{}}
}

// Authorize implements Provider.
func (p *TestProvider) Authorize(ctx context.Context, key, token string, amount int64, _ string) (Authorization, error) {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	switch token {
	case TokenDecline:
		return Authorization{}, &mdk.Error{Code: CodePaymentDeclined, Field: "payment_token",
			Message: "the payment was declined; ask the buyer for another payment method and update the checkout"}
	case TokenEscalate:
		return Authorization{}, &mdk.Error{Code: CodeRequiresEscalation,
			Message: "the payment needs the buyer to confirm it at continue_url"}
	case TokenSuccess, TokenFailCapture:
	default:
		return Authorization{}, &mdk.Error{Code: CodePaymentDeclined, Field: "payment_token",
			Message: "unknown payment token; the test provider accepts tok_success, tok_decline, tok_escalate and tok_fail_capture"}
	}
	auth, after := p.hold(key, token, amount)
	if after != nil {
		if err := after(ctx, key, auth); err != nil {
			return Authorization{}, err
		}
	}
	return auth, nil
}

// hold returns the authorization for key, creating it on the key's first
// call, with the hook to run after it.
func (p *TestProvider) hold(key, token string, amount int64) (Authorization, AfterAuthorize) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.byKey[key]; ok {
		return Authorization{ID: id, Amount: p.auths[id].amount}, p.after
	}
	sum := sha256.Sum256([]byte(key))
	id := "auth_" + hex.EncodeToString(sum[:12])
	p.byKey[key] = id
	p.auths[id] = testAuth{token: token, amount: amount}
	return Authorization{ID: id, Amount: amount}, p.after
}

// SetAfterAuthorize installs fn as the hook every later Authorize runs
// once it holds the funds; nil removes it. For tests only.
func (p *TestProvider) SetAfterAuthorize(fn AfterAuthorize) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = fn
}

// Capture implements Provider; a repeated key captures nothing more.
func (p *TestProvider) Capture(_ context.Context, key, authID string, _ int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done[key] {
		return nil
	}
	a, ok := p.auths[authID]
	switch {
	case !ok:
		return mdk.Errorf(CodeCaptureFailed, "no authorization %s to capture", authID)
	case a.token == TokenFailCapture:
		return mdk.Errorf(CodeCaptureFailed, "the payment provider refused to capture authorization %s", authID)
	case a.voided:
		return mdk.Errorf(mdk.CodeConflict, "authorization %s was voided", authID)
	}
	a.captured = true
	p.auths[authID] = a
	p.done[key] = true
	p.captures++
	return nil
}

// Void implements Provider; voiding twice does nothing.
func (p *TestProvider) Void(_ context.Context, _, authID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.auths[authID]
	if !ok {
		return nil
	}
	if a.captured {
		return mdk.Errorf(mdk.CodeConflict, "authorization %s was captured; refund it instead", authID)
	}
	a.voided = true
	p.auths[authID] = a
	return nil
}

// Refund implements Provider; a repeated key refunds nothing more.
func (p *TestProvider) Refund(_ context.Context, key, authID string, amount int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done[key] {
		return nil
	}
	a, ok := p.auths[authID]
	if !ok || !a.captured {
		return mdk.Errorf(mdk.CodeConflict, "authorization %s was not captured; void it instead", authID)
	}
	if a.refunded+amount > a.amount {
		return mdk.Errorf(mdk.CodeConflict, "refund of %d exceeds the %d left on %s", amount, a.amount-a.refunded, authID)
	}
	a.refunded += amount
	p.auths[authID] = a
	p.done[key] = true
	p.refunds++
	return nil
}

// Authorizations returns how many authorizations the provider holds; tests
// use it to prove a retried saga did not authorize twice.
func (p *TestProvider) Authorizations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.auths)
}

// Calls returns how many times Authorize was called, declines and repeats
// of a key included; against Authorizations it shows a retried step
// reached the provider again but was answered from its idempotency key.
func (p *TestProvider) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// Captures and Refunds return how many captures and refunds the provider
// applied, repeats of a key left out; tests use them to prove a retried or
// concurrent fulfilment or refund moved the money once.
func (p *TestProvider) Captures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.captures
}

// Refunds: see Captures.
func (p *TestProvider) Refunds() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refunds
}
