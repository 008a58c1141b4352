package relevance_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk/search/searcheval/internal/relevance"
)

var fixtureDir = filepath.Join("..", "..", "..", "..", "..", "testdata", "relevance")

// build is shared by the tests: generation is deterministic.
func build(t *testing.T) relevance.Fixture {
	t.Helper()
	f, err := relevance.Build()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCommittedFixture fails when testdata/relevance differs from what the
// generator writes: the files were edited by hand, or the rules changed
// without regenerating.
func TestCommittedFixture(t *testing.T) {
	files, err := build(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range relevance.Files {
		t.Run("OK"+name, func(t *testing.T) {
			committed, err := os.ReadFile(filepath.Join(fixtureDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(committed, files[name]) {
				t.Fatalf("testdata/relevance/%s differs from the generator's output; run `go generate ./mdk/search/searcheval` and review the diff", name)
			}
		})
	}
}

func TestGrade(t *testing.T) {
	// An oak coffee table at $250 in natural, with a round top.
	table := relevance.Product{Class: "Coffee Table", Color: "Natural", Material: "Oak", Style: "Modern", Cents: 25000, Traits: []string{"round"}}
	with := func(change func(*relevance.Product)) relevance.Product {
		p := table
		change(&p)
		return p
	}
	want := relevance.Want{Exact: []string{"Coffee Table"}, Near: []string{"Console Table"}, Related: []string{"End Table"}, Attrs: []string{"oak"}, MaxCents: 30000}
	for _, tc := range []struct {
		name  string
		want  relevance.Want
		p     relevance.Product
		grade int
	}{
		{"OKExactAllMet", want, table, 3},
		{"OKExactOneMiss", want, with(func(p *relevance.Product) { p.Material = "Walnut" }), 2},
		{"OKExactOverBudget", want, with(func(p *relevance.Product) { p.Cents = 32000 }), 2},
		{"OKExactFarOverBudgetIsTwoMisses", want, with(func(p *relevance.Product) { p.Cents = 45001 }), 1},
		{"OKExactNeverBelowOne", want, with(func(p *relevance.Product) { p.Material, p.Cents = "Glass", 99900 }), 1},
		{"OKNearAllMet", want, with(func(p *relevance.Product) { p.Class = "Console Table" }), 2},
		{"OKNearOneMiss", want, with(func(p *relevance.Product) { p.Class, p.Material = "Console Table", "Pine" }), 1},
		{"OKRelatedAllMet", want, with(func(p *relevance.Product) { p.Class = "End Table" }), 1},
		{"OKRelatedOneMissIsZero", want, with(func(p *relevance.Product) { p.Class, p.Material = "End Table", "Pine" }), 0},
		{"OKAttrFromColorOrMaterial", relevance.Want{Exact: []string{"Coffee Table"}, Attrs: []string{"brass"}},
			with(func(p *relevance.Product) { p.Material, p.Color = "Iron", "Antique Brass" }), 3},
		{"OKShadeMatchesFamily", relevance.Want{Exact: []string{"Coffee Table"}, Attrs: []string{"green"}},
			with(func(p *relevance.Product) { p.Color = "Sage" }), 3},
		{"OKWoodIsNotEngineeredWood", relevance.Want{Exact: []string{"Coffee Table"}, Attrs: []string{"wood"}},
			with(func(p *relevance.Product) { p.Material = "Engineered Wood" }), 2},
		{"OKTraitMiss", relevance.Want{Exact: []string{"Coffee Table"}, Traits: []string{"round", "storage"}}, table, 2},
		{"OKUnderMinimum", relevance.Want{Exact: []string{"Coffee Table"}, MinCents: 30000}, table, 2},
		{"OKFarUnderMinimum", relevance.Want{Exact: []string{"Coffee Table"}, MinCents: 40000}, table, 1},
		{"OKEssentialMissingExactIsRelated", relevance.Want{Exact: []string{"Coffee Table"}, Essential: []string{"lift-top"}}, table, 1},
		{"OKEssentialMissingRelatedIsZero", relevance.Want{Exact: []string{"Sofa"}, Related: []string{"Coffee Table"}, Essential: []string{"lift-top"}}, table, 0},
		{"OKEssentialMet", relevance.Want{Exact: []string{"Coffee Table"}, Essential: []string{"round"}}, table, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, judged := tc.want.Grade(tc.p)
			if got != tc.grade || !judged {
				t.Fatalf("Grade = %d, %v; want %d, true", got, judged, tc.grade)
			}
		})
	}
	t.Run("OKOtherTypeNotJudged", func(t *testing.T) {
		if g, judged := want.Grade(with(func(p *relevance.Product) { p.Class = "Sofa" })); judged || g != 0 {
			t.Fatalf("Grade = %d, %v; want 0, false", g, judged)
		}
	})
}

func TestJudge(t *testing.T) {
	f := build(t)
	byID := map[string]relevance.Product{}
	for _, p := range f.Catalog {
		byID[p.ID] = p
	}
	// Queries drawing hard negatives from the same pool must not draw the
	// same ones: the pick is meant to be a sample, not the lowest IDs.
	t.Run("OKNegativesDifferByQuery", func(t *testing.T) {
		seen := map[string]string{}
		for _, s := range f.Specs {
			var negatives []string
			for id, g := range f.Judgments[s.ID] {
				if _, tiered := s.Want.Grade(byID[id]); !tiered && g == 0 {
					negatives = append(negatives, id)
				}
			}
			slices.Sort(negatives)
			key := strings.Join(negatives, " ")
			if other, ok := seen[key]; ok && len(negatives) > 0 {
				t.Errorf("queries %s and %s have the same hard negatives %v", other, s.ID, negatives)
			}
			seen[key] = s.ID
		}
	})
	for _, s := range f.Specs {
		t.Run("OK"+s.ID, func(t *testing.T) {
			negatives := 0
			for id, g := range f.Judgments[s.ID] {
				p := byID[id]
				want, tiered := s.Want.Grade(p)
				switch {
				case tiered && g != want:
					t.Errorf("%s %s judged %d; the rules give %d", id, p.Name, g, want)
				case !tiered && g != 0:
					t.Errorf("%s %s of an untiered type judged %d; want 0", id, p.Name, g)
				case !tiered:
					negatives++
				}
			}
			if negatives > 8 {
				t.Errorf("%d hard negatives; want at most 8", negatives)
			}
			for _, p := range f.Catalog {
				if _, tiered := s.Want.Grade(p); tiered {
					if _, ok := f.Judgments[s.ID][p.ID]; !ok {
						t.Errorf("%s %s is of a tiered type but not judged", p.ID, p.Name)
					}
				}
			}
		})
	}
}

// TestCatalogTextAgrees checks what a reader of a product would check:
// the title names no other material or color than the product's, and its
// text states every trait a query asks for (so a judgment on a trait is
// never based on something the product does not say).
func TestCatalogTextAgrees(t *testing.T) {
	f := build(t)
	materialWords := []string{"Oak", "Walnut", "Pine", "Teak", "Marble", "Glass", "Velvet", "Linen", "Leather", "Rattan", "Jute", "Wool", "Brass", "Bamboo", "Ceramic", "Acacia", "Concrete"}
	colorWords := []string{"Black", "White", "Navy", "Green", "Gray", "Beige", "Gold", "Emerald", "Sage", "Blush", "Cognac"}
	// How a product's text states each trait a query asks for.
	traitWords := map[string]*regexp.Regexp{
		"sleeper":        regexp.MustCompile(`(?i)sleeper|pull-out`),
		"round":          regexp.MustCompile(`(?i)round|diameter`),
		"king":           regexp.MustCompile(`(?i)\bking\b`),
		"runner":         regexp.MustCompile(`(?i)runner`),
		"seats:6":        regexp.MustCompile(`(?i)seats (six|up to eight)|six chairs|eight chairs`),
		"seats:8":        regexp.MustCompile(`(?i)seats up to eight|eight chairs`),
		"washable":       regexp.MustCompile(`(?i)washable`),
		"blackout":       regexp.MustCompile(`(?i)blackout`),
		"standing":       regexp.MustCompile(`(?i)standing|raise`),
		"storage":        regexp.MustCompile(`(?i)storage|drawer|hid|shelf|shelves|cubbies|compartment|basket|hamper|bin\b`),
		"large-dog":      regexp.MustCompile(`up to (80|90|120) lb`),
		"rolling":        regexp.MustCompile(`(?i)caster|wheel|roll`),
		"extendable":     regexp.MustCompile(`(?i)extend`),
		"orthopedic":     regexp.MustCompile(`(?i)orthopedic`),
		"service:8":      regexp.MustCompile(`(?i)service for eight`),
		"counter-height": regexp.MustCompile(`(?i)counter (and bar )?height|counter stool`),
		"swivel":         regexp.MustCompile(`(?i)swivel`),
		"8x10":           regexp.MustCompile(`8' x 10'`),
		"space-saving":   regexp.MustCompile(`(?i)wall|slim|drawer|door|fridge|space|under-sink`),
		"compact":        regexp.MustCompile(`(?i)compact|slim|small|petite|mini`),
		"full-length":    regexp.MustCompile(`(?i)full.length`),
		"weatherproof":   regexp.MustCompile(`(?i)weather|rust|rot,|outside all year|mildew`),
	}
	for _, s := range f.Specs {
		for _, trait := range slices.Concat(s.Want.Traits, s.Want.Essential) {
			if traitWords[trait] == nil {
				t.Errorf("query %s asks for trait %s: add how product text states it to this test", s.ID, trait)
			}
		}
	}
	for _, p := range f.Catalog {
		// The product's own color and material may hold other words
		// ("White Oak", "Antique Brass"): take them out first.
		title := strings.NewReplacer(p.Material, "", p.Color, "").Replace(" " + strings.ReplaceAll(p.Name, ",", " ,") + " ")
		for _, w := range materialWords {
			if strings.Contains(title, " "+w+" ") {
				t.Errorf("%s %q: title says %s, material is %s", p.ID, p.Name, w, p.Material)
			}
		}
		for _, w := range colorWords {
			if strings.Contains(title, " "+w+" ") {
				t.Errorf("%s %q: title says %s, color is %s", p.ID, p.Name, w, p.Color)
			}
		}
		text := p.Name + " " + p.Description
		for trait, re := range traitWords {
			if p.Has(trait) && !re.MatchString(text) {
				t.Errorf("%s %q has trait %s but its text does not say so: %s", p.ID, p.Name, trait, p.Description)
			}
		}
	}
}
