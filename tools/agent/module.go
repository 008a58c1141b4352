package agent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// ModuleID is the agent's module ID; its tables live in the agent schema.
const ModuleID = "tools.agent"

// Configuration defaults (HYPERRR_AGENT_<KEY>).
const (
	defaultMaxSteps   = 8
	defaultBulkLimit  = 3
	defaultLLMTimeout = 2 * time.Minute
	defaultLLMRetries = 2
	defaultLease      = time.Minute
)

// Module runs the agent inside the gateway so that its conversations get a
// schema, migrations and an outbox (for audit events) like any module's.
// It registers no operations: it is a client of the others'.
type Module struct {
	svc     *Service
	sweeper mdk.Periodic
}

// New returns the module, ready for the gateway to Init.
func New() *Module { return &Module{} }

// ID implements mdk.Module.
func (m *Module) ID() string { return ModuleID }

// Requires implements mdk.Module: the agent finds operations in the
// registry when a turn runs, so it needs no module started first.
func (m *Module) Requires() []string { return nil }

// Init reads HYPERRR_AGENT_{MAX_STEPS,BULK_LIMIT,LLM_TIMEOUT,LLM_RETRIES,LEASE}
// and builds the service. The LLM itself is configured by the gateway
// (Service.UseLLM), from HYPERRR_LLM_* settings.
func (m *Module) Init(ctx context.Context, rt *mdk.Runtime) error {
	var cfg Config
	var err error
	if cfg.MaxSteps, err = rt.Config.Int("max_steps", defaultMaxSteps); err != nil {
		return err
	}
	if cfg.BulkLimit, err = rt.Config.Int("bulk_limit", defaultBulkLimit); err != nil {
		return err
	}
	if cfg.LLMTimeout, err = rt.Config.Duration("llm_timeout", defaultLLMTimeout); err != nil {
		return err
	}
	if cfg.LLMRetries, err = rt.Config.Int("llm_retries", defaultLLMRetries); err != nil {
		return err
	}
	if cfg.Lease, err = rt.Config.Duration("lease", defaultLease); err != nil {
		return err
	}
	if cfg.MaxSteps < 1 || cfg.BulkLimit < 0 || cfg.LLMTimeout <= 0 || cfg.LLMRetries < 0 || cfg.Lease <= 0 {
		return fmt.Errorf("HYPERRR_AGENT_MAX_STEPS must be at least 1, HYPERRR_AGENT_BULK_LIMIT, HYPERRR_AGENT_LLM_RETRIES at least 0 and HYPERRR_AGENT_LLM_TIMEOUT, HYPERRR_AGENT_LEASE positive")
	}
	log := rt.Log
	if log == nil {
		log = slog.Default()
	}
	m.svc = newService(cfg, &store{db: rt.DB, outbox: rt.Outbox, now: time.Now}, rt.Ops, log)
	return nil
}

// Start begins the sweeper that resolves proposals left applying by an
// instance that stopped (see Service.ResolveInterrupted), once per lease.
func (m *Module) Start(ctx context.Context) error {
	m.sweeper.Start(ctx, m.svc.cfg.Lease, func(ctx context.Context) {
		if _, err := m.svc.ResolveInterrupted(ctx); err != nil && ctx.Err() == nil {
			m.svc.log.Error("resolve interrupted agent proposals", "err", err)
		}
	})
	return nil
}

// Shutdown stops the sweeper, waiting for a sweep in progress until ctx
// ends.
func (m *Module) Shutdown(ctx context.Context) error {
	if err := m.sweeper.Stop(ctx); err != nil {
		return fmt.Errorf("agent sweeper still running at shutdown deadline: %w", err)
	}
	return nil
}

// Service implements mdk.Provider and gives the gateway the agent.
func (m *Module) Service() any { return m.svc }

// Agent returns the running service (nil before Init).
func (m *Module) Agent() *Service { return m.svc }
