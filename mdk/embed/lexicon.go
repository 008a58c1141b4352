package embed

import (
	"strings"
	"sync"
)

// concepts is the built-in commerce lexicon: each concept lists words a
// shopper or a merchant uses for it. Every word of a text that is in a
// concept adds that concept as a feature, to queries and products alike,
// so "somewhere to keep my spices" shares the storage and spice concepts
// with "Spice Rack", and "couch" shares sofa and seating with "Loveseat".
//
// It is small and hand-written for home and furniture in English. It does
// not know phrases (only single words), senses ("light" is lighting even
// in "light blue"), negation, or anything it does not list: a local hashed
// embedding matches words, word parts and these concepts, not meaning. For
// meaning, use an OpenAI-compatible embedding model.
var concepts = []struct {
	name  string
	words string
}{
	{"sofa", "sofa couch settee loveseat sectional davenport chesterfield futon"},
	{"seating", "seat seating sit sitting chair chairs armchair sofa couch settee loveseat sectional stool barstool bench ottoman pouf recliner lounger adirondack"},
	{"table", "table tables desk nightstand console island"},
	{"storage", "storage store stash keep hold organize organise organizer organiser declutter bookcase bookshelf shelf shelves shelving dresser drawer drawers cabinet cupboard chest rack wardrobe armoire sideboard credenza bin basket trunk nightstand cart"},
	{"books", "book books read reading novel novels library bookcase bookshelf"},
	{"spice", "spice spices seasoning seasonings herb herbs condiment condiments pantry"},
	{"kitchen", "kitchen cook cooking chef pantry island countertop spice spices"},
	{"dining", "dine dining dinner eat eating meal meals breakfast lunch supper brunch dinnerware plate plates bowl bowls dish dishes tableware"},
	{"drinks", "drink drinks cocktail cocktails wine bar beverage beverages liquor whiskey beer barware entertain entertaining"},
	{"lighting", "light lights lighting lamp lamps illuminate illumination bright brighten glow sconce sconces chandelier pendant bulb lantern"},
	{"candle", "candle candles candlelight candlestick votive tealight"},
	{"sleep", "sleep sleeping bed beds bedroom mattress nap bedside nightstand"},
	{"outdoor", "outdoor outdoors outside patio garden backyard yard porch deck balcony terrace lawn poolside"},
	{"relax", "relax relaxing lounge lounging nap swing hammock unwind"},
	{"plants", "plant plants flower flowers succulent succulents garden gardening potted greenery bouquet floral planter vase"},
	{"rug", "rug rugs carpet carpets mat runner"},
	{"wallart", "art artwork painting paintings print prints poster posters picture pictures canvas gallery"},
	{"mirror", "mirror mirrors reflection vanity"},
	{"clock", "clock clocks time timepiece"},
	{"work", "work working office study homework computer laptop desk workspace"},
	{"media", "tv television media entertainment streaming screen movie movies console"},
	{"pillow", "pillow pillows cushion cushions throw"},
	{"footrest", "footrest footstool feet foot ottoman pouf"},
	{"decor", "decor decorate decorating decoration decorative accent ornament centerpiece"},
}

var (
	lexiconOnce  sync.Once
	lexiconMap   map[string][]uint64
	conceptIndex map[uint64]int
)

// lexicon maps a word stem to the feature hashes of its concepts. Words
// are stemmed with the stemmer texts go through, so "spices", "spice" and
// "spicy" meet wherever Snowball makes them meet.
func lexicon() map[string][]uint64 {
	lexiconOnce.Do(func() {
		lexiconMap = make(map[string][]uint64)
		conceptIndex = make(map[uint64]int)
		for i, c := range concepts {
			h := hashFinish(hashString(hashStart(kindConcept), c.name))
			conceptIndex[h] = i
			for _, w := range strings.Fields(c.words) {
				s := stem(w)
				if !containsHash(lexiconMap[s], h) {
					lexiconMap[s] = append(lexiconMap[s], h)
				}
			}
		}
	})
	return lexiconMap
}

// conceptDimension places concept i. Concepts are few and weigh the most,
// so rather than hashing them (24 concepts in 256 dimensions would put two
// in one dimension more often than not, and every request for one would
// look like a request for the other) they are spread evenly: they never
// collide with each other, only, like any feature, with words.
func conceptDimension(h uint64, dims int) int {
	return conceptIndex[h] * dims / len(concepts)
}

func containsHash(hs []uint64, h uint64) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// stopWords are dropped before features are made: function words, and the
// filler of requests ("I'm looking for something to ..."), which would
// otherwise make every request resemble every other.
var stopWords = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(`a an the and or but nor for with without from to of in on at by as into onto
		is are was were be been being am do does did have has had having it its this that these those there here
		i im me my mine we our ours you your yours he she him her his they them their
		what which who whom whose when where why how all any some something anything someone somewhere
		thing things stuff one ones very really just so too also only more most much many such than then
		can could would should will shall may might must want wants wanted need needs needed looking look
		find get got like please good nice new great best`) {
		m[w] = struct{}{}
	}
	return m
}()

func isStopWord(w []byte) bool {
	_, ok := stopWords[string(w)]
	return ok
}
