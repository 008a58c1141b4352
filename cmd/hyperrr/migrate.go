package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// withDB resolves the configuration, opens the database with the built-in
// modules' schemas and hands fn the database and the migrations to apply.
func withDB(ctx context.Context, config func() (gateway.Config, error), fn func(*sqldb.DB, []sqldb.Source) error) error {
	cfg, err := config()
	if err != nil {
		return err
	}
	db, sources, err := gateway.OpenDB(ctx, gateway.Options{Config: cfg})
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db, sources)
}

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or list database migrations (serve applies them too)",
	}
	config := gateway.BindFlags(cmd.PersistentFlags())
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply pending migrations of every module, in dependency order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd.Context(), config, func(db *sqldb.DB, sources []sqldb.Source) error {
				applied, err := db.Migrate(cmd.Context(), sources)
				for _, a := range applied {
					fmt.Fprintf(cmd.OutOrStdout(), "applied %s %s\n", a.Module, sqldb.FormatVersion(a.Version, a.Name))
				}
				if err == nil && len(applied) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date\n", db)
				}
				return err
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List every migration and when it was applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd.Context(), config, func(db *sqldb.DB, sources []sqldb.Source) error {
				status, err := db.MigrationStatus(cmd.Context(), sources)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "MODULE\tMIGRATION\tAPPLIED")
				for _, s := range status {
					applied := "pending"
					if !s.AppliedAt.IsZero() {
						applied = s.AppliedAt.Format("2006-01-02 15:04:05Z")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Module, sqldb.FormatVersion(s.Version, s.Name), applied)
				}
				return tw.Flush()
			})
		},
	})
	return cmd
}
