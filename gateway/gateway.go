// Package gateway is the orchestrator: it orders modules, opens and
// migrates the database, assembles each module's runtime (SQL, bus, outbox,
// workflows, operations), serves HTTP and runs the lifecycle from start-up
// to graceful shutdown.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hyperrr/hyperrr/gateway/apikey"
	"github.com/hyperrr/hyperrr/gateway/deadletter"
	"github.com/hyperrr/hyperrr/graph"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/outbox"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/workflow"
	"github.com/hyperrr/hyperrr/migrations"
)

// Options assemble a gateway. Only Config is required.
type Options struct {
	Config Config
	// Modules to run; nil means Builtin().
	Modules []mdk.Module
	// Migrations holds one folder per schema (mdk/, product/, ...); nil
	// means the embedded migrations.FS.
	Migrations fs.FS
	Logger     *slog.Logger
	// Environ supplies module config sections (HYPERRR_<SCHEMA>_<KEY>);
	// nil means os.Environ().
	Environ []string
	// SeedDemo lets modules seed demo data into an empty store.
	SeedDemo bool
	// KeepOutbox is for tools (hyperrr import) that write beside a running
	// server: their events stay in the outbox for the server's relay to
	// deliver, instead of being flushed into this process's own bus, where
	// no one else would see them.
	KeepOutbox bool
}

// Gateway is a running Hyperrr server: its modules and the services they
// share.
type Gateway struct {
	cfg      Config
	log      *slog.Logger
	db       *sqldb.DB
	bus      mdk.Bus
	relay    *outbox.Relay
	engine   *workflow.Engine
	ops      *mdk.Registry
	keys     *apikey.Store
	modules  []mdk.Module
	metrics  *metrics
	promReg  *prometheus.Registry
	draining chan struct{}
	closeMu  sync.Once
	keepOut  bool
	started  int // modules started, in order

	deadLetters *deadletter.Store
	busCheck    string   // the bus's name in /readyz: bus or nats
	milvusAddrs []string // Milvus servers modules use, for /readyz
	graph       *graph.Server
}

// plan is the ordered modules and the migrations they need.
type plan struct {
	modules []mdk.Module
	schemas []string
	sources func(sqldb.Engine) ([]sqldb.Source, error)
}

func newPlan(opts Options) (plan, error) {
	mods := opts.Modules
	if mods == nil {
		mods = Builtin()
	}
	ordered, err := Order(mods)
	if err != nil {
		return plan{}, err
	}
	fsys := opts.Migrations
	if fsys == nil {
		fsys = migrations.FS
	}
	p := plan{modules: ordered}
	seen := map[string]string{"mdk": "the MDK runtime"}
	for _, m := range ordered {
		s := mdk.SchemaOf(m)
		if owner, dup := seen[s]; dup {
			return plan{}, fmt.Errorf("modules %s and %s both claim schema %s", owner, m.ID(), s)
		}
		seen[s] = m.ID()
		p.schemas = append(p.schemas, s)
	}
	p.sources = func(e sqldb.Engine) ([]sqldb.Source, error) {
		base, err := sqldb.LoadFS(fsys, "mdk", e)
		if err != nil {
			return nil, err
		}
		out := []sqldb.Source{{Module: "mdk", Schema: "mdk", Migrations: base}}
		for i, m := range ordered {
			ms, err := sqldb.LoadFS(fsys, p.schemas[i], e)
			if err != nil {
				return nil, err
			}
			out = append(out, outbox.Source(e, p.schemas[i]), sqldb.Source{Module: m.ID(), Schema: p.schemas[i], Migrations: ms})
		}
		return out, nil
	}
	return p, nil
}

// OpenDB orders the modules, opens the database with their schemas and
// returns it with the migrations to apply, for `hyperrr migrate` and Open.
func OpenDB(ctx context.Context, opts Options) (*sqldb.DB, []sqldb.Source, error) {
	p, err := newPlan(opts)
	if err != nil {
		return nil, nil, err
	}
	db, err := sqldb.Open(ctx, sqldb.Config{URL: opts.Config.DatabaseURL, DataDir: opts.Config.DataDir, Schemas: p.schemas})
	if err != nil {
		return nil, nil, err
	}
	sources, err := p.sources(db.Engine())
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, sources, nil
}

// Open starts a gateway: database, migrations, runtime services, and each
// module's Init in dependency order. Nothing is served until Serve. Every
// error names its cause in one line, fit for a CLI to print and exit.
func Open(ctx context.Context, opts Options) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	p, err := newPlan(opts)
	if err != nil {
		return nil, err
	}
	db, sources, err := OpenDB(ctx, opts)
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx, sources)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, a := range applied {
		log.Info("migration applied", "module", a.Module, "migration", sqldb.FormatVersion(a.Version, a.Name))
	}
	g := &Gateway{cfg: opts.Config, log: log, db: db, modules: p.modules, draining: make(chan struct{}), promReg: prometheus.NewRegistry(), keepOut: opts.KeepOutbox}
	g.promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	g.metrics = newMetrics(g.promReg)
	g.ops = mdk.NewRegistry(log, g.metrics.observeOperation)
	g.keys = apikey.New(db)
	if err := g.openBus(ctx); err != nil {
		db.Close()
		return nil, err
	}
	g.relay, err = outbox.NewRelay(db, g.bus, p.schemas, outbox.Options{Logger: log.With("component", "outbox"), Registerer: g.promReg})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox relay: %w", err)
	}
	g.engine = workflow.New(db, workflow.Options{
		Owner: opts.Config.InstanceID, Logger: log.With("component", "workflow"),
		Lease: opts.Config.WorkflowLease, Registerer: g.promReg,
	})
	if err := g.initModules(ctx, p, opts); err != nil {
		g.closeServices(context.Background())
		return nil, err
	}
	if err := g.openGraph(); err != nil {
		g.closeServices(context.Background())
		return nil, fmt.Errorf("GraphQL: %w", err)
	}
	g.configureAgent()
	return g, nil
}

func (g *Gateway) initModules(ctx context.Context, p plan, opts Options) error {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	byID := map[string]mdk.Module{}
	lookup := func(id string) (mdk.Module, bool) { m, ok := byID[id]; return m, ok }
	for i, m := range p.modules {
		schema := p.schemas[i]
		rt := mdk.NewRuntime(mdk.Runtime{
			Module: m.ID(), DB: g.db, Schema: schema, Log: g.log.With("module", m.ID()),
			Config: mdk.Config{Section: schema, Values: g.moduleValues(schema, environ)},
			Bus:    g.bus, Outbox: g.relay.Writer(schema), Workflows: g.engine, Ops: g.ops,
			SeedDemo: opts.SeedDemo,
		}, m.Requires(), lookup)
		if err := m.Init(ctx, rt); err != nil {
			return fmt.Errorf("module %s: init: %w", m.ID(), err)
		}
		byID[m.ID()] = m
	}
	return nil
}

// Module returns the running module with the given ID.
func (g *Gateway) Module(id string) (mdk.Module, bool) {
	for _, m := range g.modules {
		if m.ID() == id {
			return m, true
		}
	}
	return nil, false
}

// Ops returns the operation registry (for the MCP and GraphQL edges).
func (g *Gateway) Ops() *mdk.Registry { return g.ops }

// DB returns the database handle.
func (g *Gateway) DB() *sqldb.DB { return g.db }

// Keys returns the API key store.
func (g *Gateway) Keys() *apikey.Store { return g.keys }

// Bus returns the event bus.
func (g *Gateway) Bus() mdk.Bus { return g.bus }

// Workflows returns the workflow engine.
func (g *Gateway) Workflows() *workflow.Engine { return g.engine }

// Relay returns the outbox relay.
func (g *Gateway) Relay() *outbox.Relay { return g.relay }

// Serve starts the modules and background workers and serves HTTP on ln
// until ctx ends; then it shuts down gracefully: stop accepting, drain
// in-flight requests, stop workflows at a step boundary, stop modules in
// reverse order, relay what is left in the outbox, drain the bus, close the
// database. It returns nil after a clean shutdown.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	startErr := g.Start(ctx)
	if startErr != nil && ctx.Err() != nil {
		// Asked to stop while starting (SIGTERM during a long index
		// build): a shutdown, not a failure.
		startErr = nil
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if startErr == nil {
		wg.Add(3)
		go func() { defer wg.Done(); g.runLoop(bg, "outbox relay", g.relay.Serve) }()
		go func() { defer wg.Done(); g.runLoop(bg, "workflow engine", g.engine.Serve) }()
		go func() { defer wg.Done(); g.runLoop(bg, "janitor", g.janitor) }()
	}
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	if startErr == nil {
		go func() { serveErr <- srv.Serve(ln) }()
	} else {
		ln.Close()
	}
	var runErr error
	if startErr != nil {
		runErr = startErr
	} else {
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			if !errors.Is(err, http.ErrServerClosed) {
				runErr = fmt.Errorf("serve HTTP: %w", err)
			}
		}
	}
	close(g.draining)
	g.log.Info("shutting down", "timeout", g.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		g.log.Warn("HTTP requests still running at shutdown deadline", "err", err)
	}
	if err := g.engine.Shutdown(sctx); err != nil {
		g.log.Warn("workflow engine did not stop cleanly", "err", err)
	}
	g.stopModules(sctx)
	stopBG()
	wg.Wait()
	g.closeServices(sctx)
	return runErr
}

// Start starts the modules in dependency order (Serve does it; tools that
// need modules' background work without HTTP call it themselves). A module
// that fails to start stops the rest; Close or Serve's shutdown stops those
// already started.
func (g *Gateway) Start(ctx context.Context) error {
	for _, m := range g.modules[g.started:] {
		if s, ok := m.(mdk.Starter); ok {
			if err := s.Start(ctx); err != nil {
				// A module may have begun background work before failing:
				// it is shut down with the others.
				g.started++
				return fmt.Errorf("module %s: start: %w", m.ID(), err)
			}
		}
		g.started++
	}
	return nil
}

// stopModules shuts the started modules down in reverse order.
func (g *Gateway) stopModules(ctx context.Context) {
	for ; g.started > 0; g.started-- {
		m := g.modules[g.started-1]
		if s, ok := m.(mdk.Shutdowner); ok {
			if err := s.Shutdown(ctx); err != nil {
				g.log.Warn("module did not shut down cleanly", "module", m.ID(), "err", err)
			}
		}
	}
}

// runLoop runs a background worker until ctx ends, restarting it with a
// pause if it returns early, so one failure does not silently stop events or
// workflows for the life of the process.
func (g *Gateway) runLoop(ctx context.Context, name string, serve func(context.Context) error) {
	for {
		err := serve(ctx)
		if ctx.Err() != nil {
			return
		}
		g.log.Error("background worker stopped; restarting", "worker", name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// closeServices flushes the outbox into the bus, drains the bus and closes
// the database. Safe to call more than once.
func (g *Gateway) closeServices(ctx context.Context) {
	g.closeMu.Do(func() {
		if g.keepOut {
			g.log.Debug("events left in the outbox for the server's relay")
		} else if err := g.relay.Flush(ctx); err != nil {
			g.log.Warn("outbox not fully relayed at shutdown; the rest goes out on next start", "err", err)
		}
		if err := g.bus.Close(ctx); err != nil {
			g.log.Warn("event bus not fully drained at shutdown", "err", err)
		}
		if err := g.db.Close(); err != nil {
			g.log.Warn("close database", "err", err)
		}
	})
}

// Close releases a gateway that was opened but never served.
func (g *Gateway) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer cancel()
	if err := g.engine.Shutdown(ctx); err != nil {
		g.log.Warn("workflow engine did not stop cleanly", "err", err)
	}
	g.stopModules(ctx)
	g.closeServices(ctx)
}
