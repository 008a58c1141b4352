package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test reads the shared database directly

	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/natsbus/natstest"
)

// instance is one `hyperrr serve` process of a cluster.
type instance struct {
	name string
	url  string
	cmd  *exec.Cmd
	logs *syncBuffer
}

// syncBuffer collects a process's stderr for the failure message.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cluster is instances of the real binary sharing one PostgreSQL database
// and one NATS server, all run by the test.
type cluster struct {
	t         testing.TB
	dir       string
	env       []string
	nats      *natstest.Server
	db        *sql.DB
	merchant  string // API keys
	shopper   string
	instances []*instance
}

func newCluster(t testing.TB, names ...string) *cluster {
	t.Helper()
	pg := dbtest.PostgresURL(t)
	c := &cluster{t: t, dir: t.TempDir(), nats: natstest.Start(t)}
	c.env = []string{
		"HYPERRR_DATABASE_URL=" + pg, "HYPERRR_NATS_URL=" + c.nats.URL(),
		// A killed instance's checkout runs are taken over quickly, and a
		// checkout it claimed without journaling the run yet is reopened
		// quickly.
		"HYPERRR_WORKFLOW_LEASE=2s", "HYPERRR_ORDER_CLAIM_LEASE=3s", "HYPERRR_ORDER_SWEEP_INTERVAL=500ms",
		"HYPERRR_PRODUCT_EMBEDDER=none", "HYPERRR_LOG_LEVEL=warn",
	}
	if _, stderr, code := run(t, c.dir, c.env, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	c.merchant = c.key("--role", "merchant")
	c.shopper = c.key("--role", "shopper", "--customer", "cust_cluster")
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	var wg sync.WaitGroup
	c.instances = make([]*instance, len(names))
	for i, name := range names {
		wg.Go(func() { c.instances[i] = c.start(name) })
	}
	wg.Wait()
	for _, in := range c.instances {
		if in == nil {
			t.FailNow()
		}
	}
	return c
}

func (c *cluster) key(args ...string) string {
	out, stderr, code := run(c.t, c.dir, c.env, append([]string{"keys", "create"}, args...)...)
	if code != 0 {
		c.t.Fatalf("keys create: %s", stderr)
	}
	return strings.TrimSpace(out)
}

// start runs `hyperrr serve` and waits until it is ready.
func (c *cluster) start(name string) *instance {
	t := c.t
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Error(err)
		return nil
	}
	addr := l.Addr().String()
	l.Close()
	cmd := hyperrr(t, c.dir, append(c.env, "HYPERRR_ADDR="+addr, "HYPERRR_INSTANCE_ID="+name), "serve", "--no-demo")
	in := &instance{name: name, url: "http://" + addr, cmd: cmd, logs: &syncBuffer{}}
	cmd.Stderr = in.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Error(err)
		return nil
	}
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return nil
	}
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck // may have been killed by the test already
		cmd.Wait()         //nolint:errcheck // killed on purpose
		if t.Failed() {
			t.Logf("instance %s logs:\n%s", name, in.logs.String())
		}
	})
	go io.Copy(io.Discard, bufio.NewReader(stdout)) //nolint:errcheck // only drains the banner
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(in.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("instance %s not ready after 30s: %v\n%s", name, err, in.logs.String())
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call posts in to operation op on in, decoding the answer into out.
func (in *instance) call(key, op string, input, out any) error {
	body, err := json.Marshal(input)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, in.url+"/v1/operations/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s on %s: HTTP %d: %s", op, in.name, resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

func (c *cluster) must(in *instance, key, op string, input, out any) {
	c.t.Helper()
	if err := in.call(key, op, input, out); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) count(query string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// dump renders the rows of queries as text, for failure messages.
func (c *cluster) dump(queries ...string) string {
	var b strings.Builder
	for _, q := range queries {
		fmt.Fprintf(&b, "%s\n", strings.Join(strings.Fields(q), " "))
		rows, err := c.db.QueryContext(context.Background(), q)
		if err != nil {
			fmt.Fprintf(&b, "  error: %v\n", err)
			continue
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				fmt.Fprintf(&b, "  error: %v\n", err)
				break
			}
			fmt.Fprintf(&b, "  %v\n", vals)
		}
		rows.Close()
	}
	return b.String()
}

type createdProduct struct {
	ID       string `json:"id"`
	Variants []struct {
		ID string `json:"id"`
	} `json:"variants"`
}

// createProduct creates a product with one variant through in.
func (c *cluster) createProduct(in *instance, title, sku string, stock int) (createdProduct, error) {
	var p createdProduct
	err := in.call(c.merchant, "create_product", map[string]any{
		"title": title, "variants": []map[string]any{{"sku": sku, "price": 1500, "stock": stock}},
	}, &p)
	return p, err
}

// finds reports whether search_catalog on in returns product id for query.
func (c *cluster) finds(in *instance, query, id string) bool {
	var out struct {
		Products []struct {
			ID string `json:"id"`
		} `json:"products"`
	}
	if err := in.call(c.shopper, "search_catalog", map[string]any{"query": query}, &out); err != nil {
		c.t.Fatal(err)
	}
	for _, p := range out.Products {
		if p.ID == id {
			return true
		}
	}
	return false
}

// waitFor polls cond every 20ms until it holds or limit passes, and
// returns how long it took.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
