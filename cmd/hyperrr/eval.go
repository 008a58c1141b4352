package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk/search"
	"github.com/hyperrr/hyperrr/mdk/search/searcheval"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

func evalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "eval", Short: "Measure the quality of the server's answers"}
	cmd.AddCommand(evalSearchCmd())
	return cmd
}

// evalVariant is one configuration of the search to score: the rankers
// (mode) and the HYPERRR_PRODUCT_* settings that switch parts off.
type evalVariant struct {
	name    string
	mode    search.Mode
	environ []string
}

// evalVariants build the search up one part at a time, so the table shows
// what each adds.
var evalVariants = []evalVariant{
	{"bm25 (uniform fields, no synonyms, no typos)", search.ModeLexical, []string{"HYPERRR_PRODUCT_SEARCH_FIELD_WEIGHTS=uniform", "HYPERRR_PRODUCT_SEARCH_SYNONYMS=false", "HYPERRR_PRODUCT_SEARCH_TYPOS=false"}},
	{"+ field weights", search.ModeLexical, []string{"HYPERRR_PRODUCT_SEARCH_SYNONYMS=false", "HYPERRR_PRODUCT_SEARCH_TYPOS=false"}},
	{"+ synonyms", search.ModeLexical, []string{"HYPERRR_PRODUCT_SEARCH_TYPOS=false"}},
	{"+ typo tolerance (lexical)", search.ModeLexical, nil},
	{"vector only (embeddings)", search.ModeVector, nil},
	{"hybrid (lexical + vector, RRF)", search.ModeHybrid, nil},
}

func evalSearchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Score product search against graded judgments: NDCG@10, MRR, recall@100",
		Long: `Imports the catalog into a temporary data directory (or uses --data-dir as it
is), builds the search index as the server does, runs every query and scores
the results against the judgments: NDCG@10 (gain 2^grade - 1), MRR and
recall@100 (grade >= 1 is relevant). --ablation also scores the search with
its parts switched off one by one. The last line is "NDCG@10 = 0.xxxx" for
the configuration the server runs (hybrid).

Queries are "id<TAB>text" lines; judgments are TREC qrels lines
"query_id 0 product_external_id grade"; the catalog's product IDs are the
external IDs.`,
		Args: cobra.NoArgs,
	}
	catalog := cmd.Flags().String("catalog", "", "catalog file to import (JSON Lines, CSV or the benchmark format)")
	queries := cmd.Flags().String("queries", "", "queries file: id<TAB>text lines")
	qrels := cmd.Flags().String("qrels", "", "judgments file: TREC qrels lines")
	dataDir := cmd.Flags().String("data-dir", "", "score an existing SQLite data directory instead of importing --catalog")
	ablation := cmd.Flags().Bool("ablation", false, "also score the search with its parts switched off one at a time")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *queries == "" || *qrels == "" || (*catalog == "" && *dataDir == "") {
			return fmt.Errorf("give --queries, --qrels and --catalog (or --data-dir)")
		}
		qs, err := searcheval.LoadQueries(*queries)
		if err != nil {
			return err
		}
		judged, err := searcheval.LoadQrels(*qrels, qs)
		if err != nil {
			return err
		}
		dir := *dataDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "hyperrr-eval-"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := evalImport(cmd.Context(), dir, *catalog, cmd.ErrOrStderr()); err != nil {
				return err
			}
		}
		variants := evalVariants[len(evalVariants)-1:]
		if *ablation {
			variants = evalVariants
		}
		out := cmd.OutOrStdout()
		var last searcheval.Report
		summary := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(summary, "CONFIGURATION\tNDCG@10\tMRR\tRECALL@100")
		for _, v := range variants {
			r, err := evalRun(cmd.Context(), dir, v, qs, judged)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			fmt.Fprintf(summary, "%s\t%.4f\t%.4f\t%.4f\n", v.name, r.Overall.NDCG, r.Overall.MRR, r.Overall.Recall)
			last = r
		}
		if *ablation {
			if err := summary.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(out)
		}
		return searcheval.Format(out, last)
	}
	return cmd
}

// evalImport imports the catalog file into a fresh data directory.
func evalImport(ctx context.Context, dir, file string, stderr io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	defer f.Close()
	g, m, err := evalGateway(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer g.Close()
	start := time.Now()
	res, err := m.Import(ctx, f, product.ImportOptions{Format: importer.Auto, MaxErrors: 20})
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	fmt.Fprintf(stderr, "imported %s in %s: %d created, %d failed\n", file, time.Since(start).Round(time.Millisecond), res.Created, res.Failed)
	return nil
}

// evalGateway opens the catalog in dir with the given product settings.
func evalGateway(ctx context.Context, dir string, environ []string) (*gateway.Gateway, *product.Module, error) {
	cfg := gateway.DefaultConfig()
	cfg.DataDir = dir
	g, err := gateway.Open(ctx, gateway.Options{
		Config: cfg, Environ: append([]string{}, environ...),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, nil, err
	}
	mod, _ := g.Module(product.ModuleID)
	m, ok := mod.(*product.Module)
	if !ok {
		g.Close()
		return nil, nil, fmt.Errorf("this build has no %s module", product.ModuleID)
	}
	return g, m, nil
}

// evalRun builds the search index of one variant and scores it.
func evalRun(ctx context.Context, dir string, v evalVariant, qs []searcheval.Query, judged searcheval.Qrels) (searcheval.Report, error) {
	g, m, err := evalGateway(ctx, dir, v.environ)
	if err != nil {
		return searcheval.Report{}, err
	}
	defer g.Close()
	if err := g.Start(ctx); err != nil {
		return searcheval.Report{}, err
	}
	if err := m.WaitSearchReady(ctx); err != nil {
		return searcheval.Report{}, err
	}
	known := map[string]bool{}
	rows, err := g.DB().QueryContext(ctx, `SELECT external_id FROM product.products WHERE external_id IS NOT NULL`)
	if err != nil {
		return searcheval.Report{}, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return searcheval.Report{}, err
		}
		known[id] = true
	}
	rows.Close()
	if err := judged.CheckProducts(func(id string) bool { return known[id] }); err != nil {
		return searcheval.Report{}, err
	}
	return searcheval.Run(ctx, qs, judged, func(ctx context.Context, text string) ([]string, error) {
		return m.SearchExternalIDs(ctx, text, v.mode, searcheval.RecallDepth)
	})
}
