package product

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/product/importer"
)

// The demo catalog: a few hundred home-goods products generated from the
// tables below with a fixed seed, so every fresh `hyperrr serve` shows the
// same store and a demo script or screenshot stays valid. It exercises
// what a real catalog has: category paths three levels deep, vendors,
// options (Size, Color, Color × Size), compare-at prices, and stock that
// is sometimes low or gone.

// demoKind is one kind of product in the demo catalog.
type demoKind struct {
	name      string // product type, the end of the title
	code      string // SKU prefix
	family    string // key of demoCopy: the phrases its description draws on
	category  string
	room      string
	minPrice  int64 // cents
	maxPrice  int64
	grams     int64
	materials []string
	options   []Option
}

var (
	sizesBed     = Option{Name: "Size", Values: []string{"Twin", "Full", "Queen", "King"}}
	sizesLinen   = Option{Name: "Size", Values: []string{"Full/Queen", "King"}}
	sizesRug     = Option{Name: "Size", Values: []string{"5' x 8'", "8' x 10'", "9' x 12'"}}
	sizesPillow  = Option{Name: "Size", Values: []string{"18\" x 18\"", "22\" x 22\""}}
	sizesArt     = Option{Name: "Size", Values: []string{"16\" x 20\"", "24\" x 36\""}}
	sizesPlanter = Option{Name: "Size", Values: []string{"Small", "Medium", "Large"}}
	sizesTable   = Option{Name: "Size", Values: []string{"4-Seat", "6-Seat", "8-Seat"}}
	colorsSofa   = Option{Name: "Color", Values: []string{"Oatmeal", "Slate", "Olive", "Rust"}}
	colorsTextil = Option{Name: "Color", Values: []string{"Ivory", "Sage", "Navy", "Terracotta", "Charcoal"}}
	colorsLinen  = Option{Name: "Color", Values: []string{"White", "Flax", "Dusty Blue", "Clay"}}
	colorsEnamel = Option{Name: "Color", Values: []string{"Cherry", "Cream", "Sea Blue", "Black"}}
)

var demoKinds = []demoKind{
	{"Coffee Table", "CT", "furniture", "Furniture / Living Room / Coffee Tables", "living room", 14900, 89900, 18000, []string{"Oak", "Walnut", "Marble", "Reclaimed Pine", "Glass"}, nil},
	{"Sofa", "SF", "furniture", "Furniture / Living Room / Sofas", "living room", 79900, 289900, 60000, []string{"Performance Linen", "Velvet", "Boucle"}, []Option{colorsSofa}},
	{"Accent Chair", "AC", "furniture", "Furniture / Living Room / Accent Chairs", "living room", 19900, 79900, 14000, []string{"Rattan", "Velvet", "Leather", "Teak"}, nil},
	{"Bookshelf", "BS", "furniture", "Furniture / Living Room / Bookcases", "living room", 12900, 59900, 30000, []string{"Oak", "Walnut", "Steel", "Bamboo"}, nil},
	{"Bed Frame", "BF", "furniture", "Furniture / Bedroom / Beds", "bedroom", 39900, 169900, 45000, []string{"Oak", "Walnut", "Upholstered Linen", "Iron"}, []Option{sizesBed}},
	{"Nightstand", "NS", "furniture", "Furniture / Bedroom / Nightstands", "bedroom", 8900, 39900, 9000, []string{"Oak", "Walnut", "Cane", "Lacquered Ash"}, nil},
	{"Dresser", "DR", "furniture", "Furniture / Bedroom / Dressers", "bedroom", 49900, 149900, 55000, []string{"Oak", "Walnut", "Mango Wood"}, nil},
	{"Dining Table", "DT", "furniture", "Furniture / Dining Room / Dining Tables", "dining room", 49900, 199900, 50000, []string{"Oak", "Walnut", "Reclaimed Pine", "Travertine"}, []Option{sizesTable}},
	{"Dining Chair", "DC", "furniture", "Furniture / Dining Room / Dining Chairs", "dining room", 9900, 34900, 6000, []string{"Beech", "Oak", "Rattan", "Molded Plastic"}, nil},
	{"Writing Desk", "WD", "furniture", "Furniture / Home Office / Desks", "home office", 19900, 99900, 25000, []string{"Oak", "Walnut", "Steel", "Bamboo"}, nil},
	{"Table Lamp", "TL", "lighting", "Lighting / Table Lamps", "bedroom", 4900, 24900, 2500, []string{"Ceramic", "Brass", "Glass", "Rattan"}, nil},
	{"Floor Lamp", "FL", "lighting", "Lighting / Floor Lamps", "living room", 9900, 39900, 6000, []string{"Brass", "Matte Steel", "Linen", "Bamboo"}, nil},
	{"Pendant Light", "PL", "lighting", "Lighting / Pendants", "kitchen", 7900, 44900, 3000, []string{"Opal Glass", "Rattan", "Brass", "Concrete"}, nil},
	{"Area Rug", "RG", "textile", "Decor / Rugs", "living room", 12900, 99900, 12000, []string{"Wool", "Jute", "Cotton"}, []Option{sizesRug}},
	{"Throw Pillow", "TP", "textile", "Decor / Throw Pillows", "living room", 2900, 8900, 700, []string{"Linen", "Velvet", "Wool"}, []Option{colorsTextil, sizesPillow}},
	{"Framed Print", "FP", "decor", "Decor / Wall Art", "living room", 3900, 29900, 2000, []string{"Archival Paper", "Canvas", "Linen Canvas"}, []Option{sizesArt}},
	{"Wall Mirror", "WM", "decor", "Decor / Mirrors", "entryway", 7900, 49900, 9000, []string{"Brass", "Oak", "Rattan", "Iron"}, nil},
	{"Vase", "VS", "decor", "Decor / Vases", "living room", 2400, 14900, 1500, []string{"Stoneware", "Glass", "Ceramic", "Travertine"}, nil},
	{"Duvet Cover", "DV", "textile", "Bedding / Duvet Covers", "bedroom", 12900, 34900, 2000, []string{"Linen", "Percale Cotton", "Sateen"}, []Option{colorsLinen, sizesLinen}},
	{"Sheet Set", "SS", "textile", "Bedding / Sheet Sets", "bedroom", 9900, 27900, 1800, []string{"Linen", "Percale Cotton", "Sateen"}, []Option{colorsLinen, sizesBed}},
	{"Throw Blanket", "TB", "textile", "Bedding / Throws", "living room", 5900, 19900, 1200, []string{"Wool", "Cashmere Blend", "Cotton Waffle"}, []Option{colorsTextil}},
	{"Dinnerware Set", "DW", "kitchen", "Kitchen & Dining / Dinnerware", "kitchen", 6900, 24900, 6000, []string{"Stoneware", "Porcelain", "Speckled Ceramic"}, nil},
	{"Dutch Oven", "DO", "kitchen", "Kitchen & Dining / Cookware", "kitchen", 9900, 39900, 5500, []string{"Enameled Cast Iron"}, []Option{colorsEnamel}},
	{"Wine Glass Set", "WG", "kitchen", "Kitchen & Dining / Glassware", "dining room", 3900, 14900, 1500, []string{"Crystal", "Recycled Glass"}, nil},
	{"Lounge Chair", "LC", "outdoor", "Outdoor / Patio Furniture / Lounge Chairs", "patio", 24900, 89900, 16000, []string{"Teak", "Powder-Coated Aluminum", "All-Weather Wicker"}, nil},
	{"Planter", "PT", "outdoor", "Outdoor / Planters", "patio", 2900, 19900, 4000, []string{"Terracotta", "Fiberstone", "Glazed Ceramic"}, []Option{sizesPlanter}},
}

var (
	demoVendors = []string{"Linden & Fold", "Northwood Atelier", "Calder House", "Marlowe Studio", "Ostara Home",
		"Fernhill Goods", "Ashgrove Workshop", "Kiln & Loom", "Solace Living", "Harbor Lane"}
	demoSeries = []string{"Halden", "Arlo", "Maren", "Sutton", "Everly", "Juno", "Tamsin", "Bexley", "Odell", "Wren",
		"Corin", "Isla", "Rowan", "Sable", "Vesper", "Alder", "Fenn", "Lyle", "Nora", "Pike"}
	demoStyles = []string{"Modern", "Mid-Century", "Scandinavian", "Farmhouse", "Industrial", "Coastal", "Japandi", "Traditional"}
)

// demoPhrases are what a description says of a family of products.
type demoPhrases struct{ details, benefits, care []string }

var demoCopy = map[string]demoPhrases{
	"furniture": {
		[]string{"a hand-rubbed oil finish", "softly rounded edges", "tapered legs", "a matte finish that hides fingerprints", "solid joinery"},
		[]string{"arrives fully assembled", "sets up in under fifteen minutes", "is built for years of daily use", "pairs easily with pieces you already own"},
		[]string{"Wipe clean with a damp cloth.", "Dust regularly with a soft, dry cloth.", "Keep out of direct sunlight to preserve the finish."},
	},
	"textile": {
		[]string{"a stonewashed finish", "a natural, slightly irregular texture", "a subtle herringbone weave", "hand-finished edges"},
		[]string{"gets softer with every wash", "is woven from responsibly sourced fibers", "layers easily with what you already own"},
		[]string{"Machine wash cold on a gentle cycle.", "Spot clean only.", "Tumble dry low."},
	},
	"lighting": {
		[]string{"a warm, diffused glow", "a fabric-wrapped cord", "hand-finished details"},
		[]string{"works with dimmable LED bulbs", "takes a standard E26 bulb", "is UL listed"},
		[]string{"Dust regularly with a soft, dry cloth.", "Unplug before cleaning."},
	},
	"decor": {
		[]string{"a hand-applied finish", "a natural, slightly irregular texture", "a gallery-ready finish"},
		[]string{"is made in small batches", "arrives ready to hang or display", "makes a thoughtful gift"},
		[]string{"Dust regularly with a soft, dry cloth.", "Wipe clean with a damp cloth."},
	},
	"kitchen": {
		[]string{"a chip-resistant glaze", "a satin finish", "a generous, easy-grip shape"},
		[]string{"goes from kitchen to table", "is made to be used every day", "makes a thoughtful gift"},
		[]string{"Hand wash recommended.", "Dishwasher safe."},
	},
	"outdoor": {
		[]string{"a weather-resistant finish", "UV-resistant materials", "rust-proof hardware"},
		[]string{"stands up to sun and rain", "is built for years of outdoor use"},
		[]string{"Cover or store indoors in winter.", "Hose down to clean."},
	},
}

// demoProductsPerKind is how many products each kind gets: 26 kinds × 12
// = 312 products.
const demoProductsPerKind = 12

// demoCatalog returns the demo catalog; the same products every call.
func demoCatalog() []ProductInput {
	rng := rand.New(rand.NewPCG(2024, 7))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	var out []ProductInput
	titles := map[string]bool{}
	for _, kind := range demoKinds {
		for range demoProductsPerKind {
			series, material := pick(demoSeries), pick(kind.materials)
			title := series + " " + material + " " + kind.name
			for titles[title] {
				series = pick(demoSeries)
				title = series + " " + material + " " + kind.name
			}
			titles[title] = true
			style := pick(demoStyles)
			in := ProductInput{
				Title:       title,
				Description: demoDescription(kind, series, material, style, pick),
				Vendor:      pick(demoVendors),
				ProductType: kind.name,
				Category:    kind.category,
				Tags:        []string{strings.ToLower(style), strings.ToLower(material), kind.room},
				Attributes:  map[string]string{"material": material, "style": style, "room": kind.room},
				Status:      StatusActive,
				Options:     kind.options,
			}
			if rng.IntN(8) == 0 {
				in.Tags = append(in.Tags, "new arrival")
			}
			in.Variants = demoVariants(rng, kind, len(out)+1)
			out = append(out, in)
		}
	}
	return out
}

func demoDescription(kind demoKind, series, material, style string, pick func([]string) string) string {
	c := demoCopy[kind.family]
	return fmt.Sprintf("The %s %s brings %s character to any %s. Made from %s with %s, it %s. %s",
		series, strings.ToLower(kind.name), strings.ToLower(style), kind.room, strings.ToLower(material),
		pick(c.details), pick(c.benefits), pick(c.care))
}

// demoVariants makes one variant per combination of kind's option values;
// a larger size costs more. Roughly one product in five is on sale, one
// variant in ten is sold out and one in seven is running low.
func demoVariants(rng *rand.Rand, kind demoKind, n int) []VariantInput {
	base := kind.minPrice + rng.Int64N(kind.maxPrice-kind.minPrice+1)
	onSale := rng.IntN(5) == 0
	combos := []map[string]string{nil}
	for _, o := range kind.options {
		var next []map[string]string
		for _, c := range combos {
			for _, v := range o.Values {
				m := map[string]string{o.Name: v}
				for k, val := range c {
					m[k] = val
				}
				next = append(next, m)
			}
		}
		combos = next
	}
	out := make([]VariantInput, 0, len(combos))
	for _, c := range combos {
		price := base
		sku := fmt.Sprintf("%s-%04d", kind.code, n)
		for _, o := range kind.options {
			for step, v := range o.Values {
				if v == c[o.Name] {
					if o.Name == "Size" {
						price += price * int64(step) * 15 / 100
					}
					sku += "-" + skuCode(v)
				}
			}
		}
		v := VariantInput{SKU: sku, Options: c, Price: charmPrice(price), WeightGrams: kind.grams}
		if onSale {
			cmp := charmPrice(price * int64(115+rng.IntN(30)) / 100)
			v.CompareAtPrice = &cmp
		}
		var stock int64
		switch r := rng.IntN(70); {
		case r < 7: // sold out
		case r < 17:
			stock = 1 + rng.Int64N(4)
		default:
			stock = 5 + rng.Int64N(146)
		}
		v.Stock = &stock
		out = append(out, v)
	}
	return out
}

// charmPrice rounds cents to a price ending in .99 ($249.99).
func charmPrice(cents int64) int64 { return max(cents/100, 1)*100 - 1 }

// skuCode shortens an option value for a SKU: "8' x 10'" → "8X10",
// "Dusty Blue" → "DUSTYB".
func skuCode(v string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(v) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() == 6 {
			break
		}
	}
	return b.String()
}

// seedDemo imports the demo catalog when the catalog is empty. It goes
// through the import path, so two instances seeding at once end with one
// catalog: the second finds every product unchanged.
func (m *Module) seedDemo(ctx context.Context) error {
	var one int
	err := m.store.db.QueryRowContext(ctx, `SELECT 1 FROM product.products LIMIT 1`).Scan(&one)
	switch {
	case err == nil:
		return nil // the merchant's catalog, not ours to touch
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("seed demo catalog: check for products: %w", err)
	}
	run := newImportRun(m.store, ImportOptions{})
	for i, in := range demoCatalog() {
		if err := run.add(ctx, importer.Record{Line: i + 1}, in); err != nil {
			return fmt.Errorf("seed demo catalog: %w", err)
		}
	}
	if err := run.flush(ctx); err != nil {
		return fmt.Errorf("seed demo catalog: %w", err)
	}
	res := run.result()
	if res.Failed > 0 {
		return fmt.Errorf("seed demo catalog: %d products failed, first: %s", res.Failed, res.Errors[0].Error())
	}
	m.log.InfoContext(ctx, "seeded the demo catalog into the empty store (serve --no-demo skips this)", "products", res.Created)
	return nil
}

// demoPart seeds the demo catalog at start when the server allows it.
type demoPart struct {
	m    *Module
	seed bool
}

func (d *demoPart) Init(_ context.Context, m *Module, rt *mdk.Runtime) error {
	d.m, d.seed = m, rt.SeedDemo
	return nil
}

// Start implements mdk.Starter.
func (d *demoPart) Start(ctx context.Context) error {
	if !d.seed {
		return nil
	}
	return d.m.seedDemo(ctx)
}
