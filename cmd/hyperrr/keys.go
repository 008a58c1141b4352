package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/apikey"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke API keys",
	}
	config := gateway.BindFlags(cmd.PersistentFlags())
	withStore := func(ctx context.Context, fn func(*apikey.Store) error) error {
		return withDB(ctx, config, func(db *sqldb.DB, sources []sqldb.Source) error {
			if _, err := db.Migrate(ctx, sources); err != nil {
				return err
			}
			return fn(apikey.New(db))
		})
	}

	var role, customer, label string
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue a key; it is printed once and cannot be shown again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), func(s *apikey.Store) error {
				key, k, err := s.Create(cmd.Context(), mdk.Role(role), customer, label)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), key)
				fmt.Fprintf(cmd.ErrOrStderr(), "created %s key %s; store it now, it is not shown again\n", k.Role, k.Prefix)
				return nil
			})
		},
	}
	create.Flags().StringVar(&role, "role", "", "merchant or shopper (required)")
	create.Flags().StringVar(&customer, "customer", "", "customer ID a shopper key acts for")
	create.Flags().StringVar(&label, "label", "", "free text to recognise the key by")
	create.MarkFlagRequired("role") //nolint:errcheck // the flag exists just above

	var prefix string
	list := &cobra.Command{
		Use:   "list",
		Short: "List keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), func(s *apikey.Store) error {
				keys, err := s.List(cmd.Context(), prefix)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PREFIX\tROLE\tCUSTOMER\tLABEL\tCREATED\tREVOKED")
				for _, k := range keys {
					revoked := "-"
					if k.RevokedAt != nil {
						revoked = k.RevokedAt.Format("2006-01-02 15:04Z")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Prefix, k.Role, dash(k.CustomerID), dash(k.Label), k.CreatedAt.Format("2006-01-02 15:04Z"), revoked)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&prefix, "prefix", "", "only keys whose prefix starts with this")

	revoke := &cobra.Command{
		Use:   "revoke PREFIX",
		Short: "Revoke a key by its prefix; requests with it get 401 from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), func(s *apikey.Store) error {
				if err := s.Revoke(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
