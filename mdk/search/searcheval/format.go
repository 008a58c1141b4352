package searcheval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Format writes r as plain text: one row per query, one per kind, the
// overall means, notes on queries left out or with repeated results, and
// last a line `NDCG@10 = 0.xxxx` that scripts can grep. It returns the
// first write error.
func Format(w io.Writer, r Report) error {
	p := &printer{w: w}
	p.table(func(p *printer) {
		p.printf("query\tkind\tndcg@%d\trr\trecall@%d\trelevant\treturned\tunjudged@%d\ttext\n", NDCGDepth, RecallDepth, NDCGDepth)
		for _, row := range r.Rows {
			scores := "-\t-\t-"
			if row.Scored {
				scores = fmt.Sprintf("%.4f\t%.4f\t%.4f", row.NDCG, row.RR, row.Recall)
			}
			p.printf("%s\t%s\t%s\t%d\t%d\t%d\t%s\n", row.Query.ID, orDash(row.Query.Kind), scores,
				row.Relevant, row.Returned, row.Unjudged, row.Query.Text)
		}
	})
	p.printf("\n")
	p.table(func(p *printer) {
		p.printf("kind\tscored\tndcg@%d\tmrr\trecall@%d\n", NDCGDepth, RecallDepth)
		for _, s := range append(r.Kinds, r.Overall) {
			kind := s.Kind
			if kind == "" {
				kind = "all"
			}
			p.printf("%s\t%d\t%.4f\t%.4f\t%.4f\n", kind, s.Scored, s.NDCG, s.MRR, s.Recall)
		}
	})
	p.printf("\nrelevant means grade >= %d (for MRR and recall); unjudged results count as grade 0\n", RelevantGrade)
	if ids := idsWhere(r.Rows, func(row Row) bool { return !row.Scored }); len(ids) > 0 {
		p.printf("left out of the means, no judgment of grade >= %d: %s\n", RelevantGrade, strings.Join(ids, " "))
	}
	if ids := idsWhere(r.Rows, func(row Row) bool { return row.Repeated > 0 }); len(ids) > 0 {
		p.printf("the search returned repeated IDs (counted once) for: %s\n", strings.Join(ids, " "))
	}
	p.printf("NDCG@%d = %.4f\n", NDCGDepth, r.Overall.NDCG)
	return p.err
}

// printer keeps the first write error so Format reads as a list of lines.
type printer struct {
	w   io.Writer
	err error
}

// table writes the lines fn prints as aligned columns.
func (p *printer) table(fn func(p *printer)) {
	if p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	inner := &printer{w: tw}
	fn(inner)
	if p.err = inner.err; p.err == nil {
		p.err = tw.Flush()
	}
}

func (p *printer) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format, args...)
}

func idsWhere(rows []Row, keep func(Row) bool) []string {
	var ids []string
	for _, row := range rows {
		if keep(row) {
			ids = append(ids, row.Query.ID)
		}
	}
	return ids
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
