package mdk

import "context"

// Role is what a caller is allowed to be.
type Role string

const (
	RoleAnonymous Role = "anonymous"
	RoleShopper   Role = "shopper"
	RoleMerchant  Role = "merchant"
)

// Principal is who is calling. It travels in the context from the edge that
// authenticated the request down to every operation.
type Principal struct {
	Role Role `json:"role"`
	// CustomerID identifies a shopper; it scopes carts, checkouts and orders.
	CustomerID string `json:"customer_id,omitempty"`
	// KeyID is the public prefix of the API key used, for audit logs.
	KeyID string `json:"key_id,omitempty"`
}

// Anonymous is the principal of a request that presented no credentials.
var Anonymous = Principal{Role: RoleAnonymous}

// IsMerchant reports whether p may manage the store.
func (p Principal) IsMerchant() bool { return p.Role == RoleMerchant }

// IsShopper reports whether p is an authenticated shopper.
func (p Principal) IsShopper() bool { return p.Role == RoleShopper }

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx; a context without one is
// anonymous, so forgetting to authenticate never grants anything.
func PrincipalFrom(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok && p.Role != "" {
		return p
	}
	return Anonymous
}
