package searcheval_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/search/searcheval"
)

// wantErrs asserts that err holds exactly the invalid errors at the given
// fields, each message containing the matching fragment.
func wantErrs(t *testing.T, err error, want map[string]string) {
	t.Helper()
	errs := mdk.AllErrors(err)
	got := map[string]string{}
	for _, e := range errs {
		if e.Code != mdk.CodeInvalid {
			t.Errorf("error %v: code %s; want invalid", e, e.Code)
		}
		got[e.Field] = e.Message
	}
	if len(errs) != len(want) {
		t.Errorf("got %d errors; want %d:\n%v", len(errs), len(want), err)
	}
	for field, fragment := range want {
		if msg, ok := got[field]; !ok || !strings.Contains(msg, fragment) {
			t.Errorf("error at %s = %q; want one containing %q\nall: %v", field, msg, fragment, err)
		}
	}
}

func TestParseQueries(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		in := "\ufeff# relevance queries\n\n" +
			"untagged\tfirst query\r\n" +
			"# kind: synonym\n" +
			"s1\tcouch\n" +
			"s2\t  tv stand  \n" +
			"# a comment does not change the kind\n" +
			"# kind: typo\n" +
			"t1\tcofee tabel\n" +
			"# kind:\n" +
			"u2\tback to no kind\n"
		got, err := searcheval.ParseQueries("queries.tsv", strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		want := []searcheval.Query{
			{ID: "untagged", Text: "first query"},
			{ID: "s1", Text: "couch", Kind: "synonym"},
			{ID: "s2", Text: "tv stand", Kind: "synonym"},
			{ID: "t1", Text: "cofee tabel", Kind: "typo"},
			{ID: "u2", Text: "back to no kind"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("queries = %+v\nwant %+v", got, want)
		}
	})
	t.Run("ErrLines", func(t *testing.T) {
		in := "q1\tfine\n" + // 1
			"q2 no tab here\n" + // 2
			"\tno id\n" + // 3
			"q 4\twhitespace in id\n" + // 4
			"q5\t   \n" + // 5
			"q6\ttext\twith a second tab\n" + // 6
			"q1\trepeated\n" + // 7
			"# kind: Not A Name\n" // 8
		_, err := searcheval.ParseQueries("queries.tsv", strings.NewReader(in))
		wantErrs(t, err, map[string]string{
			"queries.tsv:2": "no tab",
			"queries.tsv:3": "ID before the tab is empty",
			"queries.tsv:4": "has whitespace",
			"queries.tsv:5": "no text",
			"queries.tsv:6": "second tab",
			"queries.tsv:7": "repeated (first on line 1)",
			"queries.tsv:8": "not a lowercase name",
		})
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		_, err := searcheval.ParseQueries("queries.tsv", strings.NewReader("# only a comment\n\n"))
		wantErrs(t, err, map[string]string{"queries.tsv": "no queries"})
	})
	t.Run("ErrManyStopsEarly", func(t *testing.T) {
		_, err := searcheval.ParseQueries("queries.tsv", strings.NewReader(strings.Repeat("no tab\n", 500)))
		errs := mdk.AllErrors(err)
		if len(errs) != 21 || !strings.Contains(errs[20].Message, "stopped after 20 errors") {
			t.Fatalf("got %d errors, last %v; want 20 and a note that parsing stopped", len(errs), errs[len(errs)-1])
		}
	})
	t.Run("ErrRead", func(t *testing.T) {
		boom := errors.New("disk gone")
		_, err := searcheval.ParseQueries("queries.tsv", iotest.ErrReader(boom))
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v; want the read error", err)
		}
	})
}

var parseQueries = []searcheval.Query{{ID: "q1", Text: "couch"}, {ID: "q2", Text: "sofa"}, {ID: "q3", Text: "lamp"}}

func TestParseQrels(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		in := "q1 0 p1 3\n" +
			"q1\t0\tp2\t0\n" +
			"\n" +
			"# comment\n" +
			"q2 1 p1 2\r\n"
		got, err := searcheval.ParseQrels("qrels.txt", strings.NewReader(in), parseQueries)
		if err != nil {
			t.Fatal(err)
		}
		want := searcheval.Qrels{"q1": {"p1": 3, "p2": 0}, "q2": {"p1": 2}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("qrels = %v; want %v (q3 has no judgments and no entry)", got, want)
		}
	})
	t.Run("ErrLines", func(t *testing.T) {
		in := "q1 0 p1 3\n" + // 1
			"q1 0 p2 4\n" + // 2
			"q1 0 p3 -1\n" + // 3
			"q1 0 p4 high\n" + // 4
			"q1 0 p5\n" + // 5
			"q9 0 p1 1\n" + // 6
			"q1 0 p1 2\n" + // 7
			"q2 0 p1 1 extra\n" // 8
		_, err := searcheval.ParseQrels("qrels.txt", strings.NewReader(in), parseQueries)
		wantErrs(t, err, map[string]string{
			"qrels.txt:2": "grade 4 is out of range",
			"qrels.txt:3": "grade -1 is out of range",
			"qrels.txt:4": `grade "high" is not a whole number`,
			"qrels.txt:5": "3 fields",
			"qrels.txt:6": "query q9 is not in the queries file",
			"qrels.txt:7": "judged twice for query q1 (first on line 1)",
			"qrels.txt:8": "5 fields",
		})
	})
	t.Run("ErrLineTooLong", func(t *testing.T) {
		in := "q1 0 p1 3\n" + strings.Repeat("x", 1<<20+1) + "\n"
		_, err := searcheval.ParseQrels("qrels.txt", strings.NewReader(in), parseQueries)
		if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || e.Field != "qrels.txt" || !strings.Contains(e.Message, "longer than") {
			t.Fatalf("err = %v; want invalid on qrels.txt, a line too long", err)
		}
	})
}

func TestCheckProducts(t *testing.T) {
	qrels := searcheval.Qrels{"q1": {"p1": 3, "gone": 1}, "q2": {"p2": 0}}
	catalog := map[string]bool{"p1": true, "p2": true}
	t.Run("OK", func(t *testing.T) {
		if err := (searcheval.Qrels{"q1": {"p1": 3}}).CheckProducts(func(id string) bool { return catalog[id] }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrUnknownProduct", func(t *testing.T) {
		err := qrels.CheckProducts(func(id string) bool { return catalog[id] })
		errs := mdk.AllErrors(err)
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "query q1 judges product gone") {
			t.Fatalf("err = %v; want one error naming q1 and gone", err)
		}
	})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Run("OK", func(t *testing.T) {
		queries, err := searcheval.LoadQueries(write("q.tsv", "q1\tcouch\n"))
		if err != nil {
			t.Fatal(err)
		}
		qrels, err := searcheval.LoadQrels(write("r.txt", "q1 0 p1 3\n"), queries)
		if err != nil || qrels["q1"]["p1"] != 3 {
			t.Fatalf("qrels = %v, %v", qrels, err)
		}
	})
	t.Run("ErrFieldNamesTheFile", func(t *testing.T) {
		_, err := searcheval.LoadQrels(write("bad.txt", "q1 0 p1 3\nq1 0 p2 9\n"), []searcheval.Query{{ID: "q1", Text: "x"}})
		wantErrs(t, err, map[string]string{"bad.txt:2": "out of range"})
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		_, err := searcheval.LoadQueries(filepath.Join(dir, "missing.tsv"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v; want not exist", err)
		}
	})
}

// Run scores a search function against judgments; here sofa-2 (grade 2)
// comes before sofa-1 (grade 3): NDCG@10 = (3 + 7/log2 3) / (7 + 3/log2 3).
func ExampleRun() {
	queries, err := searcheval.ParseQueries("queries.tsv", strings.NewReader("# kind: synonym\nq1\tcouch\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	qrels, err := searcheval.ParseQrels("qrels.txt", strings.NewReader("q1 0 sofa-1 3\nq1 0 sofa-2 2\n"), queries)
	if err != nil {
		fmt.Println(err)
		return
	}
	search := func(_ context.Context, text string) ([]string, error) { return []string{"sofa-2", "sofa-1"}, nil }
	report, err := searcheval.Run(context.Background(), queries, qrels, search)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %.4f\n", report.Kinds[0].Kind, report.Overall.NDCG)
	// Output: synonym 0.8340
}
