package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hyperrr/hyperrr/gateway"
)

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (SQLite in ./hyperrr-data on 127.0.0.1:8080 unless configured)",
		Args:  cobra.NoArgs,
	}
	config := gateway.BindFlags(cmd.Flags())
	noDemo := cmd.Flags().Bool("no-demo", false, "do not seed a demo catalog into an empty store")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config()
		if err != nil {
			return err
		}
		log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.LogFormat)
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		g, err := gateway.Open(cmd.Context(), gateway.Options{Config: cfg, Logger: log, SeedDemo: !*noDemo})
		if err != nil {
			ln.Close()
			return err
		}
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "Hyperrr %s serving http://%s\n", version(), ln.Addr())
		fmt.Fprintf(out, "  data:        %s\n", g.DB())
		fmt.Fprintf(out, "  bus:         %s\n", busName(cfg.NATSURL))
		fmt.Fprintf(out, "  operations:  http://%s/v1/operations (%d registered)\n", ln.Addr(), len(g.Ops().List()))
		fmt.Fprintf(out, "  MCP:         http://%s/mcp  (UCP profile: /.well-known/ucp)\n", ln.Addr())
		fmt.Fprintf(out, "  GraphQL:     http://%s/graphql\n", ln.Addr())
		fmt.Fprintf(out, "  health:      http://%s/healthz  http://%s/readyz\n", ln.Addr(), ln.Addr())
		fmt.Fprintf(out, "  metrics:     http://%s/metrics\n", ln.Addr())
		fmt.Fprintf(out, "Press Ctrl+C to stop.\n")
		return g.Serve(cmd.Context(), ln)
	}
	return cmd
}

// busName says which event bus serve uses, without a NATS URL's password.
func busName(natsURL string) string {
	if natsURL == "" {
		return "in-process (set HYPERRR_NATS_URL to run several instances)"
	}
	shown := make([]string, 0, 1)
	for _, one := range strings.Split(natsURL, ",") {
		if u, err := url.Parse(strings.TrimSpace(one)); err == nil {
			shown = append(shown, u.Redacted())
		}
	}
	return "NATS JetStream at " + strings.Join(shown, ",")
}
