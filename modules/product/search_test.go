package product_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/internal/ucptest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/search"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/mdk/vector/milvus/milvusfake"
	"github.com/hyperrr/hyperrr/modules/product"
)

// servedCatalog is a gateway serving commerce.product, so the relay, the
// event-fed search index and the embedder run as in production.
type servedCatalog struct {
	*catalogEnv
	cfg  gateway.Config
	stop func()
}

func serveCatalog(t *testing.T, cfg gateway.Config) *servedCatalog {
	t.Helper()
	m := product.New()
	g := gatewaytest.New(t, gateway.Options{Config: cfg, Modules: []mdk.Module{m}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	bg := context.Background()
	s := &servedCatalog{
		catalogEnv: &catalogEnv{g: g, m: m, merchant: mdk.WithPrincipal(bg, mdk.Principal{Role: mdk.RoleMerchant}), anonym: bg},
		cfg:        cfg,
	}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(s.stop)
	if err := m.WaitSearchReady(bg); err != nil {
		t.Fatal(err)
	}
	return s
}

// serveOn serves the catalog on a fresh database of engine e.
func serveOn(t *testing.T, e sqldb.Engine) *servedCatalog {
	t.Helper()
	return serveCatalog(t, gatewaytest.Config(t, e))
}

func (s *servedCatalog) search(t *testing.T, body string) product.SearchOutput {
	t.Helper()
	out, err := callJSON[product.SearchOutput](t, s.anonym, s.catalogEnv, "search_catalog", body)
	if err != nil {
		t.Fatalf("search %s: %v", body, err)
	}
	return out
}

// eventually polls the search until cond holds: index updates arrive
// through the outbox relay and the bus.
func (s *servedCatalog) eventually(t *testing.T, body string, cond func(product.SearchOutput) bool) product.SearchOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := s.search(t, body)
		if cond(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("search %s never satisfied the condition; last: %+v", body, titles(out))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func titles(out product.SearchOutput) []string {
	var ts []string
	for _, p := range out.Products {
		ts = append(ts, p.Title)
	}
	return ts
}

func variant(sku string, price, stock int64) product.VariantInput {
	return product.VariantInput{SKU: sku, Price: price, Stock: &stock}
}

func TestSearchCatalog(t *testing.T) {
	for _, e := range dbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := serveOn(t, e)
			catalog := []product.ProductInput{
				{Title: "Oak Coffee Table", ProductType: "Coffee Table", Category: "Furniture / Living Room / Coffee Tables", Vendor: "Elmwood",
					Attributes: map[string]string{"material": "Oak"}, Variants: []product.VariantInput{variant("OCT-1", 24900, 3)}},
				{Title: "Walnut Coffee Table", ProductType: "Coffee Table", Category: "Furniture / Living Room / Coffee Tables", Vendor: "Ashford",
					Attributes: map[string]string{"material": "Walnut"}, Variants: []product.VariantInput{variant("WCT-1", 45900, 0)}},
				{Title: "Velvet Sofa", ProductType: "Sofa", Category: "Furniture / Living Room / Sofas", Vendor: "Elmwood",
					Description: "A three-seat sofa in green velvet.", Variants: []product.VariantInput{variant("VS-1", 129900, 2)}},
				{Title: "Bamboo Spice Rack", ProductType: "Spice Rack", Category: "Kitchen / Storage", Vendor: "Harbor Home",
					Description: "Holds twenty jars of spices on a small counter.", Variants: []product.VariantInput{variant("BSR-1", 3900, 10)}},
			}
			var ids []string
			for _, in := range catalog {
				ids = append(ids, s.create(t, in).ID)
				time.Sleep(2 * time.Millisecond) // distinct created_at, for the newest-first check
			}
			all := s.eventually(t, `{}`, func(o product.SearchOutput) bool { return o.Pagination.TotalCount == 4 })
			if titles(all)[0] != "Bamboo Spice Rack" {
				t.Errorf("browse is not newest first: %v", titles(all))
			}

			t.Run("TypoAndSynonym", func(t *testing.T) {
				if out := s.search(t, `{"query":"cofee tabel"}`); len(out.Products) < 2 || !strings.Contains(out.Products[0].Title, "Coffee Table") {
					t.Errorf("typo query: %v", titles(out))
				}
				if out := s.search(t, `{"query":"couch"}`); len(out.Products) == 0 || out.Products[0].Title != "Velvet Sofa" {
					t.Errorf("synonym query: %v", titles(out))
				}
			})
			t.Run("PriceIntent", func(t *testing.T) {
				out := s.search(t, `{"query":"coffee table under $300"}`)
				if got := titles(out); len(got) != 1 || got[0] != "Oak Coffee Table" {
					t.Errorf("price intent kept %v, want only the oak table", got)
				}
				if len(out.Messages) != 1 || out.Messages[0].Code != "price_intent" {
					t.Errorf("no message saying how the price was read: %+v", out.Messages)
				}
			})
			t.Run("FiltersAndFacets", func(t *testing.T) {
				out := s.search(t, `{"filters":{"categories":["Furniture / Living Room"],"in_stock":true}}`)
				if got := titles(out); len(got) != 2 || slices.Contains(got, "Walnut Coffee Table") {
					t.Errorf("category + in_stock: %v", got)
				}
				out = s.search(t, `{"filters":{"attributes":{"material":["walnut"]}}}`)
				if got := titles(out); len(got) != 1 || got[0] != "Walnut Coffee Table" {
					t.Errorf("attribute filter: %v", got)
				}
				out = s.search(t, `{"query":"coffee table"}`)
				counts := map[string]int{}
				for _, f := range out.Facets {
					for _, v := range f.Values {
						counts[f.Name+"="+v.Value] = v.Count
					}
				}
				if counts["vendor=Elmwood"] != 1 || counts["category=Furniture / Living Room / Coffee Tables"] != 2 || counts["price=100-250"] != 1 {
					t.Errorf("facets %v", counts)
				}
			})
			t.Run("Pagination", func(t *testing.T) {
				seen := map[string]bool{}
				body := `{"pagination":{"limit":3}}`
				for page := 0; page < 5; page++ {
					out := s.search(t, body)
					for _, p := range out.Products {
						if seen[p.ID] {
							t.Fatalf("%s on two pages", p.Title)
						}
						seen[p.ID] = true
					}
					if !out.Pagination.HasNextPage {
						break
					}
					body = `{"pagination":{"limit":3,"cursor":"` + out.Pagination.Cursor + `"}}`
				}
				if len(seen) != 4 {
					t.Errorf("pages covered %d products, want 4", len(seen))
				}
			})
			t.Run("ErrInput", func(t *testing.T) {
				_, err := callJSON[product.SearchOutput](t, s.anonym, s.catalogEnv, "search_catalog", `{"pagination":{"cursor":"garbage"}}`)
				if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || e.Field != "pagination.cursor" {
					t.Errorf("bad cursor: %v", err)
				}
				_, err = callJSON[product.SearchOutput](t, s.anonym, s.catalogEnv, "search_catalog", `{"sort":"cheapest"}`)
				if e := mdk.AsError(err); e.Code != mdk.CodeInvalid || e.Field != "sort" {
					t.Errorf("bad sort: %v", err)
				}
			})
			t.Run("UCPShape", func(t *testing.T) {
				schema := searchSchema(t)
				if err := schema.Validate(ucptest.Enveloped(t, s.search(t, `{"query":"table"}`))); err != nil {
					t.Errorf("search_catalog output is not a UCP search_response: %v", err)
				}
			})
			t.Run("ArchiveAndStockUpdateTheIndex", func(t *testing.T) {
				if _, err := call[product.IDInput, product.Product](s.merchant, s.catalogEnv, "archive_product", product.IDInput{ID: ids[2]}); err != nil {
					t.Fatal(err)
				}
				s.eventually(t, `{"query":"sofa"}`, func(o product.SearchOutput) bool { return len(o.Products) == 0 })
				if _, err := callJSON[product.Variant](t, s.merchant, s.catalogEnv, "set_stock", `{"sku":"WCT-1","on_hand":4}`); err != nil {
					t.Fatal(err)
				}
				s.eventually(t, `{"query":"walnut","filters":{"in_stock":true}}`, func(o product.SearchOutput) bool { return len(o.Products) == 1 })
			})
			t.Run("RestartUsesStoredEmbeddings", func(t *testing.T) {
				var before int64
				q := `SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM product.embeddings`
				var n int
				if err := s.g.DB().QueryRowContext(context.Background(), q).Scan(&n, &before); err != nil || n < 3 {
					t.Fatalf("embeddings stored: %d err=%v", n, err)
				}
				s.stop()
				again := serveCatalog(t, s.cfg)
				var after int64
				if err := again.g.DB().QueryRowContext(context.Background(), q).Scan(&n, &after); err != nil || after != before {
					t.Fatalf("restart re-embedded unchanged products (updated_at %d → %d, err=%v)", before, after, err)
				}
				if out := again.search(t, `{"query":"something to hold spices"}`); len(out.Products) == 0 || out.Products[0].Title != "Bamboo Spice Rack" {
					t.Errorf("after restart: %v", titles(out))
				}
			})
		})
	}
}

// searchSchema compiles UCP's search_response.
func searchSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return ucptest.Compile(t, "https://ucp.dev/schemas/shopping/catalog_search.json#/$defs/search_response")[0]
}

// TestSearchWithMilvus runs the catalog search with its vectors in Milvus
// (the in-process fake that speaks Milvus's gRPC protocol).
func TestSearchWithMilvus(t *testing.T) {
	fake := milvusfake.Start(t)
	cfg := gateway.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ShutdownTimeout = 5 * time.Second
	m := product.New()
	g, err := gateway.Open(context.Background(), gateway.Options{
		Config: cfg, Modules: []mdk.Module{m}, Logger: slog.New(slog.DiscardHandler),
		// Always ask the vector index, even for a catalog this small.
		Environ: []string{"HYPERRR_PRODUCT_MILVUS_ADDR=" + fake.Addr(), "HYPERRR_PRODUCT_VECTOR_EXACT_LIMIT=-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	env := &catalogEnv{g: g, m: m, merchant: mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant}), anonym: context.Background()}
	env.create(t, product.ProductInput{Title: "Bamboo Spice Rack", ProductType: "Spice Rack", Category: "Kitchen / Storage",
		Description: "Holds twenty jars of spices on a small counter.", Variants: []product.VariantInput{variant("BSR-1", 3900, 10)}})
	env.create(t, product.ProductInput{Title: "Velvet Sofa", ProductType: "Sofa", Variants: []product.VariantInput{variant("VS-1", 129900, 2)}})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitSearchReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fake.Calls("Upsert") == 0 {
		t.Fatal("no vectors were written to Milvus")
	}
	ids, err := m.SearchExternalIDs(context.Background(), "something to hold spices", search.ModeVector, 1)
	if err != nil || len(ids) != 1 {
		t.Fatalf("vector search through Milvus: %v %v", ids, err)
	}
	if fake.Calls("Search") == 0 {
		t.Fatal("the vector ranker did not ask Milvus")
	}
	out, err := callJSON[product.SearchOutput](t, env.anonym, env, "search_catalog", `{"query":"something to hold spices"}`)
	if err != nil || len(out.Products) == 0 || out.Products[0].Title != "Bamboo Spice Rack" {
		t.Fatalf("hybrid search with Milvus: %v %v", titles(out), err)
	}
}
