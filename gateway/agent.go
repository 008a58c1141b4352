package gateway

import (
	"net/http"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools/agent"
)

// configureAgent hands the catalog agent its chat model from the
// configuration. An agent without a model still starts: its turns answer
// with an error naming the settings to set.
func (g *Gateway) configureAgent() {
	if svc, err := g.Agent(); err == nil {
		svc.UseLLM(agent.LLMConfig{BaseURL: g.cfg.LLMBaseURL, Model: g.cfg.LLMModel, APIKey: g.cfg.LLMAPIKey})
		if err := svc.Ready(); err != nil {
			g.log.Info("catalog agent is off", "reason", mdk.AsError(err).Message)
		}
	}
}

// Agent returns the catalog agent (for the HTTP, GraphQL and CLI edges).
// Errors: unavailable when the tools.agent module is not loaded.
func (g *Gateway) Agent() (*agent.Service, error) {
	if m, ok := g.Module(agent.ModuleID); ok {
		if am, ok := m.(*agent.Module); ok && am.Agent() != nil {
			return am.Agent(), nil
		}
	}
	return nil, mdk.Errorf(mdk.CodeUnavailable, "the catalog agent module (%s) is not loaded in this server", agent.ModuleID)
}

// agentChat serves POST /agent/chat (Server-Sent Events; see
// agent.ChatHandler).
func (g *Gateway) agentChat() http.Handler {
	svc, err := g.Agent()
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, err) })
	}
	return agent.ChatHandler{Service: svc, WriteError: writeError, MaxBodyBytes: g.cfg.MaxBodyBytes}
}
