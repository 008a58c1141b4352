package search

import "slices"

// DefaultSynonyms returns the built-in commerce synonym groups: each group
// lists phrases a shopper uses for the same thing. The slice is a fresh
// copy, so a caller can append its own groups and pass it as
// Config.Synonyms.
func DefaultSynonyms() [][]string {
	return [][]string{
		{"sofa", "couch", "settee"},
		{"sofa bed", "sleeper sofa", "futon"},
		{"armchair", "accent chair", "club chair"},
		{"recliner", "reclining chair"},
		{"chaise lounge", "chaise longue", "chaise"},
		{"dresser", "chest of drawers", "bureau"},
		{"rug", "carpet"},
		{"tv stand", "media console", "tv console", "entertainment center"},
		{"nightstand", "bedside table", "night table"},
		{"coffee table", "cocktail table"},
		{"sideboard", "buffet", "credenza"},
		{"wardrobe", "armoire"},
		{"bookcase", "bookshelf"},
		{"ottoman", "footstool", "pouf"},
		{"bar stool", "barstool", "counter stool"},
		{"vanity", "dressing table"},
		{"cabinet", "cupboard"},
		{"duvet", "comforter"},
		{"pillow", "cushion"},
		{"curtain", "drape"},
		{"sconce", "wall light"},
		{"pendant", "pendant light", "hanging light"},
		{"outdoor", "patio"},
		{"trash can", "garbage can", "wastebasket", "waste bin"},
		{"tv", "television"},
		{"fridge", "refrigerator"},
		{"sneakers", "trainers"},
		{"pants", "trousers"},
		{"sweater", "jumper", "pullover"},
		{"hoodie", "hooded sweatshirt"},
		{"phone", "smartphone", "cell phone", "mobile phone"},
		{"headphones", "earphones"},
		{"gray", "grey"},
		{"color", "colour"},
		{"aluminum", "aluminium"},
		{"center", "centre"},
	}
}

// synonymWeight scales the score of a document found through a synonym,
// so the shopper's own word ranks first among equals.
const synonymWeight = 0.8

// synonyms finds synonym phrases in a query's terms. Phrases are matched on
// analysed terms, so "Chests of Drawers" finds the "chest of drawers" group.
type synonyms struct {
	// groups holds each group's phrases as term sequences.
	groups [][][]string
	// byFirst lists the phrases starting with a term, longest first.
	byFirst map[string][]synPhrase
}

type synPhrase struct {
	terms []string
	group int
}

func newSynonyms(mode Stemming, groups [][]string) *synonyms {
	s := &synonyms{byFirst: map[string][]synPhrase{}}
	for _, g := range groups {
		var phrases [][]string
		for _, p := range g {
			var terms []string
			for _, w := range analyseQuery(mode, p) {
				terms = append(terms, w.term)
			}
			if len(terms) > 0 && !slices.ContainsFunc(phrases, func(q []string) bool { return slices.Equal(q, terms) }) {
				phrases = append(phrases, terms)
			}
		}
		if len(phrases) < 2 {
			continue // a group of one phrase has nothing to expand to
		}
		id := len(s.groups)
		s.groups = append(s.groups, phrases)
		for _, p := range phrases {
			s.byFirst[p[0]] = append(s.byFirst[p[0]], synPhrase{terms: p, group: id})
		}
	}
	for first, ps := range s.byFirst {
		slices.SortStableFunc(ps, func(a, b synPhrase) int { return len(b.terms) - len(a.terms) })
		s.byFirst[first] = ps
	}
	return s
}

// match returns the longest phrase starting at words[i] and its group.
func (s *synonyms) match(words []queryWord, i int) (n, group int, ok bool) {
	for _, p := range s.byFirst[words[i].term] {
		if i+len(p.terms) > len(words) {
			continue
		}
		same := true
		for j, t := range p.terms {
			if words[i+j].term != t {
				same = false
				break
			}
		}
		if same {
			return len(p.terms), p.group, true
		}
	}
	return 0, 0, false
}
