package relevance

// Shared lists for the product types in kinds_*.go: style and color sets,
// and care or assembly sentences by kind of goods.

var (
	stylesLiving  = []string{"Modern", "Mid-Century", "Traditional", "Glam", "Scandinavian", "Transitional", "Contemporary", "Coastal", "Minimalist"}
	stylesWood    = []string{"Farmhouse", "Rustic", "Industrial", "Mid-Century", "Scandinavian", "Modern", "Traditional", "Coastal", "Minimalist"}
	stylesDecor   = []string{"Modern", "Bohemian", "Coastal", "Glam", "Farmhouse", "Scandinavian", "Traditional", "Mid-Century", "Minimalist"}
	stylesOutdoor = []string{"Coastal", "Modern", "Traditional", "Rustic", "Farmhouse", "Contemporary"}
	stylesKitchen = []string{"Farmhouse", "Modern", "Industrial", "Rustic", "Scandinavian", "Minimalist", "Traditional"}
	stylesPet     = []string{"Modern", "Minimalist", "Scandinavian", "Traditional", "Farmhouse", "Bohemian"}
)

var (
	// colorsUpholstery are the colors of fabric and leather seating.
	colorsUpholstery = []string{"Navy", "Gray", "Charcoal", "Beige", "Cream", "Ivory", "Green", "Sage", "Emerald", "Olive", "Cognac", "Brown", "Tan", "Black", "Blush", "Mustard", "Rust", "Blue"}
	// colorsHard cover wood, metal, stone and glass; each material keeps
	// only its own.
	colorsHard = []string{"Natural", "Brown", "Espresso", "Black", "White", "Gray", "Charcoal", "Green", "Sage", "Navy", "Gold", "Antique Brass", "Silver", "Clear", "Smoke", "Beige", "Cream", "Blue", "Terracotta", "Red", "Mustard"}
	// colorsTextile are the colors of pillows, throws, rugs and curtains.
	colorsTextile = []string{"Ivory", "Cream", "Beige", "Gray", "Charcoal", "Navy", "Blue", "Green", "Sage", "Emerald", "Olive", "Rust", "Terracotta", "Mustard", "Blush", "Black", "White", "Multicolor", "Natural", "Brown", "Red"}
)

var (
	careUpholstery = []string{
		"Spot clean with a mild, water-based cleaner.",
		"Arrives in two boxes; legs attach in minutes without tools.",
		"Ships fully assembled except for the legs.",
		"Professional cleaning recommended for deep stains.",
		"Backed by a ten-year frame warranty.",
	}
	careWood = []string{
		"Wipe with a soft, dry cloth; avoid harsh cleaners.",
		"Some assembly required; all hardware included.",
		"Arrives fully assembled.",
		"Natural variations in grain make every piece one of a kind.",
		"Use coasters to protect the finish from rings.",
		"Two-person assembly in about 30 minutes.",
	}
	careMetal = []string{
		"Wipe clean with a damp cloth.",
		"Simple assembly with the included Allen key.",
		"Arrives flat-packed; assembles in about 20 minutes.",
		"Leveling feet steady it on uneven floors.",
	}
	careLamp = []string{
		"UL listed for dry locations.",
		"Bulb not included; works with LED bulbs up to 60 watts.",
		"Includes a 6-foot cord with an in-line switch.",
		"Compatible with smart bulbs.",
	}
	careFixture = []string{
		"UL listed for damp locations.",
		"Hardwired installation; we recommend a licensed electrician.",
		"Bulbs not included; dimmable with a compatible wall dimmer.",
		"Mounting hardware and canopy included.",
	}
	careTextile = []string{
		"Machine wash cold, tumble dry low.",
		"Dry clean only.",
		"Spot clean or dry clean.",
		"OEKO-TEX certified, free of harmful substances.",
	}
	careRug = []string{
		"Vacuum regularly without the beater bar.",
		"Use a rug pad to keep it in place.",
		"Some shedding is normal in the first weeks.",
		"Spot clean with mild soap and water.",
	}
	careOutdoor = []string{
		"Store or cover during the off-season to extend its life.",
		"Rinse with a garden hose and mild soap.",
		"Cushions not included.",
		"Requires assembly; hardware is rust-proof stainless steel.",
		"Backed by a five-year warranty against weather damage.",
	}
	careKitchen = []string{
		"Hand wash and dry thoroughly.",
		"Wipe clean with a damp cloth.",
		"Arrives ready to use; no assembly needed.",
		"Mounting hardware included.",
	}
	careTabletop = []string{
		"Dishwasher and microwave safe.",
		"Oven safe up to 400°F.",
		"Hand wash recommended to preserve the glaze.",
		"Chip-resistant and stackable for easy storage.",
	}
	careDecor = []string{
		"Dust with a soft cloth.",
		"Ships in protective, recyclable packaging.",
		"Handmade, so slight variations are part of its charm.",
		"Ready to display out of the box.",
	}
	carePet = []string{
		"Cover unzips and is machine washable.",
		"Wipe clean with a damp cloth.",
		"Made without harmful flame retardants.",
		"Ships compressed; allow 24 hours to fully expand.",
	}
)
