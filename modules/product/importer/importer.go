// Package importer reads catalog files for the product module's import:
// JSON Lines and CSV in Hyperrr's generic format (docs/import.md), and the
// benchmark catalog format of ../shared/data/bench. It streams: a file of
// any size is read one line (CSV: one product's rows) at a time, and every
// product comes back with the line it starts on, so a bad row is reported
// as "line 17: variants[0].price: must not be negative" while the good rows
// go on.
//
// The package knows file formats, not the catalog: it does not import the
// product module (which imports it) and checks only what the file itself
// can get wrong (syntax, types, prices, columns). Catalog rules (a title is
// required, SKUs are unique) are the product module's.
package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// Format is a catalog file format.
type Format string

const (
	// Auto detects the format from the content: JSON objects with a
	// "name" and a "productClass" or "slug" but no "title" are Bench,
	// other JSON objects are JSONL, anything else must be CSV with a
	// header row.
	Auto Format = "auto"
	// JSONL is one product a line, variants nested (docs/import.md).
	JSONL Format = "jsonl"
	// CSV is one variant a row with a header, rows of a product adjacent.
	CSV Format = "csv"
	// Bench is the benchmark catalog: one single-variant product a line,
	// prices in US dollars.
	Bench Format = "bench"
)

// Formats lists the formats a caller may ask for, Auto first.
var Formats = []Format{Auto, JSONL, CSV, Bench}

// ParseFormat returns the format named s ("" is Auto), or an invalid error
// on field "format" listing the choices.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return Auto, nil
	}
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", mdk.Invalid("format", "unknown format %q: use auto, jsonl, csv or bench", s)
}

// Product is one product as the file states it, before the catalog's rules
// are checked. Prices are already minor units of Options.Currency.
type Product struct {
	Handle      string
	ExternalID  string
	Title       string
	Description string
	Vendor      string
	ProductType string
	Category    string
	Tags        []string
	Attributes  map[string]string
	Media       []string
	Status      string
	Options     []Option
	Variants    []Variant
}

// Option is a dimension the product varies in (Size, Color).
type Option struct {
	Name   string
	Values []string
}

// Variant is one purchasable version of a product.
type Variant struct {
	SKU            string
	Options        map[string]string
	Price          int64
	CompareAtPrice *int64
	Barcode        string
	WeightGrams    int64
	// Stock is the on-hand count for a variant the import creates.
	Stock *int64
}

// Record is one product read from the file, or the reason a part of the
// file could not be read.
type Record struct {
	// Line is the 1-based line the product starts on.
	Line int
	// Product is set when Err is nil.
	Product Product
	// Err is why the row could not be read; Product is then unusable.
	Err *LineError
	// locate maps a field path of Product to the line and name the file
	// uses for it (CSV: the variant's row and its column).
	locate func(field string) (int, string)
}

// Locate returns where in the file the product's field path
// ("variants[2].price") is: its line, and the field as the file names it
// (the column "price" of the variant's row in CSV, "price" in Bench).
func (r Record) Locate(field string) (line int, name string) {
	if r.locate == nil {
		return r.Line, field
	}
	return r.locate(field)
}

// Problem returns a LineError for a problem with field of the record's
// product, placed where the file has that field.
func (r Record) Problem(code mdk.Code, field, message string) LineError {
	line, name := r.Locate(field)
	return LineError{Line: line, Field: name, Code: code, Message: message}
}

// LineError is a problem with one line of a file.
type LineError struct {
	Line    int      `json:"line" jsonschema:"1-based line of the file"`
	Field   string   `json:"field,omitempty" jsonschema:"field or column at fault, e.g. variants[0].price"`
	Code    mdk.Code `json:"code" jsonschema:"error code, e.g. invalid or conflict"`
	Message string   `json:"message" jsonschema:"what is wrong and how to fix it"`
}

// Error reads "line 17: variants[0].price: must not be negative".
func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

func lineError(line int, field, format string, args ...any) *LineError {
	return &LineError{Line: line, Field: field, Code: mdk.CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// Options configure a Reader.
type Options struct {
	// Currency is the store's ISO 4217 currency: prices written as a
	// decimal with a currency code must be in it. Required.
	Currency string
	// MaxLineBytes bounds one line (JSONL, Bench) or one CSV record; a
	// longer one is reported and skipped. Default 1 MiB.
	MaxLineBytes int
}

// DefaultMaxLineBytes is the longest line read unless Options say
// otherwise: far beyond any real product, small enough that one bad file
// cannot exhaust memory.
const DefaultMaxLineBytes = 1 << 20

// Reader reads products from a catalog file, one at a time.
type Reader struct {
	format Format
	next   func() (Record, error)
}

// NewReader returns a reader of r in format f, detecting the format when f
// is Auto. It reads only as much of r as detection needs. Errors are
// *mdk.Error (invalid) for a format it cannot read or a bad currency, and
// the read error when r fails.
func NewReader(r io.Reader, f Format, opts Options) (*Reader, error) {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	money, err := newMoney(opts.Currency)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(br); err != nil {
		return nil, err
	}
	if f == Auto {
		if f, err = detect(br); err != nil {
			return nil, err
		}
	}
	rd := &Reader{format: f}
	switch f {
	case JSONL:
		rd.next = perLine(br, opts.MaxLineBytes, jsonlParser{money}.parse)
	case Bench:
		if money.code != benchCurrency {
			return nil, mdk.Invalid("format", "the benchmark catalog's prices are US dollars and this store sells in %s; import it into a USD store", money.code)
		}
		rd.next = perLine(br, opts.MaxLineBytes, benchParser{money}.parse)
	case CSV:
		c, err := newCSV(br, opts.MaxLineBytes, money)
		if err != nil {
			return nil, err
		}
		rd.next = c.next
	default:
		return nil, mdk.Invalid("format", "unknown format %q: use auto, jsonl, csv or bench", f)
	}
	return rd, nil
}

// Format returns the format being read (the detected one for Auto).
func (r *Reader) Format() Format { return r.format }

// Next returns the next product, or a Record whose Err says why a part of
// the file could not be read (reading goes on after it). At the end it
// returns io.EOF; any other error means the underlying reader failed and
// nothing more can be read.
func (r *Reader) Next() (Record, error) { return r.next() }

func skipBOM(br *bufio.Reader) error {
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read catalog: %w", err)
	}
	if bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		if _, err := br.Discard(3); err != nil {
			return fmt.Errorf("read catalog: %w", err)
		}
	}
	return nil
}

// detect looks at the start of the file without consuming it.
func detect(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("read catalog: %w", err)
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return JSONL, nil // empty: nothing to read in any format
	case trimmed[0] == '[':
		return "", mdk.Invalid("", "the content is a JSON array; write one JSON object a line (JSON Lines)")
	case trimmed[0] == '{':
		return detectJSON(trimmed), nil
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if looksLikeCSVHeader(line) {
		return CSV, nil
	}
	return "", mdk.Invalid("", "cannot tell the format: the first line is neither a JSON object nor a CSV header with a title column (see docs/import.md)")
}

// detectJSON tells Bench from JSONL by the first object's keys.
func detectJSON(head []byte) Format {
	first, _, complete := bytes.Cut(head, []byte("\n"))
	var keys map[string]json.RawMessage
	if complete && json.Unmarshal(first, &keys) == nil {
		_, title := keys["title"]
		_, name := keys["name"]
		_, class := keys["productClass"]
		_, slug := keys["slug"]
		if !title && name && (class || slug) {
			return Bench
		}
		return JSONL
	}
	// A first line longer than the look-ahead: judge by its start.
	if bytes.Contains(head, []byte(`"productClass"`)) && !bytes.Contains(head, []byte(`"title"`)) {
		return Bench
	}
	return JSONL
}
