package relevance

// Query kinds, in the order the queries file lists them.
const (
	KindSynonym   = "synonym"
	KindTypo      = "typo"
	KindPlural    = "plural"
	KindAttribute = "attribute"
	KindPrice     = "price"
	KindCategory  = "category"
	KindNatural   = "natural"
)

// Kinds lists every kind of query, in file order.
var Kinds = []string{KindSynonym, KindTypo, KindPlural, KindAttribute, KindPrice, KindCategory, KindNatural}

// Wants shared by several queries (a typo asks for the same as its
// correct spelling).
var (
	wantSofa        = Want{Exact: []string{"Sofa"}, Near: []string{"Sectional", "Loveseat"}}
	wantTVStand     = Want{Exact: []string{"TV Stand"}, Related: []string{"Console Table", "Sideboard"}}
	wantSideboard   = Want{Exact: []string{"Sideboard"}, Related: []string{"TV Stand", "Console Table"}}
	wantNightstand  = Want{Exact: []string{"Nightstand"}, Related: []string{"End Table"}}
	wantOttoman     = Want{Exact: []string{"Ottoman"}, Related: []string{"Storage Bench"}}
	wantBookcase    = Want{Exact: []string{"Bookcase"}, Related: []string{"Wall Shelf"}}
	wantRug         = Want{Exact: []string{"Area Rug"}, Related: []string{"Doormat"}}
	wantLoveseat    = Want{Exact: []string{"Loveseat"}, Near: []string{"Sofa"}}
	wantSleeper     = Want{Exact: []string{"Sofa"}, Near: []string{"Sectional"}, Essential: []string{"sleeper"}}
	wantCoffeeTable = Want{Exact: []string{"Coffee Table"}, Related: []string{"End Table"}}
	wantSpiceRack   = Want{Exact: []string{"Spice Rack"}, Related: []string{"Pantry Organizer"}}
	wantPillow      = Want{Exact: []string{"Throw Pillow"}, Related: []string{"Throw Blanket"}}
	wantSconce      = Want{Exact: []string{"Wall Sconce"}}
	wantFloorLamp   = Want{Exact: []string{"Floor Lamp"}, Related: []string{"Table Lamp"}}
	wantDogBed      = Want{Exact: []string{"Dog Bed"}, Related: []string{"Pet Crate"}}
	wantPlanter     = Want{Exact: []string{"Planter"}, Related: []string{"Vase"}}
	wantOutdoorSeat = []string{"Outdoor Bench", "Adirondack Chair", "Outdoor Lounge Chair", "Outdoor Sofa"}
)

// dollars converts a whole-dollar budget to cents.
func dollars(d int64) int64 { return d * 100 }

// Specs are the evaluation queries. IDs are stable: add new queries with
// new IDs rather than renumbering, so reports stay comparable.
var Specs = []Spec{
	// Synonyms: the shopper's word is not the catalog's.
	{ID: "syn-01", Kind: KindSynonym, Text: "couch", Want: wantSofa},
	{ID: "syn-02", Kind: KindSynonym, Text: "tv stand", Want: wantTVStand},
	{ID: "syn-03", Kind: KindSynonym, Text: "media console", Want: wantTVStand},
	{ID: "syn-04", Kind: KindSynonym, Text: "credenza", Want: wantSideboard},
	{ID: "syn-05", Kind: KindSynonym, Text: "bedside table", Want: wantNightstand},
	{ID: "syn-06", Kind: KindSynonym, Text: "chest of drawers", Want: Want{Exact: []string{"Dresser"}, Related: []string{"Nightstand"}}},
	{ID: "syn-07", Kind: KindSynonym, Text: "footstool", Want: wantOttoman},
	{ID: "syn-08", Kind: KindSynonym, Text: "armchair", Want: Want{Exact: []string{"Accent Chair"}, Near: []string{"Recliner"}}},
	{ID: "syn-09", Kind: KindSynonym, Text: "settee", Want: wantLoveseat},
	{ID: "syn-10", Kind: KindSynonym, Text: "hanging light", Want: Want{Exact: []string{"Pendant Light"}, Near: []string{"Chandelier"}}},
	{ID: "syn-11", Kind: KindSynonym, Text: "carpet", Want: wantRug},
	{ID: "syn-12", Kind: KindSynonym, Text: "bookshelf", Want: wantBookcase},
	{ID: "syn-13", Kind: KindSynonym, Text: "sofa bed", Want: wantSleeper},
	{ID: "syn-14", Kind: KindSynonym, Text: "wall light", Want: wantSconce},
	{ID: "syn-15", Kind: KindSynonym, Text: "patio set", Want: Want{Exact: []string{"Patio Dining Set"}, Near: []string{"Outdoor Sofa"}}},
	{ID: "syn-16", Kind: KindSynonym, Text: "dog kennel", Want: Want{Exact: []string{"Pet Crate"}, Related: []string{"Dog Bed"}}},
	{ID: "syn-17", Kind: KindSynonym, Text: "flower pot", Want: wantPlanter},
	{ID: "syn-18", Kind: KindSynonym, Text: "kitchen cart", Want: Want{Exact: []string{"Kitchen Island"}, Traits: []string{"rolling"}, Related: []string{"Bar Cart"}}},
	{ID: "syn-19", Kind: KindSynonym, Text: "drapes", Want: Want{Exact: []string{"Curtain Panel"}}},
	{ID: "syn-20", Kind: KindSynonym, Text: "sideboard", Want: wantSideboard},

	// Typos: misspellings, split compounds and near-words.
	{ID: "typo-01", Kind: KindTypo, Text: "cofee tabel", Want: wantCoffeeTable},
	{ID: "typo-02", Kind: KindTypo, Text: "bookcsae", Want: wantBookcase},
	{ID: "typo-03", Kind: KindTypo, Text: "nighstand", Want: wantNightstand},
	{ID: "typo-04", Kind: KindTypo, Text: "chandalier", Want: Want{Exact: []string{"Chandelier"}, Near: []string{"Pendant Light"}}},
	{ID: "typo-05", Kind: KindTypo, Text: "ottomon", Want: wantOttoman},
	{ID: "typo-06", Kind: KindTypo, Text: "dinnerwear set", Want: Want{Exact: []string{"Dinnerware Set"}}},
	{ID: "typo-07", Kind: KindTypo, Text: "adirondak chair", Want: Want{Exact: []string{"Adirondack Chair"}, Related: []string{"Outdoor Lounge Chair"}}},
	{ID: "typo-08", Kind: KindTypo, Text: "hamock", Want: Want{Exact: []string{"Hammock"}}},
	{ID: "typo-09", Kind: KindTypo, Text: "spice rak", Want: wantSpiceRack},
	{ID: "typo-10", Kind: KindTypo, Text: "throw pilow", Want: wantPillow},
	{ID: "typo-11", Kind: KindTypo, Text: "sectionl sofa", Want: Want{Exact: []string{"Sectional"}, Near: []string{"Sofa"}}},
	{ID: "typo-12", Kind: KindTypo, Text: "love seat", Want: wantLoveseat},
	{ID: "typo-13", Kind: KindTypo, Text: "recliner chiar", Want: Want{Exact: []string{"Recliner"}, Related: []string{"Accent Chair"}}},
	{ID: "typo-14", Kind: KindTypo, Text: "credensa", Want: wantSideboard},
	{ID: "typo-15", Kind: KindTypo, Text: "wall scone", Want: wantSconce},

	// Plurals, including irregular ones.
	{ID: "plural-01", Kind: KindPlural, Text: "bar stools", Want: Want{Exact: []string{"Bar Stool"}}},
	{ID: "plural-02", Kind: KindPlural, Text: "dining chairs", Want: Want{Exact: []string{"Dining Chair"}}},
	{ID: "plural-03", Kind: KindPlural, Text: "floor lamps", Want: wantFloorLamp},
	{ID: "plural-04", Kind: KindPlural, Text: "throw pillows", Want: wantPillow},
	{ID: "plural-05", Kind: KindPlural, Text: "nightstands", Want: wantNightstand},
	{ID: "plural-06", Kind: KindPlural, Text: "bookshelves", Want: wantBookcase},
	{ID: "plural-07", Kind: KindPlural, Text: "planters", Want: wantPlanter},
	{ID: "plural-08", Kind: KindPlural, Text: "area rugs", Want: wantRug},
	{ID: "plural-09", Kind: KindPlural, Text: "dog beds", Want: wantDogBed},
	{ID: "plural-10", Kind: KindPlural, Text: "candle holders", Want: Want{Exact: []string{"Candle Holder"}}},
	{ID: "plural-11", Kind: KindPlural, Text: "outdoor benches", Want: Want{Exact: []string{"Outdoor Bench"}, Related: []string{"Storage Bench"}}},
	{ID: "plural-12", Kind: KindPlural, Text: "sofas", Want: wantSofa},
	{ID: "plural-13", Kind: KindPlural, Text: "wall shelves", Want: Want{Exact: []string{"Wall Shelf"}, Related: []string{"Bookcase"}}},
	{ID: "plural-14", Kind: KindPlural, Text: "canisters", Want: Want{Exact: []string{"Canister Set"}}},

	// Attribute phrases: a type with color, material, style or features.
	{ID: "attr-01", Kind: KindAttribute, Text: "green pine bar cart", Want: Want{Exact: []string{"Bar Cart"}, Attrs: []string{"green", "pine"}, Related: []string{"Kitchen Island"}}},
	{ID: "attr-02", Kind: KindAttribute, Text: "black metal bar stools", Want: Want{Exact: []string{"Bar Stool"}, Attrs: []string{"black", "metal"}}},
	{ID: "attr-03", Kind: KindAttribute, Text: "white oak dining table", Want: Want{Exact: []string{"Dining Table"}, Attrs: []string{"white oak"}}},
	{ID: "attr-04", Kind: KindAttribute, Text: "navy velvet sofa", Want: Want{Exact: []string{"Sofa"}, Near: []string{"Sectional", "Loveseat"}, Attrs: []string{"navy", "velvet"}}},
	{ID: "attr-05", Kind: KindAttribute, Text: "brass floor lamp", Want: Want{Exact: []string{"Floor Lamp"}, Attrs: []string{"brass"}, Related: []string{"Table Lamp"}}},
	{ID: "attr-06", Kind: KindAttribute, Text: "jute area rug", Want: Want{Exact: []string{"Area Rug"}, Attrs: []string{"jute"}, Related: []string{"Doormat"}}},
	{ID: "attr-07", Kind: KindAttribute, Text: "teak outdoor bench", Want: Want{Exact: []string{"Outdoor Bench"}, Attrs: []string{"teak"}, Related: []string{"Adirondack Chair", "Outdoor Lounge Chair"}}},
	{ID: "attr-08", Kind: KindAttribute, Text: "mid-century walnut nightstand", Want: Want{Exact: []string{"Nightstand"}, Attrs: []string{"mid-century", "walnut"}, Related: []string{"End Table", "Dresser"}}},
	{ID: "attr-09", Kind: KindAttribute, Text: "gray linen sectional", Want: Want{Exact: []string{"Sectional"}, Near: []string{"Sofa"}, Attrs: []string{"gray", "linen"}}},
	{ID: "attr-10", Kind: KindAttribute, Text: "marble coffee table", Want: Want{Exact: []string{"Coffee Table"}, Attrs: []string{"marble"}, Related: []string{"End Table"}}},
	{ID: "attr-11", Kind: KindAttribute, Text: "round glass coffee table", Want: Want{Exact: []string{"Coffee Table"}, Attrs: []string{"glass"}, Traits: []string{"round"}, Related: []string{"End Table"}}},
	{ID: "attr-12", Kind: KindAttribute, Text: "rattan pendant light", Want: Want{Exact: []string{"Pendant Light"}, Near: []string{"Chandelier"}, Attrs: []string{"rattan"}}},
	{ID: "attr-13", Kind: KindAttribute, Text: "leather recliner", Want: Want{Exact: []string{"Recliner"}, Near: []string{"Accent Chair"}, Attrs: []string{"leather"}}},
	{ID: "attr-14", Kind: KindAttribute, Text: "white ceramic table lamp", Want: Want{Exact: []string{"Table Lamp"}, Attrs: []string{"white", "ceramic"}, Related: []string{"Desk Lamp"}}},
	{ID: "attr-15", Kind: KindAttribute, Text: "extendable dining table that seats 8", Want: Want{Exact: []string{"Dining Table"}, Traits: []string{"extendable", "seats:8"}, Related: []string{"Patio Dining Set"}}},
	{ID: "attr-16", Kind: KindAttribute, Text: "king upholstered bed", Want: Want{Exact: []string{"Bed Frame"}, Attrs: []string{"upholstered"}, Traits: []string{"king"}}},
	{ID: "attr-17", Kind: KindAttribute, Text: "farmhouse console table", Want: Want{Exact: []string{"Console Table"}, Attrs: []string{"farmhouse"}, Related: []string{"Sideboard", "End Table"}}},
	{ID: "attr-18", Kind: KindAttribute, Text: "gold round wall mirror", Want: Want{Exact: []string{"Wall Mirror"}, Attrs: []string{"gold"}, Traits: []string{"round"}}},
	{ID: "attr-19", Kind: KindAttribute, Text: "bamboo spice rack", Want: Want{Exact: []string{"Spice Rack"}, Attrs: []string{"bamboo"}, Related: []string{"Pantry Organizer"}}},
	{ID: "attr-20", Kind: KindAttribute, Text: "washable runner rug", Want: Want{Exact: []string{"Area Rug"}, Essential: []string{"runner"}, Traits: []string{"washable"}}},
	{ID: "attr-21", Kind: KindAttribute, Text: "orthopedic dog bed for large dogs", Want: Want{Exact: []string{"Dog Bed"}, Traits: []string{"orthopedic", "large-dog"}}},
	{ID: "attr-22", Kind: KindAttribute, Text: "emerald velvet accent chair", Want: Want{Exact: []string{"Accent Chair"}, Attrs: []string{"emerald", "velvet"}}},
	{ID: "attr-23", Kind: KindAttribute, Text: "navy blackout curtains", Want: Want{Exact: []string{"Curtain Panel"}, Attrs: []string{"navy"}, Traits: []string{"blackout"}}},
	{ID: "attr-24", Kind: KindAttribute, Text: "stoneware dinnerware set for 8", Want: Want{Exact: []string{"Dinnerware Set"}, Attrs: []string{"stoneware"}, Traits: []string{"service:8"}}},
	{ID: "attr-25", Kind: KindAttribute, Text: "acacia wood outdoor dining set", Want: Want{Exact: []string{"Patio Dining Set"}, Attrs: []string{"acacia"}, Related: []string{"Outdoor Bench"}}},
	{ID: "attr-26", Kind: KindAttribute, Text: "white standing desk", Want: Want{Exact: []string{"Desk"}, Attrs: []string{"white"}, Essential: []string{"standing"}}},
	{ID: "attr-27", Kind: KindAttribute, Text: "counter height swivel stools", Want: Want{Exact: []string{"Bar Stool"}, Traits: []string{"counter-height", "swivel"}}},
	{ID: "attr-28", Kind: KindAttribute, Text: "scandinavian oak bookcase", Want: Want{Exact: []string{"Bookcase"}, Attrs: []string{"scandinavian", "oak"}, Related: []string{"Wall Shelf"}}},

	// Price intents: over budget is a miss, far over budget two.
	{ID: "price-01", Kind: KindPrice, Text: "oak coffee table under $300", Want: Want{Exact: []string{"Coffee Table"}, Attrs: []string{"oak"}, MaxCents: dollars(300), Related: []string{"End Table"}}},
	{ID: "price-02", Kind: KindPrice, Text: "sofa under $1000", Want: Want{Exact: []string{"Sofa"}, Near: []string{"Sectional", "Loveseat"}, MaxCents: dollars(1000)}},
	{ID: "price-03", Kind: KindPrice, Text: "8x10 area rug under $400", Want: Want{Exact: []string{"Area Rug"}, Traits: []string{"8x10"}, MaxCents: dollars(400)}},
	{ID: "price-04", Kind: KindPrice, Text: "bar stools under $100", Want: Want{Exact: []string{"Bar Stool"}, MaxCents: dollars(100)}},
	{ID: "price-05", Kind: KindPrice, Text: "desk under $200", Want: Want{Exact: []string{"Desk"}, MaxCents: dollars(200)}},
	{ID: "price-06", Kind: KindPrice, Text: "dining table under $500", Want: Want{Exact: []string{"Dining Table"}, MaxCents: dollars(500)}},
	{ID: "price-07", Kind: KindPrice, Text: "floor lamp under $100", Want: Want{Exact: []string{"Floor Lamp"}, MaxCents: dollars(100), Related: []string{"Table Lamp"}}},
	{ID: "price-08", Kind: KindPrice, Text: "king bed frame under $600", Want: Want{Exact: []string{"Bed Frame"}, Traits: []string{"king"}, MaxCents: dollars(600)}},
	{ID: "price-09", Kind: KindPrice, Text: "accent chair under $250", Want: Want{Exact: []string{"Accent Chair"}, MaxCents: dollars(250)}},
	{ID: "price-10", Kind: KindPrice, Text: "dog bed under $50", Want: Want{Exact: []string{"Dog Bed"}, MaxCents: dollars(50)}},
	{ID: "price-11", Kind: KindPrice, Text: "patio dining set under $1,000", Want: Want{Exact: []string{"Patio Dining Set"}, MaxCents: dollars(1000)}},
	{ID: "price-12", Kind: KindPrice, Text: "dresser between $300 and $600", Want: Want{Exact: []string{"Dresser"}, MinCents: dollars(300), MaxCents: dollars(600)}},
	{ID: "price-13", Kind: KindPrice, Text: "leather sofa over $2000", Want: Want{Exact: []string{"Sofa"}, Near: []string{"Sectional", "Loveseat"}, Attrs: []string{"leather"}, MinCents: dollars(2000)}},
	{ID: "price-14", Kind: KindPrice, Text: "walnut nightstand less than $400", Want: Want{Exact: []string{"Nightstand"}, Attrs: []string{"walnut"}, MaxCents: dollars(400)}},
	{ID: "price-15", Kind: KindPrice, Text: "spice rack under $25", Want: Want{Exact: []string{"Spice Rack"}, MaxCents: dollars(25)}},

	// Category words: a department, not a product type.
	{ID: "cat-01", Kind: KindCategory, Text: "outdoor furniture", Want: Want{Exact: append([]string{"Patio Dining Set"}, wantOutdoorSeat...), Related: []string{"Hammock"}}},
	{ID: "cat-02", Kind: KindCategory, Text: "bedroom furniture", Want: Want{Exact: []string{"Bed Frame", "Nightstand", "Dresser"}}},
	{ID: "cat-03", Kind: KindCategory, Text: "home office furniture", Want: Want{Exact: []string{"Desk", "Office Chair"}, Related: []string{"Desk Lamp"}}},
	{ID: "cat-04", Kind: KindCategory, Text: "dining room furniture", Want: Want{Exact: []string{"Dining Table", "Dining Chair", "Sideboard"}}},
	{ID: "cat-05", Kind: KindCategory, Text: "kitchen storage", Want: Want{Exact: []string{"Spice Rack", "Pantry Organizer", "Canister Set"}, Related: []string{"Kitchen Island", "Wine Rack"}}},
	{ID: "cat-06", Kind: KindCategory, Text: "wall decor", Want: Want{Exact: []string{"Wall Art", "Wall Mirror", "Wall Clock"}, Related: []string{"Wall Shelf", "Wall Sconce"}}},
	{ID: "cat-07", Kind: KindCategory, Text: "pet supplies", Want: Want{Exact: []string{"Dog Bed", "Cat Tree", "Cat Bed", "Pet Crate", "Pet Feeder"}}},
	{ID: "cat-08", Kind: KindCategory, Text: "entryway furniture", Want: Want{Exact: []string{"Console Table", "Storage Bench", "Shoe Rack", "Coat Rack"}, Related: []string{"Wall Mirror"}}},
	{ID: "cat-09", Kind: KindCategory, Text: "lamps", Want: Want{Exact: []string{"Floor Lamp", "Table Lamp", "Desk Lamp"}}},
	{ID: "cat-10", Kind: KindCategory, Text: "rugs", Want: wantRug},

	// Natural-language requests: a need, not a product name.
	{ID: "nl-01", Kind: KindNatural, Text: "something to hold spices in a small kitchen", Want: Want{Exact: []string{"Spice Rack"}, Traits: []string{"space-saving"}, Related: []string{"Pantry Organizer", "Canister Set"}}},
	{ID: "nl-02", Kind: KindNatural, Text: "a comfy place for my dog to sleep", Want: wantDogBed},
	{ID: "nl-03", Kind: KindNatural, Text: "somewhere to put my drink next to the couch", Want: Want{Exact: []string{"End Table"}, Related: []string{"Coffee Table"}}},
	{ID: "nl-04", Kind: KindNatural, Text: "a table that seats six for family dinners", Want: Want{Exact: []string{"Dining Table"}, Traits: []string{"seats:6"}, Related: []string{"Patio Dining Set"}}},
	{ID: "nl-05", Kind: KindNatural, Text: "storage for shoes by the front door", Want: Want{Exact: []string{"Shoe Rack"}, Related: []string{"Storage Bench", "Coat Rack"}}},
	{ID: "nl-06", Kind: KindNatural, Text: "a reading light next to my armchair", Want: Want{Exact: []string{"Floor Lamp"}, Near: []string{"Table Lamp"}, Related: []string{"Desk Lamp", "Wall Sconce"}}},
	{ID: "nl-07", Kind: KindNatural, Text: "a place for my cat to climb and scratch", Want: Want{Exact: []string{"Cat Tree"}, Related: []string{"Cat Bed"}}},
	{ID: "nl-08", Kind: KindNatural, Text: "something to put my tv on", Want: wantTVStand},
	{ID: "nl-09", Kind: KindNatural, Text: "hide blankets and toys in the living room", Want: Want{Exact: []string{"Ottoman"}, Essential: []string{"storage"}, Related: []string{"Storage Basket", "Storage Bench", "Coffee Table"}}},
	{ID: "nl-10", Kind: KindNatural, Text: "a desk for a small apartment", Want: Want{Exact: []string{"Desk"}, Traits: []string{"compact"}}},
	{ID: "nl-11", Kind: KindNatural, Text: "a couch that turns into a bed for guests", Want: wantSleeper},
	{ID: "nl-12", Kind: KindNatural, Text: "plates and bowls for everyday meals", Want: Want{Exact: []string{"Dinnerware Set"}}},
	{ID: "nl-13", Kind: KindNatural, Text: "a cozy blanket for movie nights", Want: Want{Exact: []string{"Throw Blanket"}, Related: []string{"Throw Pillow"}}},
	{ID: "nl-14", Kind: KindNatural, Text: "lights to hang over my kitchen island", Want: Want{Exact: []string{"Pendant Light"}, Near: []string{"Chandelier"}}},
	{ID: "nl-15", Kind: KindNatural, Text: "a mirror to check my whole outfit", Want: Want{Exact: []string{"Wall Mirror"}, Traits: []string{"full-length"}}},
	{ID: "nl-16", Kind: KindNatural, Text: "keep my wine bottles organized", Want: Want{Exact: []string{"Wine Rack"}, Related: []string{"Bar Cart"}}},
	{ID: "nl-17", Kind: KindNatural, Text: "seating for the patio that can stay out in the rain", Want: Want{Exact: wantOutdoorSeat, Traits: []string{"weatherproof"}, Related: []string{"Patio Dining Set"}}},
	{ID: "nl-18", Kind: KindNatural, Text: "somewhere to sit while I put on my shoes", Want: Want{Exact: []string{"Storage Bench"}, Related: []string{"Shoe Rack", "Ottoman"}}},
}
