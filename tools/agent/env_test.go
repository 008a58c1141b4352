package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/gateway/gatewaytest"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/tools/agent"
	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a gateway running the catalog and the agent on a fresh database,
// with the agent talking to a scripted model over real HTTP.
type env struct {
	g        *gateway.Gateway
	svc      *agent.Service
	llm      *llmtest.Server
	merchant context.Context
}

// each runs fn once per engine, each with a fresh env. environ sets
// HYPERRR_AGENT_* variables (retries default to 0 here).
func each(t *testing.T, fn func(t *testing.T, e *env), environ ...string) {
	t.Helper()
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) { fn(t, open(t, engine, true, environ...)) })
	}
}

func open(t testing.TB, engine sqldb.Engine, withLLM bool, environ ...string) *env {
	t.Helper()
	cfg := gatewaytest.Config(t, engine)
	e := &env{llm: llmtest.New(t)}
	if withLLM {
		cfg.LLMBaseURL, cfg.LLMModel = e.llm.URL, "scripted-model"
	}
	e.g = gatewaytest.Open(t, gateway.Options{
		Config: cfg, Modules: []mdk.Module{product.New(), agent.New()},
		Environ: append([]string{"HYPERRR_AGENT_LLM_RETRIES=0", "HYPERRR_PRODUCT_EMBEDDER=none"}, environ...),
	})
	var err error
	if e.svc, err = e.g.Agent(); err != nil {
		t.Fatal(err)
	}
	e.merchant = mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant, KeyID: "hyr_merchant1"})
	return e
}

// turn is what one Chat call streamed.
type turn struct {
	events []agent.Event
	err    error
}

func (e *env) chat(ctx context.Context, req agent.Request) turn {
	var tr turn
	tr.err = e.svc.Chat(ctx, req, func(ev agent.Event) { tr.events = append(tr.events, ev) })
	return tr
}

// text is the streamed reply text.
func (tr turn) text() string {
	var b strings.Builder
	for _, ev := range tr.events {
		if ev.Type == agent.EventText {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}

func (tr turn) conversation(t *testing.T) string {
	t.Helper()
	if len(tr.events) == 0 || tr.events[0].Type != agent.EventConversation || tr.events[0].ConversationID == "" {
		t.Fatalf("the first event is not the conversation: %+v (err %v)", tr.events, tr.err)
	}
	return tr.events[0].ConversationID
}

// last returns the last event, which ends the turn.
func (tr turn) last(t *testing.T) agent.Event {
	t.Helper()
	if len(tr.events) == 0 {
		t.Fatalf("no events (err %v)", tr.err)
	}
	return tr.events[len(tr.events)-1]
}

func (tr turn) of(typ agent.EventType) []agent.Event {
	var out []agent.Event
	for _, ev := range tr.events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// wantDone checks the turn finished with stop.
func (tr turn) wantDone(t *testing.T, stop agent.Stop) {
	t.Helper()
	if tr.err != nil {
		t.Fatalf("turn failed: %v", tr.err)
	}
	if last := tr.last(t); last.Type != agent.EventDone || last.Stop != stop {
		t.Fatalf("turn ended with %+v, want done/%s", last, stop)
	}
}

// create makes a product through the registry, as the merchant.
func (e *env) create(t testing.TB, in product.ProductInput) product.Product {
	t.Helper()
	p, err := mdk.Call[product.ProductInput, product.Product](e.merchant, e.g.Ops(), "create_product", in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Title, err)
	}
	return p
}

func (e *env) product(t *testing.T, id string) product.Product {
	t.Helper()
	p, err := mdk.Call[product.IDInput, product.Product](e.merchant, e.g.Ops(), "get_product_admin", product.IDInput{ID: id})
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return p
}

func (e *env) products(t *testing.T) []product.Product {
	t.Helper()
	out, err := mdk.Call[product.ListProductsInput, product.ListProductsOutput](e.merchant, e.g.Ops(), "list_products", product.ListProductsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]product.Product, 0, len(out.Products))
	for _, p := range out.Products {
		ps = append(ps, p.Product)
	}
	return ps
}

// actions returns the agent.action audit events in the agent outbox (the
// test gateway runs no relay, so every emitted event stays there).
func (e *env) actions(t *testing.T) []agent.Action {
	t.Helper()
	rows, err := e.g.DB().QueryContext(context.Background(), `SELECT type, subject, data FROM agent.outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []agent.Action
	for rows.Next() {
		var typ, subject, data string
		if err := rows.Scan(&typ, &subject, &data); err != nil {
			t.Fatal(err)
		}
		var a agent.Action
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			t.Fatal(err)
		}
		if typ != agent.EventAction || subject != a.ConversationID || a.KeyID == "" {
			t.Errorf("audit event %s about %s: %+v", typ, subject, a)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// count returns how many actions are of kind (and op, when given).
func count(actions []agent.Action, kind, op string) int {
	n := 0
	for _, a := range actions {
		if a.Kind == kind && (op == "" || a.Op == op) {
			n++
		}
	}
	return n
}

// wantScriptDone checks the model was asked exactly as often as scripted.
func (e *env) wantScriptDone(t *testing.T) {
	t.Helper()
	if left, extra := e.llm.Left(); left != 0 || extra != 0 {
		t.Errorf("scripted model: %d replies unused, %d unexpected requests", left, extra)
	}
}

func ptr[T any](v T) *T { return &v }
