package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"sync"

	"github.com/mark3labs/mcp-go/server"
	"github.com/spf13/cobra"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools"
)

// mcpCmd serves the MCP server over stdio for desktop clients (Claude
// Desktop, MCP Inspector). stdout carries JSON-RPC only: every log goes to
// stderr.
func mcpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve MCP over stdio (Claude Desktop, MCP Inspector) on the same data as serve",
		Long: "Serve the MCP tools, resources and prompts over stdin/stdout. The caller's role comes from --api-key " +
			"(or HYPERRR_API_KEY): a merchant or shopper key, or none to browse the catalog anonymously. Logs go to stderr.",
		Args: cobra.NoArgs,
	}
	config := gateway.BindFlags(cmd.Flags())
	apiKey := cmd.Flags().String("api-key", "", "API key whose role the MCP client acts with; empty is anonymous [HYPERRR_API_KEY]")
	noDemo := cmd.Flags().Bool("no-demo", false, "do not seed a demo catalog into an empty store")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config()
		if err != nil {
			return err
		}
		key := *apiKey
		if !cmd.Flags().Changed("api-key") {
			key = os.Getenv("HYPERRR_API_KEY")
		}
		logger := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.LogFormat)
		return serveStdio(cmd.Context(), cfg, key, !*noDemo, logger, cmd.InOrStdin(), cmd.OutOrStdout())
	}
	return cmd
}

// serveStdio opens the gateway, runs its background workers (outbox relay,
// workflows) and answers MCP on in/out until in ends or ctx is canceled.
func serveStdio(ctx context.Context, cfg gateway.Config, key string, seedDemo bool, logger *slog.Logger, in io.Reader, out io.Writer) error {
	g, err := gateway.Open(ctx, gateway.Options{Config: cfg, Logger: logger, SeedDemo: seedDemo})
	if err != nil {
		return err
	}
	defer g.Close()
	p := mdk.Anonymous
	if key != "" {
		if p, err = g.Keys().Authenticate(ctx, key); err != nil {
			return fmt.Errorf("--api-key: %w", err)
		}
	}
	if err := g.Start(ctx); err != nil {
		return err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for name, serve := range map[string]func(context.Context) error{"outbox relay": g.Relay().Serve, "workflow engine": g.Workflows().Serve} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(bg); err != nil && bg.Err() == nil {
				logger.Error("background worker stopped", "worker", name, "err", err)
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()
	srv, err := tools.New(g.Ops(), tools.Options{Version: version(), Logger: logger.With("component", "mcp")})
	if err != nil {
		return err
	}
	stdio := server.NewStdioServer(srv.MCP())
	stdio.SetErrorLogger(log.New(slogWriter{logger}, "", 0))
	stdio.SetContextFunc(func(ctx context.Context) context.Context { return mdk.WithPrincipal(ctx, p) })
	logger.Info("serving MCP on stdio", "role", p.Role, "data", g.DB().String())
	err = stdio.Listen(ctx, in, out)
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("serve MCP on stdio: %w", err)
}

// slogWriter sends mcp-go's standard-library log lines to the logger
// (stderr), never to stdout.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.l.Warn(string(b), "component", "mcp-stdio")
	return len(b), nil
}
