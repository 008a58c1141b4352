// Package searcheval measures search relevance against graded judgments:
// NDCG@10, MRR and recall@100 per query, averaged per kind of query and
// overall. It reads the two files an evaluation needs (queries and TREC
// qrels), runs every query through a search function the caller supplies,
// and formats the report that `hyperrr eval search` prints.
//
// The package knows nothing of products or of the search engine: a query
// is text, a result is a list of external product IDs, best first. That
// keeps the metrics testable on hand-computed examples and lets the same
// code score any ranker (lexical, vector, hybrid, or another server).
package searcheval

import (
	"context"
	"fmt"

	"github.com/hyperrr/hyperrr/mdk"
)

// Cutoffs and thresholds of the metrics. They are constants, not options,
// so that every figure printed by `hyperrr eval search` means the same.
const (
	// NDCGDepth is the rank NDCG is cut at: roughly one page of results.
	NDCGDepth = 10
	// RecallDepth is the rank recall is cut at, and how many results Run
	// reads from a search: what a reranker or a second page could reach.
	RecallDepth = 100
	// RelevantGrade is the lowest grade that counts as relevant for MRR and
	// recall: 1, "related", because a shopper who finds something related
	// has found a way in. NDCG uses the grades themselves.
	RelevantGrade = 1
	// MaxGrade is the highest grade a judgment may have (grades are 0–3).
	MaxGrade = 3
)

// Query is one evaluation query.
type Query struct {
	ID   string
	Text string
	// Kind groups queries for per-kind averages ("synonym", "typo" ...);
	// empty when the queries file does not say.
	Kind string
}

// Grades maps an external product ID to its judged grade (0–MaxGrade).
// Products a query has no judgment for count as grade 0.
type Grades map[string]int

// Qrels holds the judgments of every query, by query ID.
type Qrels map[string]Grades

// SearchFunc runs one query and returns external product IDs, best first.
// Run reads at most RecallDepth of them.
type SearchFunc func(ctx context.Context, text string) ([]string, error)

// Row is one query's result.
type Row struct {
	Query Query
	// Scored is false when the query has no judgment of RelevantGrade or
	// more: its metrics are undefined (an ideal DCG of zero), so it is
	// reported but left out of every mean.
	Scored   bool
	NDCG     float64 // NDCG@NDCGDepth
	RR       float64 // reciprocal rank of the first relevant result, 0 if none
	Recall   float64 // recall@RecallDepth
	Relevant int     // judged products with RelevantGrade or more
	Returned int     // distinct IDs the search returned (at most RecallDepth)
	Unjudged int     // results in the top NDCGDepth without a judgment (scored as 0)
	Repeated int     // IDs the search returned more than once (counted once)
}

// Summary averages the scored queries of one kind, or of all queries.
type Summary struct {
	Kind string // "" for the overall summary
	// Scored counts the queries in the means; Unscored those left out
	// because they have no relevant judgment.
	Scored, Unscored  int
	NDCG, MRR, Recall float64
}

// Report is the result of an evaluation.
type Report struct {
	Rows []Row
	// Kinds has one summary per query kind, in the order kinds first appear
	// in the queries; empty when no query has a kind.
	Kinds   []Summary
	Overall Summary
}

// Run searches every query in order and scores the results against qrels.
// It stops at the first search error, returning it wrapped with the query
// ID, and at ctx's end. Queries run one at a time: a search function need
// not be safe for concurrent use, and timings taken around Run stay
// meaningful. When no query has a relevant judgment there is nothing to
// average and Run returns an invalid error.
func Run(ctx context.Context, queries []Query, qrels Qrels, search SearchFunc) (Report, error) {
	var r Report
	for _, q := range queries {
		if err := ctx.Err(); err != nil {
			return Report{}, fmt.Errorf("evaluate query %s: %w", q.ID, err)
		}
		ranked, err := search(ctx, q.Text)
		if err != nil {
			return Report{}, fmt.Errorf("search query %s %q: %w", q.ID, q.Text, err)
		}
		r.Rows = append(r.Rows, Score(q, ranked, qrels[q.ID]))
	}
	r.Overall, r.Kinds = summarize(r.Rows)
	if r.Overall.Scored == 0 {
		return Report{}, mdk.Invalid("qrels", "none of the %d queries has a judgment of grade %d or more: judge at least one relevant product per query", len(queries), RelevantGrade)
	}
	return r, nil
}

// Score computes one query's row from its ranked results (best first) and
// its judgments. Repeated IDs count once, at their first rank; results past
// RecallDepth are ignored.
func Score(q Query, ranked []string, grades Grades) Row {
	list, repeated := distinct(ranked, RecallDepth)
	row := Row{Query: q, Returned: len(list), Repeated: repeated}
	for i, id := range list {
		if i >= NDCGDepth {
			break
		}
		if _, ok := grades[id]; !ok {
			row.Unjudged++
		}
	}
	row.Relevant = countRelevant(grades)
	ndcg, ok := NDCG(list, grades, NDCGDepth)
	if !ok {
		return row
	}
	row.Scored = true
	row.NDCG = ndcg
	row.RR = ReciprocalRank(list, grades)
	row.Recall, _ = Recall(list, grades, RecallDepth) // defined whenever NDCG is: both need a relevant judgment
	return row
}

// distinct returns the first n distinct IDs of ranked and how many
// repeats it dropped on the way.
func distinct(ranked []string, n int) ([]string, int) {
	seen := make(map[string]bool, min(len(ranked), n))
	out := make([]string, 0, min(len(ranked), n))
	repeated := 0
	for _, id := range ranked {
		if len(out) == n {
			break
		}
		if seen[id] {
			repeated++
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, repeated
}

// summarize averages scored rows overall and per kind (kinds in order of
// first appearance).
func summarize(rows []Row) (Summary, []Summary) {
	var overall Summary
	var kinds []Summary
	index := map[string]int{}
	for _, row := range rows {
		add(&overall, row)
		if row.Query.Kind == "" {
			continue
		}
		i, ok := index[row.Query.Kind]
		if !ok {
			i = len(kinds)
			index[row.Query.Kind] = i
			kinds = append(kinds, Summary{Kind: row.Query.Kind})
		}
		add(&kinds[i], row)
	}
	finish(&overall)
	for i := range kinds {
		finish(&kinds[i])
	}
	return overall, kinds
}

// add accumulates sums in s; finish turns them into means.
func add(s *Summary, row Row) {
	if !row.Scored {
		s.Unscored++
		return
	}
	s.Scored++
	s.NDCG += row.NDCG
	s.MRR += row.RR
	s.Recall += row.Recall
}

func finish(s *Summary) {
	if s.Scored == 0 {
		return
	}
	n := float64(s.Scored)
	s.NDCG /= n
	s.MRR /= n
	s.Recall /= n
}
