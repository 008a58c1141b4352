package search

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/embed"
	"github.com/hyperrr/hyperrr/mdk/vector"
)

// Config configures an Index. The zero value is a lexical-only index with
// the default field weights and synonyms.
type Config struct {
	// FieldWeights weighs each text field in BM25F; nil uses
	// DefaultFieldWeights. A field missing from the map weighs 1; a weight
	// of 0 or less leaves the field out of the index.
	FieldWeights map[string]float64
	// Embedder embeds query text; with Vectors it enables the vector
	// ranker. Either nil makes the index lexical only, and Document.Vector
	// is then ignored.
	Embedder embed.Embedder
	Vectors  vector.Index
	// VectorFields are the keyword fields copied into vector.Item.Fields
	// (when a document has exactly one value), so filters on them run
	// inside the vector index. nil uses DefaultVectorFields.
	VectorFields []string
	// Synonyms are groups of equivalent phrases expanded at query time;
	// nil uses DefaultSynonyms, an empty slice none.
	Synonyms [][]string
	Stemming Stemming
	// DisableTypos turns off typo-tolerant and prefix matching, for
	// measuring what they add.
	DisableTypos bool
	// RRFK is the rank constant of reciprocal rank fusion (default 60);
	// LexicalWeight and VectorWeight scale each ranker's share (default 1).
	RRFK          int
	LexicalWeight float64
	VectorWeight  float64
	// FusionDepth is how many lexical ranks take part in fusion (default
	// 1000); further lexical matches follow the fused ones in BM25F order.
	FusionDepth int
	// VectorCandidates is how many nearest documents the vector ranker
	// contributes (default 100).
	VectorCandidates int
	// A document the lexical ranker did not match joins the results only
	// if its cosine similarity is at least VectorMatchMin and at least
	// VectorMatchRatio of the best candidate's. Both default to 0 (every
	// candidate matches), which in a small catalog makes every query match
	// everything: set them from the embedder's score scale. They do not
	// limit how vector ranks reorder lexical matches, nor vector-only mode.
	VectorMatchMin   float64
	VectorMatchRatio float64
	// ExactVectorLimit: when filters leave fewer documents than this
	// (default 2000), they are ranked by exact cosine instead of the ANN
	// index, which loses recall under selective filters.
	// A negative value always asks the vector index.
	ExactVectorLimit int
	// FacetSize is how many values a keyword facet returns (default 20).
	FacetSize int
	// QueryCacheSize is how many query embeddings are kept (default 1024;
	// negative keeps none).
	QueryCacheSize int
	Logger         *slog.Logger
}

// DefaultFieldWeights returns the weights of the product fields: a match in
// the title counts most, then category and type, then vendor, tags and
// attributes, then the description.
func DefaultFieldWeights() map[string]float64 {
	return map[string]float64{"title": 3, "category": 2, "type": 2, "vendor": 1.5,
		"tags": 1.5, "attributes": 1.5, "description": 1}
}

// DefaultVectorFields are the keyword fields mirrored into the vector index:
// single-valued ones a shopper commonly filters by. Category is left out
// because documents carry every prefix of their category path.
func DefaultVectorFields() []string { return []string{"status", "type", "vendor"} }

// Query limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxTextBytes bounds query text: a search box, not a document.
	MaxTextBytes = 2048
)

// upsertBatch is how many documents are applied per hold of the write lock,
// so searches interleave with a long import.
const upsertBatch = 256

// Index is the in-process search index. It is safe for concurrent use:
// searches share a read lock; writers are serialised and hold the write
// lock only to apply analysed batches.
type Index struct {
	cfg    Config
	log    *slog.Logger
	syn    *synonyms
	qcache *lru
	dims   int
	// degraded counts hybrid queries answered lexically because the
	// embedder or vector index failed.
	degraded degradations
	writeMu  sync.Mutex // serialises Upsert and Delete

	mu sync.RWMutex // guards st
	st *store

	scratch sync.Pool // *scratch, one per search in flight
}

// New returns an empty index.
func New(cfg Config) *Index {
	// Copies: the index reads these for its lifetime, the caller may not.
	cfg.FieldWeights = maps.Clone(cfg.FieldWeights)
	cfg.VectorFields = slices.Clone(cfg.VectorFields)
	if cfg.FieldWeights == nil {
		cfg.FieldWeights = DefaultFieldWeights()
	}
	if cfg.VectorFields == nil {
		cfg.VectorFields = DefaultVectorFields()
	}
	if cfg.Synonyms == nil {
		cfg.Synonyms = DefaultSynonyms()
	}
	cfg.RRFK = positive(cfg.RRFK, 60)
	cfg.FusionDepth = positive(cfg.FusionDepth, 1000)
	cfg.VectorCandidates = positive(cfg.VectorCandidates, 100)
	if cfg.ExactVectorLimit == 0 {
		cfg.ExactVectorLimit = 2000
	} else if cfg.ExactVectorLimit < 0 {
		cfg.ExactVectorLimit = 0 // always ask the vector index
	}
	cfg.FacetSize = positive(cfg.FacetSize, 20)
	if cfg.QueryCacheSize == 0 {
		cfg.QueryCacheSize = 1024
	}
	if cfg.LexicalWeight <= 0 {
		cfg.LexicalWeight = 1
	}
	if cfg.VectorWeight <= 0 {
		cfg.VectorWeight = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	x := &Index{cfg: cfg, log: cfg.Logger, syn: newSynonyms(cfg.Stemming, cfg.Synonyms), qcache: newLRU(cfg.QueryCacheSize)}
	if cfg.Embedder != nil && cfg.Vectors != nil {
		x.dims = cfg.Embedder.Dimensions()
	}
	x.st = newStore(newLexicon(cfg.Stemming), cfg.FieldWeights, x.dims)
	x.st.noTypos = cfg.DisableTypos
	return x
}

func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (x *Index) vectorsEnabled() bool { return x.dims > 0 }

// Len returns how many documents the index holds.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.st.live
}

// Upsert adds documents or replaces those with the same IDs; of several
// with one ID in docs, the last wins. Their vectors go to the vector index
// first. Errors: invalid (nothing is applied) for a document without an ID
// or with a vector of the wrong length; unavailable when the vector index
// fails, in which case earlier batches of a large call may be applied and a
// retry is safe.
func (x *Index) Upsert(ctx context.Context, docs ...Document) error {
	if err := x.validate(docs); err != nil {
		return err
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := x.checkFieldCounts(docs); err != nil {
		return err
	}
	for start := 0; start < len(docs); start += upsertBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := docs[start:min(start+upsertBatch, len(docs))]
		if err := x.upsertVectors(ctx, batch); err != nil {
			return err
		}
		analysedDocs := analyseAll(batch, x.vectorsEnabled())
		x.mu.Lock()
		for _, a := range analysedDocs {
			x.st.add(a)
		}
		x.st.lex.finishBatch()
		x.mu.Unlock()
		x.maybeCompact()
	}
	return nil
}

func (x *Index) validate(docs []Document) error {
	var errs []error
	for i, d := range docs {
		if d.ID == "" {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("documents[%d].id", i), "a document needs an ID"))
		}
		if !x.vectorsEnabled() || d.Vector == nil {
			continue
		}
		field := fmt.Sprintf("documents[%d].vector", i)
		if len(d.Vector) != x.dims {
			errs = append(errs, mdk.Invalid(field, "the vector has %d dimensions; the embedder %s makes %d", len(d.Vector), x.cfg.Embedder.Model(), x.dims))
			continue
		}
		if slices.ContainsFunc(d.Vector, func(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }) {
			errs = append(errs, mdk.Invalid(field, "the vector holds NaN or infinite values"))
		} else if !slices.ContainsFunc(d.Vector, func(v float32) bool { return v != 0 }) {
			errs = append(errs, mdk.Invalid(field, "the vector is all zeros; leave it nil for a document without an embedding"))
		}
	}
	return errors.Join(errs...)
}

// checkFieldCounts refuses a batch that would take the index past 255
// fields of a kind (a field ID is a byte). The caller holds writeMu, so the
// store's fields cannot change meanwhile.
func (x *Index) checkFieldCounts(docs []Document) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	text, kw, nums := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, d := range docs {
		addUnknown(text, x.st.textByName, maps.Keys(d.Text))
		addUnknown(kw, x.st.kwByName, maps.Keys(d.Keywords))
		addUnknown(nums, x.st.numsByName, maps.Keys(d.Numbers))
	}
	for _, k := range []struct {
		kind string
		n    int
	}{{"text", len(x.st.text) + len(text)}, {"keywords", len(x.st.kw) + len(kw)}, {"numbers", len(x.st.nums) + len(nums)}} {
		if k.n > maxFields {
			return mdk.Invalid("documents."+k.kind, "the index can hold at most %d %s fields; these documents would bring it to %d", maxFields, k.kind, k.n)
		}
	}
	return nil
}

func addUnknown(added map[string]bool, known map[string]uint8, names iter.Seq[string]) {
	for n := range names {
		if _, ok := known[n]; !ok {
			added[n] = true
		}
	}
}

// upsertVectors sends the batch's vectors to the vector index, and deletes
// there the documents that no longer have one.
func (x *Index) upsertVectors(ctx context.Context, batch []Document) error {
	if !x.vectorsEnabled() {
		return nil
	}
	var items []vector.Item
	var gone []string
	x.mu.RLock()
	for _, d := range batch {
		if d.Vector == nil {
			if ord, ok := x.st.byID[d.ID]; ok && x.st.hasVec.has(ord) {
				gone = append(gone, d.ID)
			}
			continue
		}
		item := vector.Item{ID: d.ID, Vector: d.Vector}
		for _, f := range x.cfg.VectorFields {
			if v := d.Keywords[f]; len(v) == 1 {
				if item.Fields == nil {
					item.Fields = map[string]string{}
				}
				item.Fields[f] = v[0]
			}
		}
		items = append(items, item)
	}
	x.mu.RUnlock()
	if len(items) > 0 {
		if err := x.cfg.Vectors.Upsert(ctx, items...); err != nil {
			return vectorIndexError(err, fmt.Sprintf("store %d vectors", len(items)))
		}
	}
	if len(gone) > 0 {
		if err := x.cfg.Vectors.Delete(ctx, gone...); err != nil {
			return vectorIndexError(err, fmt.Sprintf("drop %d stale vectors", len(gone)))
		}
	}
	return nil
}

// vectorIndexError keeps the vector index's own invalid-input errors and
// marks any other failure unavailable (retryable).
func vectorIndexError(err error, action string) error {
	if mdk.ErrorCode(err) == mdk.CodeInvalid {
		return fmt.Errorf("%s: %w", action, err)
	}
	return mdk.Unavailable(err, "the vector index could not %s; retry", action)
}

// analyseAll tokenises a batch on every core: analysis is most of the cost
// of indexing and needs no lock.
func analyseAll(docs []Document, keepVectors bool) []analysed {
	out := make([]analysed, len(docs))
	workers := min(4, max(1, len(docs)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(docs); i += workers {
				out[i] = analyse(&docs[i], keepVectors)
			}
		})
	}
	wg.Wait()
	return out
}

// Delete removes documents by ID; unknown IDs are ignored. Errors:
// unavailable when the vector index fails (nothing is removed then).
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if x.vectorsEnabled() {
		if err := x.cfg.Vectors.Delete(ctx, ids...); err != nil {
			return vectorIndexError(err, fmt.Sprintf("delete %d vectors", len(ids)))
		}
	}
	x.mu.Lock()
	for _, id := range ids {
		if ord, ok := x.st.byID[id]; ok {
			x.st.remove(ord)
		}
	}
	x.mu.Unlock()
	x.maybeCompact()
	return nil
}

// maybeCompact drops deleted documents once they are a quarter of the
// ordinals (and at least a thousand), bounding the memory and the posting
// scans they cost. The caller holds writeMu, so the store cannot change:
// the compacted copy is built while searches go on, and the write lock is
// held only to swap it in.
func (x *Index) maybeCompact() {
	old := x.st
	if old.dead < 1024 || old.dead*4 < len(old.ids) {
		return
	}
	start := time.Now()
	c := old.compacted()
	x.mu.Lock()
	x.st = c
	x.mu.Unlock()
	x.log.Debug("search: compacted index", "dropped", old.dead, "live", c.live, "took", time.Since(start))
}
