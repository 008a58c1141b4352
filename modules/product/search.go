package product

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/embed"
	"github.com/hyperrr/hyperrr/mdk/search"
	"github.com/hyperrr/hyperrr/mdk/vector"
	"github.com/hyperrr/hyperrr/mdk/vector/hnsw"
	"github.com/hyperrr/hyperrr/mdk/vector/milvus"
)

// searchPart keeps the in-process search index of active products. It is
// built from SQL at start (with the stored embeddings), kept current by
// product and inventory events delivered to every instance, and embeds new
// or changed products in the background, so a model change re-embeds
// without slowing start-up.
type searchPart struct {
	m        *Module
	embedder embed.Embedder
	vectors  *vector.Warming // in-process vectors; nil with Milvus
	milvus   *milvus.Index
	index    *search.Index
	// results remembers search_catalog answers until the index changes.
	results *resultCache
	book    *stockBook
	// toReload holds products to re-read after content changes.
	toReload *reloads
	// reloads counts products re-read from SQL because of an event.
	reloads atomic.Int64

	queue   chan string // product IDs to (re-)embed
	ready   chan struct{}
	pending backlog // embeddings queued and not yet stored
	stop    context.CancelFunc
	done    sync.WaitGroup
}

// embedBatch is how many products are embedded per call to the embedder.
const embedBatch = 128

func (s *searchPart) Init(ctx context.Context, m *Module, rt *mdk.Runtime) error {
	s.m = m
	m.search = s
	e, err := newEmbedder(rt.Config)
	if err != nil {
		return err
	}
	s.embedder = e
	cfg := search.Config{Logger: rt.Log}
	// Cosine floors for products only the vector ranker finds: the local
	// embedder scores related text above ~0.4 and unrelated below ~0.1.
	var err2 error
	if cfg.VectorMatchMin, err2 = configFloat(rt.Config, "vector_match_min", 0.25); err2 != nil {
		return err2
	}
	if cfg.VectorMatchRatio, err2 = configFloat(rt.Config, "vector_match_ratio", 0.5); err2 != nil {
		return err2
	}
	if cfg.ExactVectorLimit, err = rt.Config.Int("vector_exact_limit", 0); err != nil {
		return err
	}
	if err := searchTuning(rt.Config, &cfg); err != nil {
		return err
	}
	if e != nil {
		vecs, err := s.vectorIndex(ctx, rt.Config, e.Dimensions())
		if err != nil {
			return err
		}
		cfg.Embedder, cfg.Vectors = e, vecs
	}
	s.index = search.New(cfg)
	size, err := rt.Config.Int("search_cache_size", defaultSearchCacheSize)
	if err != nil {
		return err
	}
	if s.milvus != nil {
		// Other instances write vectors to the shared collection without
		// an event reaching this one: nothing would tell this cache.
		size = 0
	}
	if s.results, err = newResultCache(size); err != nil {
		return fmt.Errorf("search result cache: %w", err)
	}
	s.book = newStockBook()
	s.toReload = newReloads()
	s.queue = make(chan string, 4096)
	s.ready = make(chan struct{})
	// Every instance keeps its own index, so every instance must see every
	// change: broadcast delivery.
	err = rt.Bus.Subscribe(mdk.Subscription{
		Name: "commerce.product.search-index", Types: []string{"product.*", EventInventoryChanged}, Delivery: mdk.Broadcast,
	}, s.onEvent)
	if err != nil {
		return fmt.Errorf("subscribe search index: %w", err)
	}
	return s.registerSearchOp(rt.Ops)
}

// vectorIndex is Milvus when HYPERRR_MILVUS_ADDR (or the product-only
// HYPERRR_PRODUCT_MILVUS_ADDR) is set (shared by
// every instance, so no instance holds the vectors in memory), else the
// in-process index: exact at first, HNSW once built in the background.
func (s *searchPart) vectorIndex(ctx context.Context, c mdk.Config, dims int) (vector.Index, error) {
	if addr := c.String("milvus_addr", ""); addr != "" {
		idx, err := milvus.New(ctx, milvus.Config{
			Address: addr, Token: c.String("milvus_token", ""), Collection: c.String("milvus_collection", milvus.DefaultCollection),
			Dimensions: dims, FilterFields: search.DefaultVectorFields(),
		})
		if err != nil {
			return nil, fmt.Errorf("Milvus at %s (HYPERRR_MILVUS_ADDR or HYPERRR_PRODUCT_MILVUS_ADDR): %w", addr, err)
		}
		s.milvus = idx
		return idx, nil
	}
	exact, err := vector.NewExact(dims)
	if err != nil {
		return nil, fmt.Errorf("vector index: %w", err)
	}
	s.vectors = vector.NewWarming(exact)
	return s.vectors, nil
}

// newEmbedder picks the embedder from HYPERRR_PRODUCT_EMBEDDER: local (the
// default, no download), openai (any OpenAI-compatible endpoint) or none
// (lexical search only).
func newEmbedder(c mdk.Config) (embed.Embedder, error) {
	switch kind := c.String("embedder", "local"); kind {
	case "none":
		return nil, nil
	case "local":
		dims, err := c.Int("embedding_dimensions", embed.DefaultLocalDims)
		if err != nil {
			return nil, err
		}
		return embed.NewLocal(dims), nil
	case "openai":
		dims, err := c.Int("embedding_dimensions", 0)
		if err != nil {
			return nil, err
		}
		key := c.String("embeddings_api_key", os.Getenv("OPENAI_API_KEY"))
		return embed.NewOpenAI(embed.Config{
			BaseURL:    c.String("embeddings_base_url", "https://api.openai.com/v1"),
			Model:      c.String("embeddings_model", "text-embedding-3-small"),
			APIKey:     key,
			Dimensions: dims,
		})
	default:
		return nil, fmt.Errorf("HYPERRR_PRODUCT_EMBEDDER=%q: want local, openai or none", kind)
	}
}

// searchTuning applies HYPERRR_PRODUCT_SEARCH_* settings: field weights
// (weighted, the default, or uniform), synonyms and typo tolerance (on by
// default). They exist to measure what each part adds (hyperrr eval
// search) and to turn off a part that misbehaves on a merchant's catalog.
func searchTuning(c mdk.Config, cfg *search.Config) error {
	switch w := c.String("search_field_weights", "weighted"); w {
	case "weighted":
	case "uniform":
		cfg.FieldWeights = map[string]float64{}
		for name := range search.DefaultFieldWeights() {
			cfg.FieldWeights[name] = 1
		}
	default:
		return fmt.Errorf("HYPERRR_PRODUCT_SEARCH_FIELD_WEIGHTS=%q: want weighted or uniform", w)
	}
	synonyms, err := c.Bool("search_synonyms", true)
	if err != nil {
		return err
	}
	if !synonyms {
		cfg.Synonyms = [][]string{}
	}
	typos, err := c.Bool("search_typos", true)
	if err != nil {
		return err
	}
	cfg.DisableTypos = !typos
	return nil
}

func configFloat(c mdk.Config, key string, def float64) (float64, error) {
	v := c.String(key, "")
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return 0, fmt.Errorf("HYPERRR_%s_%s=%q: want a number from 0 to 1", strings.ToUpper(c.Section), strings.ToUpper(key), v)
	}
	return f, nil
}

// Start builds the index from SQL, then embeds what has no current
// embedding and builds the ANN graph in the background.
func (s *searchPart) Start(ctx context.Context) error {
	start := time.Now()
	stale, err := s.build(ctx)
	s.results.changed()
	if err != nil {
		return fmt.Errorf("build search index: %w", err)
	}
	close(s.ready)
	s.m.log.Info("search index built", "products", s.index.Len(), "to_embed", len(stale), "took", time.Since(start).Round(time.Millisecond))
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	s.done.Add(1)
	go func() { defer s.done.Done(); s.reloadLoop(bg) }()
	if s.embedder == nil {
		return nil
	}
	s.pending.add(len(stale))
	s.done.Add(2)
	if s.vectors != nil {
		s.done.Add(1)
	}
	go func() {
		defer s.done.Done()
		for _, id := range stale {
			select {
			case s.queue <- id:
			case <-bg.Done():
				return
			}
		}
	}()
	go func() { defer s.done.Done(); s.embedLoop(bg) }()
	if s.vectors == nil {
		return nil
	}
	go func() {
		defer s.done.Done()
		// The graph build is CPU work, not I/O: wait for the backlog of
		// embeddings first so the two don't compete for the cores.
		s.waitEmbedded(bg)
		t := time.Now()
		err := s.vectors.Build(bg, func() (vector.Index, error) { return hnsw.New(s.embedder.Dimensions(), hnsw.Options{}) })
		s.results.changed() // the graph answers vector queries now
		if err != nil {
			if bg.Err() == nil {
				s.m.log.Warn("ANN index not built; searching vectors exactly", "err", err)
			}
			return
		}
		s.m.log.Info("ANN vector index ready", "took", time.Since(t).Round(time.Millisecond))
		// The exact index and the build's copies are garbage now: hand
		// their pages back rather than carry them as resident memory.
		debug.FreeOSMemory()
	}()
	return nil
}

// Shutdown stops the background embedding and closes a Milvus client.
func (s *searchPart) Shutdown(ctx context.Context) error {
	if s.stop != nil {
		s.stop()
	}
	done := make(chan struct{})
	go func() { s.done.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.milvus != nil {
		return s.milvus.Close()
	}
	return nil
}

// build loads every active product with its stored embedding into the
// index and returns the IDs whose embedding is missing or stale. Products
// and embeddings are read concurrently: both are a scan of ~50,000 rows
// for a large catalog, and start-up waits for the slower one only.
func (s *searchPart) build(ctx context.Context) ([]string, error) {
	type loaded struct {
		stored map[string]storedEmbedding
		err    error
	}
	embeddings := make(chan loaded, 1)
	go func() {
		stored, err := s.loadEmbeddings(ctx)
		embeddings <- loaded{stored, err}
	}()
	var docs []search.Document
	var hashes []string
	err := s.m.store.eachActive(ctx, 1000, func(ps []Product) error {
		s.book.mu.Lock()
		defer s.book.mu.Unlock()
		for _, p := range ps {
			s.book.products[p.ID] = stockOf(p)
			docs = append(docs, productDocument(p))
			hashes = append(hashes, embedHash(p))
		}
		return nil
	})
	emb := <-embeddings
	if err != nil {
		return nil, err
	}
	if emb.err != nil {
		return nil, emb.err
	}
	var stale []string
	for i := range docs {
		if e, ok := emb.stored[docs[i].ID]; ok && e.hash == hashes[i] {
			docs[i].Vector = e.vector
		} else if s.embedder != nil {
			stale = append(stale, docs[i].ID)
		}
	}
	for batch := range slices.Chunk(docs, 1000) {
		if err := s.index.Upsert(ctx, batch...); err != nil {
			return nil, err
		}
	}
	return stale, nil
}

type storedEmbedding struct {
	vector []float32
	hash   string
}

func (s *searchPart) loadEmbeddings(ctx context.Context) (map[string]storedEmbedding, error) {
	out := map[string]storedEmbedding{}
	if s.embedder == nil {
		return out, nil
	}
	rows, err := s.m.rt.DB.QueryContext(ctx, `SELECT product_id, vector, content_hash FROM product.embeddings WHERE model = $1 AND dimensions = $2`,
		s.embedder.Model(), s.embedder.Dimensions())
	if err != nil {
		return nil, fmt.Errorf("load embeddings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, hash string
			raw      []byte
		)
		if err := rows.Scan(&id, &raw, &hash); err != nil {
			return nil, fmt.Errorf("load embeddings: %w", err)
		}
		v, err := decodeVector(raw, s.embedder.Dimensions())
		if err != nil {
			return nil, fmt.Errorf("embedding of %s: %w", id, err)
		}
		out[id] = storedEmbedding{vector: v, hash: hash}
	}
	return out, rows.Err()
}

func (s *searchPart) refresh(ctx context.Context, id string) error {
	// Before: a search that sees the new index state must not be followed
	// by answers remembered from the old one. After: searches begun
	// before the change must not be reused, even when the refresh fails
	// (the event is retried; the product's rows have changed already).
	s.results.changed()
	defer s.results.changed()
	s.book.mu.Lock()
	defer s.book.mu.Unlock()
	s.reloads.Add(1)
	ps, err := s.m.store.getProducts(ctx, s.m.rt.DB, []string{id})
	if err != nil {
		return err
	}
	if len(ps) == 0 || ps[0].Status != StatusActive {
		delete(s.book.products, id)
		return s.index.Delete(ctx, id)
	}
	p := ps[0]
	// Before the upsert: an error leaves the book ahead of the index,
	// and the retried event reloads both.
	s.book.products[id] = stockOf(p)
	doc := productDocument(p)
	if s.embedder != nil {
		stored, err := s.storedEmbedding(ctx, id)
		if err != nil {
			return err
		}
		if stored != nil && stored.hash == embedHash(p) {
			doc.Vector = stored.vector
		} else {
			s.enqueue(id)
		}
	}
	return s.index.Upsert(ctx, doc)
}

func (s *searchPart) storedEmbedding(ctx context.Context, id string) (*storedEmbedding, error) {
	var (
		raw  []byte
		hash string
	)
	err := s.m.rt.DB.QueryRowContext(ctx, `SELECT vector, content_hash FROM product.embeddings WHERE product_id = $1 AND model = $2`,
		id, s.embedder.Model()).Scan(&raw, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load embedding of %s: %w", id, err)
	}
	v, err := decodeVector(raw, s.embedder.Dimensions())
	if err != nil {
		return nil, nil //nolint:nilerr // a malformed stored vector is re-embedded, not fatal
	}
	return &storedEmbedding{vector: v, hash: hash}, nil
}

func (s *searchPart) enqueue(id string) {
	s.pending.add(1)
	select {
	case s.queue <- id:
	default:
		// A full queue means a bulk change is being embedded already; the
		// product is picked up by the next start's stale scan.
		s.pending.add(-1)
		s.m.log.Debug("embedding queue full; product embedded on next start", "product", id)
	}
}

// embedLoop embeds queued products in batches and stores the vectors.
func (s *searchPart) embedLoop(ctx context.Context) {
	batch := make([]string, 0, embedBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.queue:
			batch = append(batch[:0], id)
		fill:
			for len(batch) < embedBatch {
				select {
				case id := <-s.queue:
					batch = append(batch, id)
				default:
					break fill
				}
			}
			if err := s.embedProducts(ctx, batch); err != nil && ctx.Err() == nil {
				s.m.log.Warn("embed products; they stay lexical-only until the next change or start", "products", len(batch), "err", err)
			}
			for range batch {
				s.pending.add(-1)
			}
		}
	}
}

func (s *searchPart) embedProducts(ctx context.Context, ids []string) error {
	ps, err := s.m.store.getProducts(ctx, s.m.rt.DB, ids)
	if err != nil {
		return err
	}
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = embedText(p)
	}
	vecs, err := s.embedder.Embed(ctx, texts)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	docs := make([]search.Document, 0, len(ps))
	for i, p := range ps {
		_, err := s.m.rt.DB.ExecContext(ctx, `INSERT INTO product.embeddings (product_id, model, dimensions, vector, content_hash, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (product_id, model) DO UPDATE SET dimensions = excluded.dimensions, vector = excluded.vector,
				content_hash = excluded.content_hash, updated_at = excluded.updated_at`,
			p.ID, s.embedder.Model(), s.embedder.Dimensions(), encodeVector(vecs[i]), embedHash(p), now)
		if err != nil {
			return fmt.Errorf("store embedding of %s: %w", p.ID, err)
		}
		if p.Status == StatusActive {
			doc := productDocument(p)
			doc.Vector = vecs[i]
			docs = append(docs, doc)
		}
	}
	s.results.changed() // before and after, as in refresh
	defer s.results.changed()
	// The products were read before the vectors were made: stock applied
	// since then is in the book, and must not be undone.
	s.book.mu.Lock()
	defer s.book.mu.Unlock()
	for _, d := range docs {
		if vs, ok := s.book.products[d.ID]; ok {
			d.Keywords["in_stock"] = []string{strconv.FormatBool(inStock(vs))}
		}
	}
	return s.index.Upsert(ctx, docs...)
}

// waitEmbedded returns once every queued embedding is stored or ctx ends.
func (s *searchPart) waitEmbedded(ctx context.Context) {
	select {
	case <-s.pending.drained():
	case <-ctx.Done():
	}
}

// backlog counts queued work and tells waiters when it drains. Unlike a
// WaitGroup, work may be added while someone waits (events keep arriving).
type backlog struct {
	mu    sync.Mutex
	n     int
	empty chan struct{} // closed while n == 0
}

func (b *backlog) add(delta int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.empty == nil {
		b.empty = make(chan struct{})
		close(b.empty)
	}
	was := b.n
	b.n += delta
	switch {
	case was == 0 && b.n > 0:
		b.empty = make(chan struct{})
	case was > 0 && b.n == 0:
		close(b.empty)
	}
}

// drained returns a channel closed once the backlog is (or becomes) empty.
func (b *backlog) drained() <-chan struct{} {
	b.add(0)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.empty
}
