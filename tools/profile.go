package tools

import (
	"net/http"
	"sort"
	"strings"
)

// PaymentHandler is a UCP payment handler declaration
// (payment_handler.json): who issues the payment tokens checkouts take.
type PaymentHandler struct {
	ID      string         `json:"id"`
	Version string         `json:"version"`
	Spec    string         `json:"spec,omitempty"`
	Config  map[string]any `json:"config,omitempty"`
}

// DefaultPaymentHandlers is the store's built-in token handler: the
// payment_token given to update_checkout or complete_checkout.
func DefaultPaymentHandlers() map[string][]PaymentHandler {
	return map[string][]PaymentHandler{
		"dev.hyperrr.payment_token": {{
			ID: "payment_token", Version: UCPVersion,
			Config: map[string]any{"field": "payment_token", "test_tokens": []string{"tok_success", "tok_decline", "tok_escalate", "tok_fail_capture"}},
		}},
	}
}

// Profile is the UCP business profile served at /.well-known/ucp
// (profile.json#/$defs/business_schema).
type Profile struct {
	UCP ProfileUCP `json:"ucp"`
}

// ProfileUCP is the profile's protocol metadata.
type ProfileUCP struct {
	Version         string                      `json:"version"`
	Services        map[string][]ProfileEntry   `json:"services"`
	Capabilities    map[string][]ProfileEntry   `json:"capabilities"`
	PaymentHandlers map[string][]PaymentHandler `json:"payment_handlers"`
}

// ProfileEntry is a service binding or capability declaration.
type ProfileEntry struct {
	Version   string `json:"version"`
	Spec      string `json:"spec,omitempty"`
	Schema    string `json:"schema,omitempty"`
	Transport string `json:"transport,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"`
}

const ucpSite = "https://ucp.dev"

// Profile returns the business profile advertising the MCP endpoint (an
// absolute URL) and the capabilities of the UCP-bound operations.
func (s *Server) Profile(mcpEndpoint string) Profile {
	caps := map[string][]ProfileEntry{}
	var names []string
	for _, t := range s.tools {
		if t.ucp != nil {
			names = append(names, t.ucp.method.Capability)
		}
	}
	sort.Strings(names)
	for _, c := range names {
		caps[c] = []ProfileEntry{{Version: UCPVersion, Spec: ucpSite + "/specification/", Schema: capabilitySchema(c)}}
	}
	return Profile{UCP: ProfileUCP{
		Version: UCPVersion,
		Services: map[string][]ProfileEntry{"dev.ucp.shopping": {{
			Version: UCPVersion, Transport: "mcp", Endpoint: mcpEndpoint,
			Spec: ucpSite + "/specification/", Schema: ucpSite + "/services/shopping/mcp.openrpc.json",
		}}},
		Capabilities:    caps,
		PaymentHandlers: s.handlers,
	}}
}

// capabilitySchema maps dev.ucp.shopping.catalog.search to
// https://ucp.dev/schemas/shopping/catalog_search.json.
func capabilitySchema(c string) string {
	rest, ok := strings.CutPrefix(c, "dev.ucp.shopping.")
	if !ok {
		return ucpSite + "/schemas/"
	}
	return ucpSite + "/schemas/shopping/" + strings.ReplaceAll(rest, ".", "_") + ".json"
}

// ProfileHandler serves the profile. The MCP endpoint is publicURL + /mcp,
// or built from the request's host when publicURL is empty.
func (s *Server) ProfileHandler(publicURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := strings.TrimRight(publicURL, "/")
		if base == "" {
			scheme := "http"
			if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
				scheme = "https"
			}
			base = scheme + "://" + r.Host
		}
		body, err := marshal(s.Profile(base + "/mcp"))
		if err != nil {
			http.Error(w, "encode profile", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if publicURL != "" {
			// Built from the request's Host otherwise: not for shared caches.
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Write(body) //nolint:errcheck // a failed write means the client left
	})
}
