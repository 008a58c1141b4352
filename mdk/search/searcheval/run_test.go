package searcheval_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/search/searcheval"
)

// fixed is a search that returns canned results by query text.
func fixed(results map[string][]string) searcheval.SearchFunc {
	return func(_ context.Context, text string) ([]string, error) {
		return results[text], nil
	}
}

var (
	runQueries = []searcheval.Query{
		{ID: "q1", Text: "couch", Kind: "synonym"},
		{ID: "q2", Text: "sofa", Kind: "synonym"},
		{ID: "q3", Text: "cofee", Kind: "typo"},
		{ID: "q4", Text: "nothing judged relevant", Kind: "typo"},
	}
	runQrels = searcheval.Qrels{
		"q1": {"a": 3, "b": 1},
		"q2": {"a": 3},
		"q3": {"c": 2, "d": 2},
		"q4": {"e": 0},
	}
)

func TestRun(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		search := fixed(map[string][]string{
			"couch":                   {"a", "b"},      // ideal: NDCG 1, RR 1, recall 1
			"sofa":                    {"x", "a", "a"}, // a at rank 2, repeated once
			"cofee":                   {"d", "y"},      // one of two grade-2 products
			"nothing judged relevant": {"e", "z"},
		})
		r, err := searcheval.Run(context.Background(), runQueries, runQrels, search)
		if err != nil {
			t.Fatal(err)
		}
		// q2: DCG = 7/log2(3) = 4.41650, IDCG = 7 → 0.63093; RR 1/2.
		// q3: DCG = 3, IDCG = 3 + 3/log2(3) = 4.89279 → 0.61315; recall 1/2.
		want := []struct {
			ndcg, rr, recall   float64
			unjudged, repeated int
			scored             bool
		}{
			{1, 1, 1, 0, 0, true},
			{0.63093, 0.5, 1, 1, 1, true},
			{0.61315, 1, 0.5, 1, 0, true},
			{0, 0, 0, 1, 0, false},
		}
		for i, w := range want {
			row := r.Rows[i]
			if row.Scored != w.scored || !near(row.NDCG, w.ndcg) || !near(row.RR, w.rr) || !near(row.Recall, w.recall) ||
				row.Unjudged != w.unjudged || row.Repeated != w.repeated {
				t.Errorf("row %s = %+v; want %+v", row.Query.ID, row, w)
			}
		}
		if r.Overall.Scored != 3 || r.Overall.Unscored != 1 || !near(r.Overall.NDCG, (1+0.63093+0.61315)/3) ||
			!near(r.Overall.MRR, 2.5/3) || !near(r.Overall.Recall, 2.5/3) {
			t.Errorf("overall = %+v", r.Overall)
		}
		if len(r.Kinds) != 2 || r.Kinds[0].Kind != "synonym" || r.Kinds[1].Kind != "typo" {
			t.Fatalf("kinds = %+v; want synonym then typo", r.Kinds)
		}
		if k := r.Kinds[0]; k.Scored != 2 || !near(k.NDCG, (1+0.63093)/2) || !near(k.MRR, 0.75) {
			t.Errorf("synonym summary = %+v", k)
		}
		if k := r.Kinds[1]; k.Scored != 1 || k.Unscored != 1 || !near(k.NDCG, 0.61315) || !near(k.Recall, 0.5) {
			t.Errorf("typo summary = %+v (the unscored query must not pull the mean down)", k)
		}
	})
	t.Run("OKReadsAtMostRecallDepth", func(t *testing.T) {
		long := make([]string, 0, 150)
		for i := range 150 {
			long = append(long, fmt.Sprintf("p%d", i))
		}
		q := []searcheval.Query{{ID: "q", Text: "t"}}
		r, err := searcheval.Run(context.Background(), q, searcheval.Qrels{"q": {"p120": 3, "p5": 1}}, fixed(map[string][]string{"t": long}))
		if err != nil {
			t.Fatal(err)
		}
		if row := r.Rows[0]; row.Returned != searcheval.RecallDepth || !near(row.Recall, 0.5) {
			t.Fatalf("row = %+v; want %d returned and recall 0.5 (p120 is past the cut)", row, searcheval.RecallDepth)
		}
		if len(r.Kinds) != 0 {
			t.Fatalf("kinds = %+v; want none for untagged queries", r.Kinds)
		}
	})
	t.Run("ErrSearch", func(t *testing.T) {
		boom := errors.New("index closed")
		_, err := searcheval.Run(context.Background(), runQueries, runQrels, func(context.Context, string) ([]string, error) { return nil, boom })
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "q1") {
			t.Fatalf("err = %v; want the search error naming q1", err)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := searcheval.Run(ctx, runQueries, runQrels, func(context.Context, string) ([]string, error) {
			calls++
			cancel()
			return nil, nil
		})
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Fatalf("err = %v after %d searches; want context.Canceled after 1", err, calls)
		}
	})
	t.Run("ErrNothingToScore", func(t *testing.T) {
		_, err := searcheval.Run(context.Background(), runQueries[3:], runQrels, fixed(nil))
		if mdk.ErrorCode(err) != mdk.CodeInvalid {
			t.Fatalf("err = %v; want invalid", err)
		}
	})
}

func TestFormat(t *testing.T) {
	r, err := searcheval.Run(context.Background(), runQueries, runQrels, fixed(map[string][]string{
		"couch": {"a", "b"}, "sofa": {"x", "a", "a"}, "cofee": {"d", "y"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		var buf bytes.Buffer
		if err := searcheval.Format(&buf, r); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if last := lines[len(lines)-1]; last != "NDCG@10 = 0.7480" {
			t.Fatalf("last line = %q; want %q\n%s", last, "NDCG@10 = 0.7480", out)
		}
		for _, want := range []string{
			"q2     synonym  0.6309   0.5000  1.0000      1         2         1            sofa",
			"q4     typo     -        -       -           0         0         0            nothing judged relevant",
			"synonym  2       0.8155   0.7500  1.0000",
			"all      3       0.7480   0.8333  0.8333",
			"left out of the means, no judgment of grade >= 1: q4",
			"the search returned repeated IDs (counted once) for: q2",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("ErrWrite", func(t *testing.T) {
		boom := errors.New("disk full")
		if err := searcheval.Format(failingWriter{boom}, r); !errors.Is(err, boom) {
			t.Fatalf("err = %v; want %v", err, boom)
		}
	})
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
