package searcheval

import (
	"cmp"
	"math"
	"slices"
)

// The metric functions take ranked IDs best first, without repeats (Score
// removes them), and a query's judgments; an ID without a judgment counts
// as grade 0.

// NDCG returns the normalized discounted cumulative gain of ranked at
// depth k: DCG@k = Σ (2^grade − 1) / log2(rank + 1) over the first k
// results, divided by the DCG@k of the ideal ranking, which is the query's
// judged grades sorted from highest to lowest. The ideal comes from the
// judgments, not from what the search returned, so a relevant product the
// search missed lowers the score. ok is false when the query has no
// judgment of grade 1 or more: the ideal DCG is zero and NDCG is undefined.
func NDCG(ranked []string, grades Grades, k int) (score float64, ok bool) {
	ideal := make([]int, 0, len(grades))
	for _, g := range grades {
		ideal = append(ideal, g)
	}
	slices.SortFunc(ideal, func(a, b int) int { return cmp.Compare(b, a) })
	idcg := dcg(ideal, k)
	if idcg == 0 {
		return 0, false
	}
	got := make([]int, 0, min(len(ranked), k))
	for _, id := range ranked[:min(len(ranked), k)] {
		got = append(got, grades[id])
	}
	return dcg(got, k) / idcg, true
}

// dcg sums graded gains over the first k grades, rank 1 first.
func dcg(grades []int, k int) float64 {
	var sum float64
	for i, g := range grades[:min(len(grades), k)] {
		if g <= 0 {
			continue
		}
		sum += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
	}
	return sum
}

// ReciprocalRank returns 1/rank of the first result judged RelevantGrade
// or more, or 0 when there is none among ranked. Its mean over queries is
// MRR.
func ReciprocalRank(ranked []string, grades Grades) float64 {
	for i, id := range ranked {
		if grades[id] >= RelevantGrade {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// Recall returns the share of the query's relevant products (judged
// RelevantGrade or more) found in the first k results. ok is false when the
// query has no relevant judgment.
func Recall(ranked []string, grades Grades, k int) (score float64, ok bool) {
	relevant := countRelevant(grades)
	if relevant == 0 {
		return 0, false
	}
	found := 0
	for _, id := range ranked[:min(len(ranked), k)] {
		if grades[id] >= RelevantGrade {
			found++
		}
	}
	return float64(found) / float64(relevant), true
}

func countRelevant(grades Grades) int {
	n := 0
	for _, g := range grades {
		if g >= RelevantGrade {
			n++
		}
	}
	return n
}
