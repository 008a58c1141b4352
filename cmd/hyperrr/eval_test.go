package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEvalSearch scores the committed relevance fixture through the real
// command: the hybrid search must beat the lexical one, and every part must
// pull its weight.
func TestEvalSearch(t *testing.T) {
	fixture, err := filepath.Abs("../../testdata/relevance")
	if err != nil {
		t.Fatal(err)
	}
	fixture += "/"
	out, stderr, code := run(t, t.TempDir(), nil, "eval", "search", "--ablation",
		"--catalog", fixture+"catalog.jsonl", "--queries", fixture+"queries.tsv", "--qrels", fixture+"qrels.txt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !regexp.MustCompile(`^NDCG@10 = 0\.\d{4}$`).MatchString(last) {
		t.Fatalf("last line %q", last)
	}
	ndcg := map[string]float64{}
	for _, l := range lines {
		for _, v := range evalVariants {
			if rest, ok := strings.CutPrefix(l, v.name); ok {
				f, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
				if err != nil {
					t.Fatalf("row %q: %v", l, err)
				}
				ndcg[v.name] = f
			}
		}
	}
	if len(ndcg) != len(evalVariants) {
		t.Fatalf("ablation table has %d rows, want %d:\n%s", len(ndcg), len(evalVariants), out)
	}
	for i := 1; i < 4; i++ { // each lexical part adds
		if ndcg[evalVariants[i].name] <= ndcg[evalVariants[i-1].name] {
			t.Errorf("%s (%.4f) does not beat %s (%.4f)", evalVariants[i].name, ndcg[evalVariants[i].name], evalVariants[i-1].name, ndcg[evalVariants[i-1].name])
		}
	}
	hybrid, lexical := ndcg[evalVariants[5].name], ndcg[evalVariants[3].name]
	if hybrid <= lexical {
		t.Errorf("hybrid NDCG@10 %.4f does not beat lexical %.4f", hybrid, lexical)
	}
}
