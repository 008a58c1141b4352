package product

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

// Catalog import: a file (JSON Lines, CSV or the benchmark format, see
// docs/import.md) is read a product at a time and upserted in batches by
// external ID, else by handle. Every product lands whole or not at all; a
// bad row is reported with its line and the rest go on. A product whose
// content is unchanged since the last import writes nothing and emits
// nothing, so importing the same file twice is a no-op.

const (
	// importBatchProducts and importBatchVariants bound one transaction:
	// big enough that per-transaction costs vanish, small enough that the
	// write lock is held briefly (SQLite has one for the whole database).
	importBatchProducts = 500
	importBatchVariants = 5000
	// DefaultImportMaxErrors is how many row errors an import keeps unless
	// told otherwise; Failed counts them all.
	DefaultImportMaxErrors = 1000
	// MaxImportContentBytes bounds import_products' inline content; bigger
	// files go through `hyperrr import FILE`, which streams.
	MaxImportContentBytes = 4 << 20
	// importOpErrors is how many row errors import_products returns: enough
	// to fix a file, short enough for an agent's context.
	importOpErrors = 50
)

// ImportOptions tune an import.
type ImportOptions struct {
	// Format of the content; "" or importer.Auto detects it.
	Format importer.Format
	// MaxErrors bounds the row errors kept in the result (default
	// DefaultImportMaxErrors).
	MaxErrors int
	// Progress, if set, is called after every batch with the totals so far.
	Progress func(ImportResult)
}

// ImportResult counts what an import did. Failed counts products (and
// unreadable lines) that were not imported; Errors says why, a line each
// problem.
type ImportResult struct {
	Format     importer.Format      `json:"format" jsonschema:"format of the content: jsonl, csv or bench"`
	Created    int                  `json:"created" jsonschema:"products created"`
	Updated    int                  `json:"updated" jsonschema:"products changed"`
	Unchanged  int                  `json:"unchanged" jsonschema:"products already as the content describes them; nothing was written"`
	Failed     int                  `json:"failed" jsonschema:"products or lines not imported; see errors"`
	Errors     []importer.LineError `json:"errors" jsonschema:"the first problems, each with its line and field"`
	MoreErrors int                  `json:"more_errors,omitempty" jsonschema:"problems beyond those listed in errors"`
}

// Import reads a catalog from r and upserts its products: by external ID,
// else by handle (derived from the title when the file has none). Stock in
// the file sets on-hand units of variants the import creates; stock of
// existing variants changes only through set_stock. Errors: invalid for a
// format it cannot read (the result is then empty), and r's or the
// database's errors, after which the batches already written stay.
func (m *Module) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	if m.store == nil {
		return ImportResult{}, errors.New("import: the product module is not initialised")
	}
	return m.store.importCatalog(ctx, r, opts)
}

func (s *store) importCatalog(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	if opts.Format == "" {
		opts.Format = importer.Auto
	}
	rd, err := importer.NewReader(r, opts.Format, importer.Options{Currency: s.currency})
	if err != nil {
		return ImportResult{}, err
	}
	run := newImportRun(s, opts)
	run.res.Format = rd.Format()
	for {
		if err := ctx.Err(); err != nil {
			return run.result(), err
		}
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return run.result(), err
		}
		if rec.Err != nil {
			run.fail(*rec.Err)
			continue
		}
		if err := run.add(ctx, rec, inputFromImport(rec.Product)); err != nil {
			return run.result(), err
		}
	}
	err = run.flush(ctx)
	return run.result(), err
}

// importRun is one import in progress: the batch being filled, the keys
// seen so far (a file that lists a product or SKU twice is an error, not
// a silent last-wins) and the totals.
type importRun struct {
	s        *store
	opts     ImportOptions
	res      ImportResult
	batch    []importItem
	variants int
	seen     map[string]int // "h:handle", "x:external ID", "s:SKU" → line
}

func newImportRun(s *store, opts ImportOptions) *importRun {
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = DefaultImportMaxErrors
	}
	return &importRun{s: s, opts: opts, seen: map[string]int{}}
}

// result returns the totals so far, errors in line order (a duplicate is
// found as its row is read, a conflict with the catalog when its batch is
// written).
func (r *importRun) result() ImportResult {
	res := r.res
	res.Errors = append([]importer.LineError{}, r.res.Errors...)
	slices.SortStableFunc(res.Errors, func(a, b importer.LineError) int { return cmp.Compare(a.Line, b.Line) })
	return res
}

func (r *importRun) fail(errs ...importer.LineError) {
	r.res.Failed++
	for _, e := range errs {
		if len(r.res.Errors) < r.opts.MaxErrors {
			r.res.Errors = append(r.res.Errors, e)
		} else {
			r.res.MoreErrors++
		}
	}
}

// add validates a product and queues it, writing the batch when full.
func (r *importRun) add(ctx context.Context, rec importer.Record, in ProductInput) error {
	item, errs := r.prepare(rec, in)
	if len(errs) > 0 {
		r.fail(errs...)
		return nil
	}
	r.batch = append(r.batch, item)
	r.variants += len(item.in.Variants)
	if len(r.batch) >= importBatchProducts || r.variants >= importBatchVariants {
		return r.flush(ctx)
	}
	return nil
}

// prepare checks a product on its own and against the rest of the file,
// derives its handle and hashes its content.
func (r *importRun) prepare(rec importer.Record, in ProductInput) (importItem, []importer.LineError) {
	var errs []importer.LineError
	if err := in.Validate(); err != nil {
		for _, e := range mdk.AllErrors(err) {
			errs = append(errs, rec.Problem(e.Code, e.Field, e.Message))
		}
		return importItem{}, errs
	}
	in = in.normalized()
	derived := in.Handle == ""
	if derived {
		in.Handle = slugify(in.Title)
	}
	keys := map[string]string{"h:" + in.Handle: "handle"}
	if in.ExternalID != "" {
		keys["x:"+in.ExternalID] = "external_id"
	}
	for i, v := range in.Variants {
		keys["s:"+v.SKU] = fmt.Sprintf("variants[%d].sku", i)
	}
	for _, key := range sortedKeys(keys) {
		line, dup := r.seen[key]
		if !dup {
			continue
		}
		msg := fmt.Sprintf("%q is also on line %d; list each product and SKU once", key[2:], line)
		if derived && keys[key] == "handle" {
			msg = fmt.Sprintf("the handle derived from the title, %q, is also on line %d; give one of them its own handle", key[2:], line)
		}
		errs = append(errs, rec.Problem(mdk.CodeConflict, keys[key], msg))
	}
	if len(errs) > 0 {
		return importItem{}, errs
	}
	for key, field := range keys {
		line, _ := rec.Locate(field) // the name is for messages; duplicates are reported by line
		r.seen[key] = line
	}
	hash, err := contentHash(in, r.s.currency)
	if err != nil {
		return importItem{}, []importer.LineError{rec.Problem(mdk.CodeInternal, "", "cannot hash the product: "+err.Error())}
	}
	return importItem{rec: rec, in: in, hash: hash}, nil
}

func (r *importRun) flush(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	results, err := r.s.upsertBatch(ctx, r.batch)
	if err != nil {
		return fmt.Errorf("import the products of lines %d to %d: %w", r.batch[0].rec.Line, r.batch[len(r.batch)-1].rec.Line, err)
	}
	for _, res := range results {
		switch res.outcome {
		case outcomeCreated:
			r.res.Created++
		case outcomeUpdated:
			r.res.Updated++
		case outcomeUnchanged:
			r.res.Unchanged++
		default:
			r.fail(res.errs...)
		}
	}
	r.batch, r.variants = r.batch[:0], 0
	if r.opts.Progress != nil {
		r.opts.Progress(r.result())
	}
	return nil
}

// contentHashVersion changes whenever what the hash covers changes, so
// every product is rewritten once rather than wrongly skipped.
const contentHashVersion = 1

// contentHash identifies what an import writes for a product: its
// normalized input and the currency its prices are in. Stock is left out
// because an import sets it only on creation.
func contentHash(in ProductInput, currency string) (string, error) {
	variants := make([]VariantInput, len(in.Variants))
	for i, v := range in.Variants {
		v.Stock = nil
		variants[i] = v
	}
	in.Variants = variants
	raw, err := json.Marshal(struct {
		V        int          `json:"v"`
		Currency string       `json:"currency"`
		Product  ProductInput `json:"product"`
	}{contentHashVersion, currency, in})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}

// inputFromImport is the ProductInput a file's product stands for.
func inputFromImport(p importer.Product) ProductInput {
	in := ProductInput{
		Handle: p.Handle, ExternalID: p.ExternalID, Title: p.Title, Description: p.Description,
		Vendor: p.Vendor, ProductType: p.ProductType, Category: p.Category, Tags: p.Tags,
		Attributes: p.Attributes, Media: p.Media, Status: Status(p.Status),
	}
	for _, o := range p.Options {
		in.Options = append(in.Options, Option{Name: o.Name, Values: o.Values})
	}
	for _, v := range p.Variants {
		in.Variants = append(in.Variants, VariantInput{
			SKU: v.SKU, Options: v.Options, Price: v.Price, CompareAtPrice: v.CompareAtPrice,
			Barcode: v.Barcode, WeightGrams: v.WeightGrams, Stock: v.Stock,
		})
	}
	return in
}

// ImportProductsInput is the input of import_products.
type ImportProductsInput struct {
	Format  string `json:"format,omitempty" jsonschema:"auto (the default: detected from the content), jsonl, csv or bench"`
	Content string `json:"content" jsonschema:"the catalog file itself, at most 4 MiB: JSON Lines (one product a line) or CSV (a header, then one variant a row); see docs/import.md"`
}

// Validate checks the format name and the content's size.
func (in ImportProductsInput) Validate() error {
	var errs []error
	if _, err := importer.ParseFormat(in.Format); err != nil {
		errs = append(errs, err)
	}
	switch {
	case strings.TrimSpace(in.Content) == "":
		errs = append(errs, mdk.Invalid("content", "is empty: give the catalog file's content"))
	case len(in.Content) > MaxImportContentBytes:
		errs = append(errs, mdk.Invalid("content", "is %d bytes; at most %d fit in one call: split the file, or run `hyperrr import FILE` on the server", len(in.Content), MaxImportContentBytes))
	}
	return errors.Join(errs...)
}

// registerImport registers import_products.
func (m *Module) registerImport(rt *mdk.Runtime) error {
	return mdk.Register(rt.Ops, mdk.Operation[ImportProductsInput, ImportResult]{
		Name: "import_products",
		Description: "Create and update many products at once from a catalog file given inline (JSON Lines or CSV, see docs/import.md). " +
			"Products are matched by external_id, else by handle; a product already as described is left untouched, so importing the same content twice changes nothing. " +
			"Each product is imported whole or not at all: bad rows are reported by line and field while the good ones are imported. " +
			"Prices are minor units (1999) or a decimal with the store currency (\"19.99 USD\"); stock applies to new variants only. " +
			"Returns counts of created, updated, unchanged and failed products and the first 50 problems.",
		Access:     mdk.AccessMerchant,
		Effect:     mdk.EffectWrite,
		Idempotent: true,
		Handle: func(ctx context.Context, in ImportProductsInput) (ImportResult, error) {
			format, err := importer.ParseFormat(in.Format)
			if err != nil {
				return ImportResult{}, err
			}
			res, err := m.store.importCatalog(ctx, strings.NewReader(in.Content), ImportOptions{Format: format, MaxErrors: importOpErrors})
			var e *mdk.Error
			if errors.As(err, &e) && e.Code == mdk.CodeInvalid && e.Field == "" {
				e.Field = "content"
			}
			return res, err
		},
	})
}

// importPart hooks import into the module.
type importPart struct{}

func (importPart) Init(_ context.Context, m *Module, rt *mdk.Runtime) error {
	return m.registerImport(rt)
}
