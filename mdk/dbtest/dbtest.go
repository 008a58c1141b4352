// Package dbtest runs store tests against both engines: a fresh SQLite data
// directory and a fresh database in a throwaway PostgreSQL cluster that is
// started once per test binary (initdb into a temp dir, random port).
//
// HYPERRR_TEST_POSTGRES selects what happens when PostgreSQL cannot start:
// "required" (CI) fails the tests, "off" skips the PostgreSQL half, and the
// default skips it with the reason printed.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" for the admin connection

	"github.com/hyperrr/hyperrr/mdk/sqldb"
	"github.com/hyperrr/hyperrr/migrations"
)

// Main runs a package's tests and stops the PostgreSQL cluster afterwards.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	cluster.stop()
	os.Exit(code)
}

// Engines returns the engines the current run tests: SQLite always,
// PostgreSQL unless HYPERRR_TEST_POSTGRES=off.
func Engines() []sqldb.Engine {
	if os.Getenv("HYPERRR_TEST_POSTGRES") == "off" {
		return []sqldb.Engine{sqldb.SQLite}
	}
	return []sqldb.Engine{sqldb.SQLite, sqldb.Postgres}
}

// Each runs fn as one subtest per engine, each with a fresh database that
// has the given schemas.
func Each(t *testing.T, schemas []string, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e, schemas...))
		})
	}
}

// Open returns a fresh, empty database of engine e, closed when t ends.
func Open(t testing.TB, e sqldb.Engine, schemas ...string) *sqldb.DB {
	t.Helper()
	cfg := Config(t, e)
	cfg.Schemas = schemas
	db, err := sqldb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Config returns the configuration of a fresh, empty database of engine e:
// a new data directory, or a new database in the test cluster.
func Config(t testing.TB, e sqldb.Engine) sqldb.Config {
	t.Helper()
	if e == sqldb.SQLite {
		return sqldb.Config{DataDir: t.TempDir()}
	}
	return sqldb.Config{URL: PostgresURL(t)}
}

// PostgresURL creates a fresh database in the test cluster and returns its
// URL. It skips or fails t, per HYPERRR_TEST_POSTGRES, when PostgreSQL is not
// available.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if err := cluster.start(); err != nil {
		if os.Getenv("HYPERRR_TEST_POSTGRES") == "required" {
			t.Fatalf("PostgreSQL is required (HYPERRR_TEST_POSTGRES=required) but could not start: %v", err)
		}
		t.Skipf("PostgreSQL tests skipped outside CI: %v (set HYPERRR_TEST_POSTGRES=required to make this a failure)", err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), cluster.seq.Add(1))
	if _, err := cluster.admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	return cluster.url(name)
}

type pgCluster struct {
	once  sync.Once
	err   error
	dir   string
	port  int
	bin   string
	root  bool
	admin *sql.DB
	seq   atomic.Int64
}

var cluster pgCluster

func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *pgCluster) start() error {
	c.once.Do(func() { c.err = c.boot() })
	return c.err
}

func (c *pgCluster) boot() error {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return fmt.Errorf("no initdb under /usr/lib/postgresql/*/bin")
	}
	sort.Strings(bins)
	c.bin = filepath.Dir(bins[len(bins)-1])
	c.root = os.Geteuid() == 0
	dir, err := os.MkdirTemp("", "hyperrr-pg-")
	if err != nil {
		return err
	}
	c.dir = dir
	if c.root {
		// initdb refuses to run as root: the cluster belongs to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", port, dir)
	if out, err := c.run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "pg.log"), "-w", "-t", "30", "-o", opts, "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to test cluster: %w", err)
	}
	c.admin = admin
	return nil
}

func (c *pgCluster) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.root {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	return cmd.CombinedOutput()
}

func (c *pgCluster) stop() {
	if c.dir == "" {
		return
	}
	if c.admin != nil {
		c.admin.Close()
	}
	_, _ = c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop") // best effort: the directory goes next
	os.RemoveAll(c.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// MigrateMDK applies the embedded migrations of the MDK runtime (keys,
// idempotency, processed events, workflow journal) and then extra.
func MigrateMDK(tb testing.TB, db *sqldb.DB, extra ...sqldb.Source) {
	tb.Helper()
	ms, err := sqldb.LoadFS(migrations.FS, "mdk", db.Engine())
	if err != nil {
		tb.Fatal(err)
	}
	sources := append([]sqldb.Source{{Module: "mdk", Schema: "mdk", Migrations: ms}}, extra...)
	if _, err := db.Migrate(context.Background(), sources); err != nil {
		tb.Fatal(err)
	}
}
