package searcheval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// maxErrors bounds the errors one parse reports: a file in the wrong
// format would otherwise produce one per line.
const maxErrors = 20

// maxLineBytes bounds one line of a queries or qrels file.
const maxLineBytes = 1 << 20

// kindRe is the form of a kind name in a "# kind: NAME" line.
var kindRe = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// LoadQueries reads a queries file (see ParseQueries); errors name the file
// by its base name.
func LoadQueries(path string) ([]Query, error) {
	return load(path, "queries", ParseQueries)
}

// LoadQrels reads a qrels file (see ParseQrels) of the given queries;
// errors name the file by its base name.
func LoadQrels(path string, queries []Query) (Qrels, error) {
	return load(path, "qrels", func(name string, r io.Reader) (Qrels, error) {
		return ParseQrels(name, r, queries)
	})
}

func load[T any](path, what string, parse func(name string, r io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("open %s: %w", what, err)
	}
	defer f.Close() // read-only: a close error cannot lose data
	return parse(filepath.Base(path), f)
}

// ParseQueries reads queries, one `id<TAB>text` a line. An ID has no
// whitespace (qrels are whitespace-separated) and is unique; the text is
// everything after the tab, trimmed, and may not hold another tab. Blank
// lines are skipped; lines starting with '#' are comments, except
// `# kind: NAME`, which sets the kind of the queries after it (until the
// next such line; `# kind:` with no name clears it).
//
// Errors are *mdk.Error (invalid) whose field is "name:line", joined with
// errors.Join (at most maxErrors of them); a read failure is returned
// wrapped.
func ParseQueries(name string, r io.Reader) ([]Query, error) {
	var (
		queries []Query
		errs    errorList
		kind    string
		seen    = map[string]int{}
	)
	err := eachLine(name, r, func(n int, line string) bool {
		at := fmt.Sprintf("%s:%d", name, n)
		if strings.HasPrefix(line, "#") {
			k, isKind, err := kindLine(line)
			switch {
			case err != nil:
				return errs.add(mdk.Invalid(at, "%s", err.Error()))
			case isKind:
				kind = k
			}
			return true
		}
		if strings.TrimSpace(line) == "" {
			return true
		}
		id, text, ok := strings.Cut(line, "\t")
		id, text = strings.TrimSpace(id), strings.TrimSpace(text)
		switch {
		case !ok:
			return errs.add(mdk.Invalid(at, "no tab: write the query ID, a tab, then the query text"))
		case id == "":
			return errs.add(mdk.Invalid(at, "the query ID before the tab is empty: give every query an ID"))
		case strings.ContainsFunc(id, isSpace):
			return errs.add(mdk.Invalid(at, "query ID %q has whitespace: qrels separate fields by whitespace, so use an ID without it", id))
		case text == "":
			return errs.add(mdk.Invalid(at, "query %s has no text after the tab", id))
		case strings.Contains(text, "\t"):
			return errs.add(mdk.Invalid(at, "query %s has a second tab: a line is the ID, one tab, then the text (put kinds in a \"# kind: NAME\" line)", id))
		}
		if first, dup := seen[id]; dup {
			return errs.add(mdk.Invalid(at, "query ID %s is repeated (first on line %d): give each query its own ID", id, first))
		}
		seen[id] = n
		queries = append(queries, Query{ID: id, Text: text, Kind: kind})
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read queries: %w", err)
	}
	if errs.err() == nil && len(queries) == 0 {
		errs.add(mdk.Invalid(name, "no queries: write one `id<TAB>text` a line"))
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return queries, nil
}

// kindLine reads a comment line: isKind reports a "# kind: NAME" line.
func kindLine(line string) (kind string, isKind bool, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(line, "#")), "kind:")
	if !ok {
		return "", false, nil
	}
	kind = strings.TrimSpace(rest)
	if kind != "" && !kindRe.MatchString(kind) {
		return "", false, fmt.Errorf("kind %q is not a lowercase name: write letters, digits and hyphens, e.g. \"# kind: typo\"", kind)
	}
	return kind, true, nil
}

// ParseQrels reads TREC qrels: `query_id iteration product_id grade` a
// line, fields separated by whitespace. The iteration field is ignored, as
// trec_eval does (write 0). Grades are integers from 0 to MaxGrade; every
// query ID must be one of queries, and a product is judged at most once per
// query. Blank lines and lines starting with '#' are skipped. Queries
// without any line are allowed (Run reports them unscored).
//
// Errors are *mdk.Error (invalid) whose field is "name:line", joined with
// errors.Join (at most maxErrors of them); a read failure is returned
// wrapped.
func ParseQrels(name string, r io.Reader, queries []Query) (Qrels, error) {
	known := make(map[string]bool, len(queries))
	for _, q := range queries {
		known[q.ID] = true
	}
	qrels := Qrels{}
	lines := map[[2]string]int{}
	var errs errorList
	err := eachLine(name, r, func(n int, line string) bool {
		at := fmt.Sprintf("%s:%d", name, n)
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			return true
		}
		if len(fields) != 4 {
			return errs.add(mdk.Invalid(at, "%d fields: write `query_id 0 product_id grade`, separated by spaces", len(fields)))
		}
		qid, pid := fields[0], fields[2]
		grade, err := strconv.Atoi(fields[3])
		switch {
		case err != nil:
			return errs.add(mdk.Invalid(at, "grade %q is not a whole number: use 0 to %d", fields[3], MaxGrade))
		case grade < 0 || grade > MaxGrade:
			return errs.add(mdk.Invalid(at, "grade %d is out of range: use 0 to %d", grade, MaxGrade))
		case !known[qid]:
			return errs.add(mdk.Invalid(at, "query %s is not in the queries file: add it there or fix the ID", qid))
		}
		key := [2]string{qid, pid}
		if first, dup := lines[key]; dup {
			return errs.add(mdk.Invalid(at, "product %s is judged twice for query %s (first on line %d): keep one judgment", pid, qid, first))
		}
		lines[key] = n
		if qrels[qid] == nil {
			qrels[qid] = Grades{}
		}
		qrels[qid][pid] = grade
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read qrels: %w", err)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return qrels, nil
}

// CheckProducts returns an invalid error for every judged product that
// exists reports unknown (at most maxErrors, joined): such a judgment can
// never be retrieved, so it would cap recall and NDCG silently. Call it
// with the catalog the evaluation searches.
func (q Qrels) CheckProducts(exists func(externalID string) bool) error {
	var errs errorList
	for _, qid := range slices.Sorted(maps.Keys(q)) {
		for _, pid := range slices.Sorted(maps.Keys(q[qid])) {
			if !exists(pid) {
				if !errs.add(mdk.Invalid("qrels", "query %s judges product %s, which is not in the catalog: import it or remove the judgment", qid, pid)) {
					return errs.err()
				}
			}
		}
	}
	return errs.err()
}

// eachLine calls fn with each line of the input called name (1-based
// number, without the line end or a leading byte order mark) until fn
// returns false or the input ends.
func eachLine(name string, r io.Reader, fn func(n int, line string) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if !fn(n, line) {
			break
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return mdk.Invalid(name, "a line is longer than %d bytes: is this the right file?", maxLineBytes)
		}
		return err
	}
	return nil
}

// errorList collects up to maxErrors errors, then one that says more were
// left out.
type errorList struct {
	errs []error
}

// add records err and reports whether parsing should go on.
func (l *errorList) add(err error) bool {
	l.errs = append(l.errs, err)
	if len(l.errs) < maxErrors {
		return true
	}
	l.errs = append(l.errs, mdk.Invalid("", "stopped after %d errors: fix these and run again", maxErrors))
	return false
}

func (l *errorList) err() error { return errors.Join(l.errs...) }

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\v' || r == '\f' || r == '\u00a0' }
