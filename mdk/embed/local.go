package embed

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// DefaultLocalDims is the dimension of Local when none is given: enough
// that the features of a product text rarely collide, small enough that an
// exact scan of a few thousand products takes well under a millisecond.
const DefaultLocalDims = 256

// localVersion changes whenever Local's features or weights change, since
// vectors from two versions are not comparable.
const localVersion = "local-hash-v1"

// Local is an Embedder that needs no model: the feature-hashing trick over
// stemmed words, word bigrams, character 3- and 4-grams and a built-in
// commerce concept lexicon, with sub-linear term frequency and optional IDF
// weights. It runs in-process at tens of thousands of texts a second.
//
// What it captures: shared words in any inflection ("chairs", "chair"),
// shared word parts and typos ("bookshelf", "book shelf", "bokshelf"),
// shared phrases, and the concepts of its lexicon ("couch" near "sofa",
// "somewhere to keep spices" near "spice rack"). What it cannot: meaning
// beyond those (synonyms it does not list, paraphrase, negation, word
// sense, languages other than English). It is a sound default for a
// catalog and a floor for evaluating real embedding models.
type Local struct {
	dims int
	idf  *IDF
}

// NewLocal returns a Local embedder of dims dimensions (DefaultLocalDims
// when dims ≤ 0).
func NewLocal(dims int) *Local {
	if dims <= 0 {
		dims = DefaultLocalDims
	}
	return &Local{dims: dims}
}

// WithIDF returns a copy of l that weights features by idf (see FitIDF).
// Its vectors differ from l's, and so does its Model.
func (l *Local) WithIDF(idf *IDF) *Local {
	c := *l
	c.idf = idf
	return &c
}

// Model names the embedder, its version and dimensions, and the IDF table
// when there is one, e.g. "local-hash-v1-256" or
// "local-hash-v1-256-idf-3f2a9c1d".
func (l *Local) Model() string {
	m := fmt.Sprintf("%s-%d", localVersion, l.dims)
	if l.idf != nil {
		m += "-idf-" + l.idf.Fingerprint()
	}
	return m
}

// Dimensions is the length of every vector.
func (l *Local) Dimensions() int { return l.dims }

// minParallel is the batch size from which Embed spreads texts over CPUs.
const minParallel = 128

// Embed returns one unit vector per text. A text with no words (empty, or
// only punctuation) gets one fixed vector, the same for all such texts. It
// fails only when ctx ends.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	flat := make([]float32, len(texts)*l.dims)
	for i := range out {
		out[i] = flat[i*l.dims : (i+1)*l.dims : (i+1)*l.dims]
	}
	workers := min(runtime.GOMAXPROCS(0), len(texts)/(minParallel/2))
	if workers <= 1 {
		return out, l.embedRange(ctx, texts, out, 0, len(texts))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		lo, hi := len(texts)*w/workers, len(texts)*(w+1)/workers
		wg.Go(func() { errs[w] = l.embedRange(ctx, texts, out, lo, hi) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (l *Local) embedRange(ctx context.Context, texts []string, out [][]float32, lo, hi int) error {
	e := extractors.Get().(*extractor)
	defer extractors.Put(e)
	for i := lo; i < hi; i++ {
		if (i-lo)%minParallel == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("embed texts: %w", err)
			}
		}
		e.extract(texts[i])
		l.vector(e, out[i])
	}
	return nil
}

// vector writes the features in e into v, signed and weighted, and
// normalises it. Term frequency counts sub-linearly (1 + ln tf): a word
// said three times matters more than once, not three times as much.
func (l *Local) vector(e *extractor, v []float32) {
	c := &e.feats
	for _, i := range c.used {
		h := c.keys[i]
		w := kindWeight[c.kinds[i]]
		if n := c.counts[i]; n > 1 {
			w *= 1 + float32(math.Log(float64(n)))
		}
		if l.idf != nil {
			w *= l.idf.weights[bucket(h, l.idf.bits)]
		}
		if c.kinds[i] == kindConcept {
			v[conceptDimension(h, l.dims)] += w
			continue
		}
		v[dimension(h, l.dims)] += sign(h) * w
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		// Every feature cancelled out against a colliding one: vanishingly
		// rare, but the contract is a unit vector.
		v[dimension(c.keys[c.used[0]], l.dims)] = 1
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}
