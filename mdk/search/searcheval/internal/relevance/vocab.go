package relevance

import "slices"

// The attribute vocabulary: every color, material and style a product may
// have, with the lowercase terms a query's stated attribute is matched
// against. A product satisfies a stated color "green" when "green" is one of
// its color's terms (Sage has "sage" and "green"), and likewise for
// materials ("wood" is a term of Oak, Walnut, Pine ... but not of
// Engineered Wood or Bamboo) and styles. These tables are the single
// definition of "the product has the attribute" used by the judgments.

// color is a color value: its terms and how a description may say it.
type color struct {
	terms []string
	say   []string
}

var colors = map[string]color{
	"Black":         {terms: []string{"black"}, say: []string{"black", "matte black"}},
	"White":         {terms: []string{"white"}, say: []string{"white", "crisp white"}},
	"Ivory":         {terms: []string{"ivory", "white"}, say: []string{"ivory"}},
	"Cream":         {terms: []string{"cream"}, say: []string{"cream"}},
	"Beige":         {terms: []string{"beige"}, say: []string{"beige", "warm beige"}},
	"Tan":           {terms: []string{"tan"}, say: []string{"tan"}},
	"Gray":          {terms: []string{"gray", "grey"}, say: []string{"gray", "soft gray"}},
	"Charcoal":      {terms: []string{"charcoal", "gray", "grey"}, say: []string{"charcoal", "charcoal gray"}},
	"Navy":          {terms: []string{"navy", "blue"}, say: []string{"navy", "navy blue"}},
	"Blue":          {terms: []string{"blue"}, say: []string{"blue", "denim blue"}},
	"Green":         {terms: []string{"green"}, say: []string{"green", "forest green"}},
	"Sage":          {terms: []string{"sage", "green"}, say: []string{"sage", "sage green"}},
	"Olive":         {terms: []string{"olive", "green"}, say: []string{"olive", "olive green"}},
	"Emerald":       {terms: []string{"emerald", "green"}, say: []string{"emerald", "emerald green"}},
	"Brown":         {terms: []string{"brown"}, say: []string{"brown", "warm brown"}},
	"Espresso":      {terms: []string{"espresso", "brown"}, say: []string{"espresso", "dark espresso"}},
	"Cognac":        {terms: []string{"cognac", "brown"}, say: []string{"cognac"}},
	"Natural":       {terms: []string{"natural"}, say: []string{"natural"}},
	"Gold":          {terms: []string{"gold"}, say: []string{"gold", "brushed gold"}},
	"Antique Brass": {terms: []string{"brass", "gold", "antique brass"}, say: []string{"antique brass"}},
	"Silver":        {terms: []string{"silver"}, say: []string{"silver"}},
	"Chrome":        {terms: []string{"chrome", "silver"}, say: []string{"polished chrome"}},
	"Blush":         {terms: []string{"blush", "pink"}, say: []string{"blush", "blush pink"}},
	"Terracotta":    {terms: []string{"terracotta", "orange"}, say: []string{"terracotta"}},
	"Rust":          {terms: []string{"rust", "orange"}, say: []string{"rust", "burnt orange"}},
	"Mustard":       {terms: []string{"mustard", "yellow"}, say: []string{"mustard", "mustard yellow"}},
	"Red":           {terms: []string{"red"}, say: []string{"red", "brick red"}},
	"Clear":         {terms: []string{"clear"}, say: []string{"clear"}},
	"Smoke":         {terms: []string{"smoke", "gray", "grey"}, say: []string{"smoke gray"}},
	"Multicolor":    {terms: []string{"multicolor"}, say: []string{"multicolor"}},
}

// group says how a material is worded: hard goods have a finish, soft
// goods are a color of the material.
type group int

const (
	hard group = iota
	soft
)

// material is a material value.
type material struct {
	terms []string
	say   []string // descriptive forms, e.g. "solid oak"
	group group
	// colors restricts the colors a product of this material may have
	// (nil: any color its type allows).
	colors []string
	// pct scales the type's price: marble and walnut cost more than pine.
	pct int64
}

// fits reports whether a product of the material may have color c.
func (m material) fits(c string) bool {
	if m.colors != nil {
		return slices.Contains(m.colors, c)
	}
	return m.group == hard || !metallic[c]
}

// metallic are colors no fabric comes in.
var metallic = map[string]bool{"Clear": true, "Smoke": true, "Silver": true, "Chrome": true, "Gold": true, "Antique Brass": true}

var woodColors = []string{"Natural", "Brown", "Espresso", "Black", "White", "Gray"}

var materials = map[string]material{
	"Oak":                {terms: []string{"oak", "wood", "solid wood"}, say: []string{"solid oak", "oak", "FSC-certified oak"}, colors: []string{"Natural", "Brown", "Espresso", "Black", "White"}, pct: 115},
	"White Oak":          {terms: []string{"white oak", "oak", "wood", "solid wood"}, say: []string{"solid white oak", "white oak"}, colors: []string{"Natural"}, pct: 135},
	"Walnut":             {terms: []string{"walnut", "wood", "solid wood"}, say: []string{"solid walnut", "American black walnut"}, colors: []string{"Natural", "Brown"}, pct: 145},
	"Pine":               {terms: []string{"pine", "wood", "solid wood"}, say: []string{"solid pine", "kiln-dried pine", "reclaimed pine"}, colors: []string{"Natural", "White", "Gray", "Green", "Sage", "Black", "Navy", "Espresso"}, pct: 80},
	"Acacia Wood":        {terms: []string{"acacia", "wood", "solid wood"}, say: []string{"solid acacia", "acacia wood"}, colors: []string{"Natural", "Brown", "Espresso", "Gray"}, pct: 95},
	"Mango Wood":         {terms: []string{"mango", "mango wood", "wood", "solid wood"}, say: []string{"solid mango wood", "mango wood"}, colors: []string{"Natural", "Brown", "White", "Black"}, pct: 100},
	"Teak":               {terms: []string{"teak", "wood", "solid wood"}, say: []string{"grade-A teak", "solid teak"}, colors: []string{"Natural", "Brown", "Gray"}, pct: 150},
	"Cedar":              {terms: []string{"cedar", "wood", "solid wood"}, say: []string{"western red cedar", "solid cedar"}, colors: []string{"Natural", "Brown"}, pct: 90},
	"Reclaimed Wood":     {terms: []string{"reclaimed wood", "reclaimed", "wood", "solid wood"}, say: []string{"reclaimed wood", "salvaged wood"}, colors: []string{"Natural", "Brown", "Gray"}, pct: 110},
	"Engineered Wood":    {terms: []string{"engineered wood"}, say: []string{"engineered wood", "laminated engineered wood"}, colors: woodColors, pct: 60},
	"Bamboo":             {terms: []string{"bamboo"}, say: []string{"bamboo", "moso bamboo"}, colors: []string{"Natural", "Brown"}, pct: 75},
	"Steel":              {terms: []string{"steel", "metal"}, say: []string{"powder-coated steel", "steel"}, colors: []string{"Black", "White", "Gray", "Gold", "Green", "Navy", "Silver"}, pct: 90},
	"Stainless Steel":    {terms: []string{"stainless steel", "steel", "metal"}, say: []string{"stainless steel"}, colors: []string{"Silver", "Black"}, pct: 100},
	"Iron":               {terms: []string{"iron", "metal"}, say: []string{"wrought iron", "forged iron"}, colors: []string{"Black", "Gray", "Antique Brass"}, pct: 95},
	"Brass":              {terms: []string{"brass", "metal"}, say: []string{"solid brass", "brass"}, colors: []string{"Antique Brass", "Gold"}, pct: 130},
	"Aluminum":           {terms: []string{"aluminum", "metal"}, say: []string{"powder-coated aluminum", "rust-resistant aluminum"}, colors: []string{"Black", "White", "Gray", "Charcoal"}, pct: 110},
	"Metal":              {terms: []string{"metal"}, say: []string{"metal", "painted metal"}, colors: []string{"Black", "White", "Gray", "Gold", "Silver", "Green", "Navy", "Antique Brass", "Charcoal"}, pct: 85},
	"Glass":              {terms: []string{"glass"}, say: []string{"tempered glass", "glass"}, colors: []string{"Clear", "Smoke"}, pct: 100},
	"Marble":             {terms: []string{"marble", "stone"}, say: []string{"genuine marble", "honed marble"}, colors: []string{"White", "Black", "Gray", "Green"}, pct: 165},
	"Travertine":         {terms: []string{"travertine", "stone"}, say: []string{"natural travertine"}, colors: []string{"Beige", "Cream"}, pct: 170},
	"Concrete":           {terms: []string{"concrete"}, say: []string{"cast concrete", "lightweight concrete"}, colors: []string{"Gray", "Charcoal", "White"}, pct: 90},
	"Ceramic":            {terms: []string{"ceramic"}, say: []string{"glazed ceramic", "ceramic"}, colors: []string{"White", "Black", "Blue", "Green", "Sage", "Terracotta", "Cream", "Gray", "Blush", "Mustard", "Navy", "Ivory"}, pct: 90},
	"Stoneware":          {terms: []string{"stoneware", "ceramic"}, say: []string{"reactive-glaze stoneware", "stoneware"}, colors: []string{"White", "Cream", "Gray", "Blue", "Sage", "Charcoal", "Terracotta"}, pct: 100},
	"Porcelain":          {terms: []string{"porcelain", "ceramic"}, say: []string{"fine porcelain", "porcelain"}, colors: []string{"White", "Ivory", "Blue", "Gray"}, pct: 110},
	"Terracotta":         {terms: []string{"terracotta", "clay"}, say: []string{"unglazed terracotta", "terracotta"}, colors: []string{"Terracotta", "Natural", "White"}, pct: 80},
	"Fiberglass":         {terms: []string{"fiberglass"}, say: []string{"lightweight fiberglass"}, colors: []string{"White", "Black", "Gray", "Charcoal", "Terracotta"}, pct: 100},
	"Resin":              {terms: []string{"resin", "plastic"}, say: []string{"UV-resistant resin", "resin"}, colors: []string{"White", "Black", "Gray", "Brown", "Green", "Terracotta"}, pct: 70},
	"Recycled Plastic":   {terms: []string{"recycled plastic", "plastic", "poly"}, say: []string{"recycled HDPE lumber", "weatherproof poly lumber"}, colors: []string{"White", "Black", "Gray", "Green", "Navy", "Brown", "Blue", "Red", "Mustard"}, pct: 115},
	"Acrylic":            {terms: []string{"acrylic"}, say: []string{"clear acrylic"}, colors: []string{"Clear"}, pct: 90},
	"Rattan":             {terms: []string{"rattan", "natural fiber"}, say: []string{"hand-woven rattan", "natural rattan"}, colors: []string{"Natural", "Black", "White"}, pct: 110},
	"Wicker":             {terms: []string{"wicker"}, say: []string{"all-weather wicker", "resin wicker"}, colors: []string{"Natural", "Gray", "Brown", "White", "Black"}, pct: 100},
	"Seagrass":           {terms: []string{"seagrass", "natural fiber"}, say: []string{"woven seagrass"}, colors: []string{"Natural"}, pct: 85},
	"Jute":               {terms: []string{"jute", "natural fiber"}, say: []string{"hand-braided jute", "natural jute"}, group: soft, colors: []string{"Natural", "Beige"}, pct: 80},
	"Sisal":              {terms: []string{"sisal", "natural fiber"}, say: []string{"sisal"}, group: soft, colors: []string{"Natural", "Beige", "Gray"}, pct: 90},
	"Wool":               {terms: []string{"wool"}, say: []string{"wool", "hand-tufted wool", "New Zealand wool"}, group: soft, pct: 130},
	"Cotton":             {terms: []string{"cotton", "fabric"}, say: []string{"cotton", "organic cotton"}, group: soft, pct: 90},
	"Linen":              {terms: []string{"linen", "fabric", "upholstered"}, say: []string{"linen", "washed linen", "Belgian linen"}, group: soft, pct: 110},
	"Velvet":             {terms: []string{"velvet", "fabric", "upholstered"}, say: []string{"velvet", "plush velvet"}, group: soft, pct: 110},
	"Boucle":             {terms: []string{"boucle", "bouclé", "fabric", "upholstered"}, say: []string{"bouclé", "nubby boucle"}, group: soft, colors: []string{"Ivory", "Cream", "Beige", "Gray"}, pct: 115},
	"Performance Fabric": {terms: []string{"performance fabric", "fabric", "upholstered"}, say: []string{"performance fabric", "stain-resistant performance fabric"}, group: soft, pct: 105},
	"Chenille":           {terms: []string{"chenille", "fabric", "upholstered"}, say: []string{"chenille", "soft chenille"}, group: soft, pct: 100},
	"Microfiber":         {terms: []string{"microfiber", "fabric", "upholstered"}, say: []string{"microfiber"}, group: soft, pct: 85},
	"Polyester":          {terms: []string{"polyester", "fabric"}, say: []string{"durable polyester", "polyester"}, group: soft, pct: 75},
	"Leather":            {terms: []string{"leather", "upholstered"}, say: []string{"top-grain leather", "full-grain leather"}, group: soft, colors: []string{"Cognac", "Brown", "Black", "Tan", "Gray"}, pct: 160},
	"Faux Leather":       {terms: []string{"faux leather", "vegan leather", "upholstered"}, say: []string{"faux leather", "vegan leather"}, group: soft, colors: []string{"Cognac", "Brown", "Black", "White", "Tan"}, pct: 80},
	"Mesh":               {terms: []string{"mesh"}, say: []string{"breathable mesh"}, group: soft, colors: []string{"Black", "Gray", "White"}, pct: 90},
	"Faux Fur":           {terms: []string{"faux fur"}, say: []string{"faux fur", "plush faux fur"}, group: soft, colors: []string{"Ivory", "Gray", "Cream", "Brown"}, pct: 100},
	"Memory Foam":        {terms: []string{"memory foam", "foam"}, say: []string{"memory foam"}, group: soft, colors: []string{"Gray", "Charcoal", "Brown", "Navy", "Beige"}, pct: 120},
	"Polypropylene":      {terms: []string{"polypropylene", "synthetic"}, say: []string{"power-loomed polypropylene"}, group: soft, pct: 70},
	"Viscose":            {terms: []string{"viscose"}, say: []string{"silky viscose"}, group: soft, pct: 95},
	"Wood Bead":          {terms: []string{"wood bead", "wood"}, say: []string{"natural wood beads", "wood beads"}, colors: []string{"Natural", "White"}, pct: 100},
	"Coir":               {terms: []string{"coir", "natural fiber"}, say: []string{"coconut coir"}, colors: []string{"Natural", "Black"}, pct: 100},
	"Rubber":             {terms: []string{"rubber"}, say: []string{"recycled rubber"}, colors: []string{"Black", "Gray", "Brown"}, pct: 100},
	"Canvas":             {terms: []string{"canvas", "fabric"}, say: []string{"cotton canvas", "heavyweight canvas"}, group: soft, pct: 90},
}

// style is a style value: its terms and the adjective a description uses.
type style struct {
	terms []string
	adj   string
}

var styles = map[string]style{
	"Modern":       {terms: []string{"modern"}, adj: "modern"},
	"Mid-Century":  {terms: []string{"mid-century", "mid century", "midcentury"}, adj: "mid-century"},
	"Farmhouse":    {terms: []string{"farmhouse"}, adj: "farmhouse"},
	"Industrial":   {terms: []string{"industrial"}, adj: "industrial"},
	"Scandinavian": {terms: []string{"scandinavian", "scandi"}, adj: "Scandinavian"},
	"Coastal":      {terms: []string{"coastal"}, adj: "coastal"},
	"Bohemian":     {terms: []string{"bohemian", "boho"}, adj: "boho"},
	"Traditional":  {terms: []string{"traditional"}, adj: "traditional"},
	"Glam":         {terms: []string{"glam"}, adj: "glam"},
	"Rustic":       {terms: []string{"rustic"}, adj: "rustic"},
	"Minimalist":   {terms: []string{"minimalist"}, adj: "minimalist"},
	"Transitional": {terms: []string{"transitional"}, adj: "transitional"},
	"Contemporary": {terms: []string{"contemporary"}, adj: "contemporary"},
}

// brands are fictional vendors; about half the titles start with one.
var brands = []string{
	"Harbor Home", "Elmwood", "Ashford", "Juniper & Vine", "Northfield", "Loom & Hearth",
	"Brightwell", "Kestrel", "Marlowe", "Stonebridge", "Willow Lane", "Foundry Row",
	"Greyson", "Maple Street", "Linden Co.", "Pacific Drift", "Nook", "Tidewater",
	"Hearthside", "Copperline", "Meadowbrook", "Fenwick", "Everly", "Solace Living",
	"Wrenfield", "Calder", "Mossgrove", "Ridgeline", "Bellamy", "Arden House",
}

// models are collection names, the way real catalogs name a product line.
var models = []string{
	"Harlow", "Ellis", "Marin", "Sloane", "Bexley", "Camden", "Dalton", "Emery", "Finley",
	"Greer", "Hollis", "Ingram", "Jasper", "Keaton", "Landry", "Mercer", "Nolan", "Oakes",
	"Pryor", "Quinn", "Rowan", "Sutton", "Tatum", "Vail", "Whitley", "Yates", "Arlo",
	"Beckett", "Colette", "Dorian", "Esme", "Fable", "Gable", "Haven", "Isla", "Juno",
	"Kira", "Lennox", "Mabel", "Nash", "Odette", "Pippa", "Reyes", "Saylor", "Teddy",
	"Ulla", "Vera", "Wells", "Ximena", "Zuri", "Alder", "Birch", "Cove", "Dune", "Elm",
	"Fern", "Glen", "Heath", "Iris", "Kestrel", "Larkin", "Moss", "Nell", "Orla", "Perry",
	"Reed", "Hillcrest", "Thorne", "Umber", "Vesper", "Wynn", "Avery", "Brooks", "Carver",
}
