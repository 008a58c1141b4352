package searcheval_test

import (
	"math"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/search/searcheval"
)

const tolerance = 1e-4

func near(a, b float64) bool { return math.Abs(a-b) < tolerance }

func TestNDCG(t *testing.T) {
	grades := searcheval.Grades{"a": 3, "b": 2, "c": 0, "d": 1}

	t.Run("OK", func(t *testing.T) {
		// DCG  = 0/log2(2) + 7/log2(3) + 1/log2(4) + 0/log2(5) + 3/log2(6)
		//      = 0 + 4.41650 + 0.5 + 0 + 1.16055 = 6.07705
		// IDCG = 7/log2(2) + 3/log2(3) + 1/log2(4) = 7 + 1.89279 + 0.5 = 9.39279
		got, ok := searcheval.NDCG([]string{"c", "a", "d", "x", "b"}, grades, 10)
		if !ok || !near(got, 0.64700) {
			t.Fatalf("NDCG = %.5f, %v; want 0.64700, true", got, ok)
		}
	})
	t.Run("OKIdealOrderIsOne", func(t *testing.T) {
		got, ok := searcheval.NDCG([]string{"a", "b", "d", "c"}, grades, 10)
		if !ok || !near(got, 1) {
			t.Fatalf("NDCG = %.5f, %v; want 1", got, ok)
		}
	})
	t.Run("OKIdealComesFromJudgments", func(t *testing.T) {
		// Only "b" is returned: DCG = 3, but the ideal still holds a (7) and
		// d (1): 3 / 9.39279 = 0.31939. A score from the returned list alone
		// would be 1.
		got, _ := searcheval.NDCG([]string{"b"}, grades, 10)
		if !near(got, 0.31939) {
			t.Fatalf("NDCG = %.5f; want 0.31939", got)
		}
	})
	t.Run("OKCutAtK", func(t *testing.T) {
		// At k=2 the relevant "a" at rank 3 earns nothing:
		// DCG@2 = 1 (grade 1 at rank 1); IDCG@2 = 7 + 3/log2(3) = 8.89279.
		got, _ := searcheval.NDCG([]string{"d", "x", "a"}, grades, 2)
		if !near(got, 0.11245) {
			t.Fatalf("NDCG@2 = %.5f; want 0.11245", got)
		}
	})
	t.Run("OKGradedGainsOutweighCount", func(t *testing.T) {
		// One grade-3 first beats two lower grades first: gain is 2^g − 1.
		top3, _ := searcheval.NDCG([]string{"a", "x", "y"}, grades, 3)
		twoLower, _ := searcheval.NDCG([]string{"b", "d", "y"}, grades, 3)
		if top3 <= twoLower {
			t.Fatalf("NDCG with the grade-3 first = %.4f, with grades 2 and 1 first = %.4f; want the first higher", top3, twoLower)
		}
	})
	t.Run("ErrNoRelevantJudgment", func(t *testing.T) {
		got, ok := searcheval.NDCG([]string{"c"}, searcheval.Grades{"c": 0}, 10)
		if ok || got != 0 {
			t.Fatalf("NDCG = %v, %v; want 0, false (undefined)", got, ok)
		}
		if _, ok := searcheval.NDCG([]string{"c"}, nil, 10); ok {
			t.Fatal("NDCG with no judgments: ok = true; want false")
		}
	})
}

func TestReciprocalRank(t *testing.T) {
	grades := searcheval.Grades{"a": 0, "b": 1, "c": 3}
	t.Run("OK", func(t *testing.T) {
		// "a" is judged but grade 0: not relevant. "b" at rank 3 is.
		if got := searcheval.ReciprocalRank([]string{"x", "a", "b", "c"}, grades); !near(got, 1.0/3) {
			t.Fatalf("RR = %v; want 1/3", got)
		}
		if got := searcheval.ReciprocalRank([]string{"c"}, grades); got != 1 {
			t.Fatalf("RR = %v; want 1", got)
		}
	})
	t.Run("OKNoneRelevant", func(t *testing.T) {
		if got := searcheval.ReciprocalRank([]string{"x", "a"}, grades); got != 0 {
			t.Fatalf("RR = %v; want 0", got)
		}
	})
}

func TestRecall(t *testing.T) {
	grades := searcheval.Grades{"a": 3, "b": 1, "c": 2, "z": 0}
	t.Run("OK", func(t *testing.T) {
		got, ok := searcheval.Recall([]string{"a", "z", "x", "c"}, grades, 100)
		if !ok || !near(got, 2.0/3) {
			t.Fatalf("recall = %v, %v; want 2/3", got, ok)
		}
	})
	t.Run("OKCutAtK", func(t *testing.T) {
		got, _ := searcheval.Recall([]string{"a", "x", "b"}, grades, 2)
		if !near(got, 1.0/3) {
			t.Fatalf("recall@2 = %v; want 1/3 (b is at rank 3)", got)
		}
	})
	t.Run("ErrNoRelevantJudgment", func(t *testing.T) {
		if _, ok := searcheval.Recall([]string{"z"}, searcheval.Grades{"z": 0}, 100); ok {
			t.Fatal("recall: ok = true; want false")
		}
	})
}
