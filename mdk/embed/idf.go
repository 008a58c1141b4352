package embed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// idfBits sizes the IDF table: 2^18 buckets of feature hashes. A catalog
// has some hundred thousand distinct features (most of them character
// n-grams), so few share a bucket, and the table stays 1 MiB.
const idfBits = 18

const idfMagic = "hyperrr-idf\x01"

// IDF holds inverse document frequencies fitted on a corpus: a feature
// found in most texts ("crafted", "durable") weighs little, a rare one
// ("adirondack") much. Fit it once on the catalog and persist it with
// MarshalBinary; vectors made with one table are comparable only with
// vectors made with the same table, which is why Local's Model names the
// table's fingerprint. Refitting means re-embedding everything, so keep a
// table across catalog changes; words it never saw get the highest weight,
// which is the right guess for a new rare word.
type IDF struct {
	bits    int
	docs    uint64
	df      []uint32
	weights []float32
	fp      string
}

// FitIDF counts, for every feature bucket, how many of texts hold it.
func FitIDF(texts []string) *IDF {
	t := &IDF{bits: idfBits, docs: uint64(len(texts)), df: make([]uint32, 1<<idfBits)}
	e := extractors.Get().(*extractor)
	defer extractors.Put(e)
	for _, text := range texts {
		e.extract(text)
		for _, i := range e.feats.used {
			t.df[bucket(e.feats.keys[i], t.bits)]++
		}
	}
	t.finish()
	return t
}

// finish derives the weights and the fingerprint from the counts. The
// weight is the square root of BM25's IDF, ln(1 + (N − df + ½)/(df + ½)):
// applied to both the query and the product, the root makes the product of
// the two one IDF. A feature the corpus never held is weighted as if one
// text in a thousand held it: at full weight, query words that match
// nothing (most of a request's wording) would drown the ones that match.
func (t *IDF) finish() {
	t.weights = make([]float32, len(t.df))
	n := float64(t.docs)
	unseen := math.Max(1, n/1000)
	for i, df := range t.df {
		d := float64(min(uint64(df), t.docs))
		if d == 0 {
			d = unseen
		}
		t.weights[i] = float32(math.Sqrt(math.Log(1 + (n-d+0.5)/(d+0.5))))
	}
	data, _ := t.MarshalBinary() // cannot fail: it only writes to memory
	t.fp = fmt.Sprintf("%08x", hashFinish(hashBytes(fnvOffset, data))>>32)
}

// Fingerprint identifies the table's contents in eight hex digits.
func (t *IDF) Fingerprint() string { return t.fp }

// Docs is how many texts the table was fitted on.
func (t *IDF) Docs() int { return int(t.docs) }

// MarshalBinary encodes the table for storage.
func (t *IDF) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, len(idfMagic)+2*binary.MaxVarintLen64+len(t.df))
	out = append(out, idfMagic...)
	out = binary.AppendUvarint(out, uint64(t.bits))
	out = binary.AppendUvarint(out, t.docs)
	for _, df := range t.df {
		out = binary.AppendUvarint(out, uint64(df))
	}
	return out, nil
}

// UnmarshalBinary decodes a table written by MarshalBinary.
func (t *IDF) UnmarshalBinary(data []byte) error {
	if len(data) < len(idfMagic) || string(data[:len(idfMagic)]) != idfMagic {
		return errors.New("decode idf table: not an IDF table of this version")
	}
	data = data[len(idfMagic):]
	next := func() (uint64, error) {
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, errors.New("decode idf table: truncated")
		}
		data = data[n:]
		return v, nil
	}
	b, err := next()
	if err != nil {
		return err
	}
	if b < 1 || b > 24 {
		return fmt.Errorf("decode idf table: %d bucket bits is out of range", b)
	}
	docs, err := next()
	if err != nil {
		return err
	}
	df := make([]uint32, 1<<b)
	for i := range df {
		v, err := next()
		if err != nil {
			return err
		}
		df[i] = uint32(min(v, math.MaxUint32))
	}
	if len(data) != 0 {
		return errors.New("decode idf table: trailing bytes")
	}
	*t = IDF{bits: int(b), docs: docs, df: df}
	t.finish()
	return nil
}
