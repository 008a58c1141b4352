// Package gatewaytest opens gateways on throwaway databases for tests in any
// package. It is a non-test file so that other packages' tests can import it;
// it holds only the set-up those tests used to repeat.
package gatewaytest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Config is the default configuration on a fresh dbtest database of engine.
// Its shutdown timeout is 5 s: long enough for a step in flight to finish,
// short enough that a stuck shutdown fails the test instead of hanging it.
// Callers may change fields before passing it to Open or New.
func Config(t testing.TB, engine sqldb.Engine) gateway.Config {
	t.Helper()
	db := dbtest.Config(t, engine)
	cfg := gateway.DefaultConfig()
	cfg.DataDir, cfg.DatabaseURL = db.DataDir, db.URL
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// Open opens a gateway with New and closes it when the test ends. Use New
// instead for a gateway handed to Serve, which closes it itself.
func Open(t testing.TB, opts gateway.Options) *gateway.Gateway {
	t.Helper()
	g := New(t, opts)
	t.Cleanup(g.Close)
	return g
}

// New opens a gateway, failing the test if it cannot. A nil Logger discards
// logs, keeping test output to the failures. A nil Environ means no
// variables rather than os.Environ, so that a developer's HYPERRR_* settings
// cannot change what a test sees.
func New(t testing.TB, opts gateway.Options) *gateway.Gateway {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	g, err := gateway.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
