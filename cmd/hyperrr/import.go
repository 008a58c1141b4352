package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

func importCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a catalog file into the store (JSON Lines, CSV or the benchmark format; - reads stdin)",
		Long: `Import creates and updates products from a catalog file, streaming it a batch
at a time, with or without the server running. Products are matched by
external_id, else by handle; unchanged products are skipped, so importing the
same file again changes nothing. The formats are described in docs/import.md.

Bad rows are listed on stderr as FILE:LINE: FIELD: PROBLEM and the good rows
are imported. The exit status is 0 when some rows were imported even if
others failed (a warning says how many); with --strict any failed row makes
it 1. It is 1 when no row could be imported, the file cannot be read or the
database fails.`,
		Args: cobra.ExactArgs(1),
	}
	config := gateway.BindFlags(cmd.Flags())
	formatFlag := cmd.Flags().String("format", "auto", "auto, jsonl, csv or bench")
	strict := cmd.Flags().Bool("strict", false, "exit with status 1 when any row fails")
	maxErrors := cmd.Flags().Int("max-errors", 100, "most bad rows to list (all are counted)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := importer.ParseFormat(*formatFlag)
		if err != nil {
			return fmt.Errorf("--format=%q: %s", *formatFlag, mdk.AsError(err).Message)
		}
		cfg, err := config()
		if err != nil {
			return err
		}
		src, size, err := openCatalogFile(args[0], cmd.InOrStdin())
		if err != nil {
			return err
		}
		defer src.Close()
		log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.LogFormat)
		g, err := gateway.Open(cmd.Context(), gateway.Options{Config: cfg, Logger: log, KeepOutbox: true})
		if err != nil {
			return err
		}
		defer g.Close()
		mod, _ := g.Module(product.ModuleID)
		m, ok := mod.(*product.Module)
		if !ok {
			return fmt.Errorf("this build has no %s module to import into", product.ModuleID)
		}

		name := filepath.Base(args[0])
		if args[0] == "-" {
			name = "stdin"
		}
		opts := product.ImportOptions{Format: format, MaxErrors: max(*maxErrors, 1)}
		var in io.Reader = src
		if bar := newImportBar(cmd.ErrOrStderr(), size, name); bar != nil {
			r := progressbar.NewReader(src, bar)
			in = &r
			opts.Progress = func(res product.ImportResult) { bar.Describe(name + ": " + importCounts(res)) }
			defer bar.Finish() //nolint:errcheck // a bar that cannot draw changes nothing
		}
		start := time.Now()
		res, err := m.Import(cmd.Context(), in, opts)
		if err != nil {
			if res.Created+res.Updated+res.Unchanged+res.Failed > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "stopped %s after %s: %s\n", name, time.Since(start).Round(time.Millisecond), importCounts(res))
			}
			return fmt.Errorf("import %s: %w", name, err)
		}
		return reportImport(cmd, name, res, time.Since(start), *strict)
	}
	return cmd
}

// openCatalogFile opens path ("-" is stdin) and returns its size, or -1
// when it is not known.
func openCatalogFile(path string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open catalog: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open catalog: %w", err)
	}
	if info.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("open catalog: %s is a directory; give a file", path)
	}
	return f, info.Size(), nil
}

// newImportBar returns a progress bar over the file's bytes when w is a
// terminal, and nil otherwise, so logs and pipes get only the summary.
func newImportBar(w io.Writer, size int64, name string) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("importing "+name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func importCounts(res product.ImportResult) string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged, %d failed", res.Created, res.Updated, res.Unchanged, res.Failed)
}

// reportImport lists the bad rows on stderr and the summary on stdout.
// Failed rows are an error only with strict.
func reportImport(cmd *cobra.Command, name string, res product.ImportResult, took time.Duration, strict bool) error {
	stderr := cmd.ErrOrStderr()
	for _, e := range res.Errors {
		if e.Field == "" {
			fmt.Fprintf(stderr, "%s:%d: %s\n", name, e.Line, e.Message)
		} else {
			fmt.Fprintf(stderr, "%s:%d: %s: %s\n", name, e.Line, e.Field, e.Message)
		}
	}
	if res.MoreErrors > 0 {
		fmt.Fprintf(stderr, "%s: %d more problems not listed (raise --max-errors to see them)\n", name, res.MoreErrors)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s (%s) in %s: %s\n", name, res.Format, took.Round(time.Millisecond), importCounts(res))
	if res.Failed == 0 {
		return nil
	}
	if res.Created+res.Updated+res.Unchanged == 0 {
		return fmt.Errorf("none of the %d rows of %s could be imported (listed above)", res.Failed, name)
	}
	if strict {
		return fmt.Errorf("%d rows of %s failed (listed above; --strict); the others were imported", res.Failed, name)
	}
	fmt.Fprintf(stderr, "hyperrr: warning: %d rows failed (listed above) and the others were imported; fix them and import the file again, unchanged products are skipped\n", res.Failed)
	return nil
}
