package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// CSV columns (docs/import.md). Product columns are read from a product's
// first row; later rows may leave them empty or repeat them.
var (
	productColumns = []string{"external_id", "handle", "title", "description", "vendor", "product_type", "category", "tags", "attributes", "media", "status"}
	optionColumns  = []string{"option1_name", "option1_value", "option2_name", "option2_value", "option3_name", "option3_value"}
	variantColumns = []string{"sku", "price", "compare_at_price", "barcode", "weight_grams", "stock"}
	requiredCols   = []string{"title", "sku", "price"}
)

const maxOptions = 3

func normalizeColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

func knownColumn(c string) bool {
	return slices.Contains(productColumns, c) || slices.Contains(optionColumns, c) || slices.Contains(variantColumns, c)
}

// looksLikeCSVHeader is detection's test: a first line with a title
// column.
func looksLikeCSVHeader(line []byte) bool {
	cells, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil {
		return false
	}
	for _, c := range cells {
		if normalizeColumn(c) == "title" {
			return true
		}
	}
	return false
}

type csvReader struct {
	r     *csv.Reader
	col   map[string]int
	width int
	max   int
	money money
	// ahead is a row read past the end of the previous product.
	ahead *csvRow
	done  bool
	// seen has the key of every product started, so that rows of one
	// product split apart are reported instead of silently merged.
	seen map[string]int
}

type csvRow struct {
	line  int
	cells []string
	err   *LineError
}

func newCSV(br *bufio.Reader, maxLine int, m money) (*csvReader, error) {
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	switch {
	case errors.Is(err, io.EOF):
		return &csvReader{done: true}, nil
	case err != nil:
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return nil, mdk.Invalid("", "CSV header (line 1): %v", perr.Err)
		}
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	c := &csvReader{r: r, col: map[string]int{}, width: len(header), max: maxLine, money: m, seen: map[string]int{}}
	for i, h := range header {
		name := normalizeColumn(h)
		if !knownColumn(name) {
			return nil, mdk.Invalid("", "CSV header (line 1): unknown column %q; the columns are %s (docs/import.md)",
				h, strings.Join(slices.Concat(productColumns, optionColumns, variantColumns), ", "))
		}
		if _, dup := c.col[name]; dup {
			return nil, mdk.Invalid("", "CSV header (line 1): column %q appears twice", name)
		}
		c.col[name] = i
	}
	for _, req := range requiredCols {
		if _, ok := c.col[req]; !ok {
			return nil, mdk.Invalid("", "CSV header (line 1): a %s column is required", req)
		}
	}
	return c, nil
}

func (c *csvReader) get(row *csvRow, col string) string {
	i, ok := c.col[col]
	if !ok || i >= len(row.cells) {
		return ""
	}
	return strings.TrimSpace(row.cells[i])
}

// read returns the next row; io.EOF at the end.
func (c *csvReader) read() (*csvRow, error) {
	if c.ahead != nil {
		row := c.ahead
		c.ahead = nil
		return row, nil
	}
	if c.done {
		return nil, io.EOF
	}
	cells, err := c.r.Read()
	line, _ := c.r.FieldPos(0)
	var perr *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		c.done = true
		return nil, io.EOF
	case errors.As(err, &perr):
		return &csvRow{line: perr.StartLine, err: lineError(perr.StartLine, "", "invalid CSV: %v", perr.Err)}, nil
	case err != nil:
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	row := &csvRow{line: line, cells: cells}
	size := 0
	for _, cell := range cells {
		size += len(cell)
	}
	switch {
	case len(cells) != c.width:
		row.err = lineError(line, "", "has %d cells but the header has %d", len(cells), c.width)
	case size > c.max:
		row.err = lineError(line, "", "longer than %d bytes; split the product or shorten its text", c.max)
	}
	return row, nil
}

// key says which product a row belongs to: its external_id, else its
// handle, else its title; "" continues the previous product.
func (c *csvReader) key(row *csvRow) string {
	for _, col := range []string{"external_id", "handle", "title"} {
		if v := c.get(row, col); v != "" {
			return col + "\x00" + v
		}
	}
	return ""
}

// next reads the rows of one product: the first row and every following
// row with the same key (or no key at all).
func (c *csvReader) next() (Record, error) {
	first, err := c.read()
	if err != nil {
		return Record{}, err
	}
	if first.cells == nil {
		return Record{Line: first.line, Err: first.err}, nil
	}
	// A row with the wrong number of cells still says which product it
	// belongs to: that product fails whole rather than lose a variant.
	g := &csvGroup{line: first.line, key: c.key(first)}
	if g.key == "" {
		g.fail(lineError(first.line, "", "needs an external_id, handle or title to say which product it is"))
	} else if prev, dup := c.seen[g.key]; dup {
		g.fail(lineError(first.line, "", "continues the product that starts on line %d; keep a product's rows together", prev))
	} else {
		c.seen[g.key] = first.line
	}
	c.start(g, first)
	for {
		row, err := c.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Record{}, err
		}
		if k := c.key(row); k != "" && k != g.key {
			c.ahead = row
			break
		}
		c.add(g, row)
	}
	return g.record(), nil
}

// csvGroup collects one product's rows.
type csvGroup struct {
	key          string
	line         int
	product      Product
	first        map[string]string // product columns of the first row
	variantLines []int
	err          *LineError
}

func (g *csvGroup) fail(err *LineError) {
	if g.err == nil {
		g.err = err
	}
}

func (g *csvGroup) record() Record {
	lines, options := g.variantLines, g.product.Options
	return Record{Line: g.line, Product: g.product, Err: g.err, locate: func(field string) (int, string) {
		return csvLocate(g.line, lines, options, field)
	}}
}

// csvLocate maps "variants[2].price" to the third variant row's line and
// its price column, and option paths ("variants[2].options.Size",
// "options[0].values") to the option columns.
func csvLocate(line int, variantLines []int, options []Option, field string) (int, string) {
	rest, ok := strings.CutPrefix(field, "variants[")
	if !ok {
		if i, name, ok := optionIndex(field); ok {
			return line, fmt.Sprintf("option%d_%s", i+1, name)
		}
		return line, field
	}
	num, sub, _ := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || i >= len(variantLines) {
		return line, field
	}
	sub = strings.TrimPrefix(sub, ".")
	if name, ok := strings.CutPrefix(sub, "options"); ok {
		name = strings.TrimPrefix(name, ".")
		for j, o := range options {
			if o.Name == name {
				return variantLines[i], fmt.Sprintf("option%d_value", j+1)
			}
		}
		return variantLines[i], "option1_value"
	}
	if sub == "" {
		return variantLines[i], "sku"
	}
	return variantLines[i], sub
}

// optionIndex reads "options[1].values" as (1, "value").
func optionIndex(field string) (int, string, bool) {
	rest, ok := strings.CutPrefix(field, "options[")
	if !ok {
		return 0, "", false
	}
	num, sub, _ := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	if strings.Contains(sub, "values") {
		return i, "value", true
	}
	return i, "name", true
}

// start takes the product's columns from its first row.
func (c *csvReader) start(g *csvGroup, row *csvRow) {
	g.first = map[string]string{}
	for _, col := range productColumns {
		g.first[col] = c.get(row, col)
	}
	p := &g.product
	p.ExternalID, p.Handle, p.Title = g.first["external_id"], g.first["handle"], g.first["title"]
	p.Description, p.Vendor, p.ProductType = g.first["description"], g.first["vendor"], g.first["product_type"]
	p.Category, p.Status = g.first["category"], g.first["status"]
	p.Tags, p.Media = splitList(g.first["tags"]), splitList(g.first["media"])
	attrs, err := parseAttributes(g.first["attributes"])
	if err != nil {
		g.fail(lineError(row.line, "attributes", "%s", err.msg))
	}
	p.Attributes = attrs
	for i := range maxOptions {
		name := c.get(row, fmt.Sprintf("option%d_name", i+1))
		if name == "" {
			continue
		}
		if len(p.Options) != i {
			g.fail(lineError(row.line, fmt.Sprintf("option%d_name", i+1), "fill option%d_name first", len(p.Options)+1))
		}
		p.Options = append(p.Options, Option{Name: name})
	}
	c.add(g, row)
}

// add reads one variant row of the group.
func (c *csvReader) add(g *csvGroup, row *csvRow) {
	if row.err != nil {
		g.fail(row.err)
		return
	}
	for _, col := range productColumns {
		if v := c.get(row, col); v != "" && v != g.first[col] {
			g.fail(lineError(row.line, col, "differs from the product's first row (line %d); leave it empty on variant rows", g.line))
		}
	}
	p := &g.product
	v := Variant{SKU: c.get(row, "sku"), Barcode: c.get(row, "barcode")}
	for i, o := range p.Options {
		if name := c.get(row, fmt.Sprintf("option%d_name", i+1)); name != "" && name != o.Name {
			g.fail(lineError(row.line, fmt.Sprintf("option%d_name", i+1), "is %q on the product's first row (line %d)", o.Name, g.line))
		}
		value := c.get(row, fmt.Sprintf("option%d_value", i+1))
		if v.Options == nil {
			v.Options = map[string]string{}
		}
		v.Options[o.Name] = value
		if value != "" && !slices.Contains(p.Options[i].Values, value) {
			p.Options[i].Values = append(p.Options[i].Values, value)
		}
	}
	c.variantNumbers(g, row, &v)
	g.variantLines = append(g.variantLines, row.line)
	p.Variants = append(p.Variants, v)
}

// variantNumbers reads the price, compare-at price, weight and stock
// cells of a variant row.
func (c *csvReader) variantNumbers(g *csvGroup, row *csvRow, v *Variant) {
	price, err := c.money.parse(c.get(row, "price"))
	if err != nil {
		g.fail(lineError(row.line, "price", "%s", err.Error()))
	}
	v.Price = price
	if s := c.get(row, "compare_at_price"); s != "" {
		cmp, err := c.money.parse(s)
		if err != nil {
			g.fail(lineError(row.line, "compare_at_price", "%s", err.Error()))
		}
		v.CompareAtPrice = &cmp
	}
	if s := c.get(row, "weight_grams"); s != "" {
		w, err := parseInt(s)
		if err != nil {
			g.fail(lineError(row.line, "weight_grams", "%s", err.Error()))
		}
		v.WeightGrams = w
	}
	if s := c.get(row, "stock"); s != "" {
		n, err := parseInt(s)
		if err != nil {
			g.fail(lineError(row.line, "stock", "%s", err.Error()))
		}
		v.Stock = &n
	}
}

// splitList reads a list cell: values separated by |.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for part := range strings.SplitSeq(s, "|") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
