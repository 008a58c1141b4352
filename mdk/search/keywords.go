package search

import (
	"fmt"
	"slices"

	"github.com/hyperrr/hyperrr/mdk"
)

// SetKeyword replaces one keyword field of an indexed document in place,
// leaving its text, numbers and vector as they are. It exists for fields
// that change far more often than the rest of a document (a product's
// in-stock flag changes with every sale): re-upserting the whole document
// would re-analyse its text and re-store its vector each time. An empty
// values removes the field from the document.
//
// It reports whether the document is indexed (false: nothing changed).
// Errors: invalid for a field the vector index filters on (Config
// VectorFields), whose copy there this would leave stale.
func (x *Index) SetKeyword(id, field string, values ...string) (bool, error) {
	if x.vectorsEnabled() && slices.Contains(x.cfg.VectorFields, field) {
		return false, &mdk.Error{Code: mdk.CodeInvalid, Field: "field", Message: fmt.Sprintf("%q is filtered on by the vector index; upsert the document instead", field)}
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.st
	ord, ok := s.byID[id]
	if !ok || !s.alive.has(ord) {
		return false, nil
	}
	fid := s.kwField(field)
	f := &s.kw[fid]
	// The document's other fields stay; a new slice, since a compaction's
	// copy of the store may share the old one.
	old := s.docKw[ord]
	kept := make([]uint32, 0, len(old)+len(values))
	had := 0
	for _, p := range old {
		if p>>kwValueBits != uint32(fid) {
			kept = append(kept, p)
			continue
		}
		had++
		vid := p & kwValueMask
		if i, found := slices.BinarySearch(f.postings[vid], ord); found {
			f.postings[vid] = slices.Delete(f.postings[vid], i, i+1)
		}
	}
	if had > 1 {
		f.multi--
	}
	kept = s.addValues(fid, ord, values, kept)
	slices.Sort(kept)
	s.docKw[ord] = kept
	return true, nil
}
