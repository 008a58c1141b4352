// Command genrelevance writes the search relevance fixture
// (testdata/relevance: catalog.jsonl, queries.tsv, qrels.txt) and prints a
// summary of it. The output is deterministic; a test in package relevance
// fails when the committed files differ from what this writes.
//
//	go run ./mdk/search/searcheval/internal/genrelevance -out testdata/relevance
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hyperrr/hyperrr/mdk/search/searcheval/internal/relevance"
)

func main() {
	out := flag.String("out", "testdata/relevance", "directory to write the fixture into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genrelevance:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	f, err := relevance.Build()
	if err != nil {
		return fmt.Errorf("build fixture: %w", err)
	}
	if err := f.Write(dir); err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(f.Summary())
	return err
}
