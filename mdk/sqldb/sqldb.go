// Package sqldb is Hyperrr's SQL layer: one database/sql handle over either
// SQLite (modernc.org/sqlite, pure Go, the embedded default) or PostgreSQL
// (pgx/v5), with one set of SQL and a small dialect seam where the two differ.
//
// Every module owns a schema. On PostgreSQL that is a real schema; on SQLite
// it is a database file in the data directory attached under the schema's
// name, so `product.products` means the same table on both engines.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL selects PostgreSQL (postgres:// or postgresql://). Empty means
	// SQLite in DataDir.
	URL string
	// DataDir holds the SQLite files: hyperrr.db and one file per schema.
	DataDir string
	// Schemas are created (PostgreSQL) or attached (SQLite). "mdk" is
	// always included.
	Schemas []string
	// MaxOpenConns bounds the pool; 0 picks a default per engine.
	MaxOpenConns int
}

// Querier is what both *DB and *Tx offer, so store code can run inside or
// outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is a database handle shared by every module.
type DB struct {
	*sql.DB
	engine  Engine
	schemas []string
	where   string // for messages: data dir or redacted URL
	queries atomic.Uint64
}

// Queries is how many statements have run through the handle and its
// transactions, so tests can bound the queries of a request (no N+1).
func (db *DB) Queries() uint64 { return db.queries.Load() }

// ExecContext runs a statement, counting it.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.queries.Add(1)
	return db.DB.ExecContext(ctx, query, args...)
}

// QueryContext runs a query, counting it.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db.queries.Add(1)
	return db.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query, counting it.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	db.queries.Add(1)
	return db.DB.QueryRowContext(ctx, query, args...)
}

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Open opens and pings the database. Errors name the database (without its
// password) and the cause in one line.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	schemas := []string{"mdk"}
	for _, s := range cfg.Schemas {
		if !identRe.MatchString(s) {
			return nil, fmt.Errorf("schema name %q: use lower-case letters, digits and _", s)
		}
		if !contains(schemas, s) {
			schemas = append(schemas, s)
		}
	}
	var (
		db  *DB
		err error
	)
	switch {
	case cfg.URL == "":
		db, err = openSQLite(cfg, schemas)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		db, err = openPostgres(cfg, schemas)
	default:
		return nil, fmt.Errorf("database URL %q: want postgres://user:pass@host:port/db (or no URL for SQLite)", Redact(cfg.URL))
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", db.where, err)
	}
	return db, nil
}

func openPostgres(cfg Config, schemas []string) (*DB, error) {
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", Redact(cfg.URL), err)
	}
	pcfg.ConnectTimeout = 10 * time.Second
	sdb := stdlib.OpenDB(*pcfg)
	maxOpen := cfg.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 20
	}
	sdb.SetMaxOpenConns(maxOpen)
	sdb.SetMaxIdleConns(maxOpen)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{DB: sdb, engine: Postgres, schemas: schemas, where: "PostgreSQL " + Redact(cfg.URL)}, nil
}

func openSQLite(cfg Config, schemas []string) (*DB, error) {
	dir := cfg.DataDir
	if dir == "" {
		dir = "hyperrr-data"
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	// busy_timeout makes concurrent writers wait instead of failing;
	// _txlock=immediate takes the write lock at BEGIN so two transactions
	// never deadlock upgrading read locks.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.Join(abs, "hyperrr.db") + "?" + q.Encode()
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open SQLite in %s: %w", abs, err)
	}
	sdb := sql.OpenDB(attachConnector{Connector: base, dir: abs, schemas: schemas})
	maxOpen := cfg.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 8
	}
	sdb.SetMaxOpenConns(maxOpen)
	sdb.SetMaxIdleConns(maxOpen)
	return &DB{DB: sdb, engine: SQLite, schemas: schemas, where: "SQLite in " + abs}, nil
}

// attachConnector attaches one database file per schema to every new
// connection, so schema-qualified names resolve as on PostgreSQL.
type attachConnector struct {
	driver.Connector
	dir     string
	schemas []string
}

func (c attachConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	exec, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite connection cannot execute statements")
	}
	for _, s := range c.schemas {
		file := filepath.Join(c.dir, s+".db")
		stmts := []string{
			fmt.Sprintf("ATTACH DATABASE '%s' AS %s", strings.ReplaceAll(file, "'", "''"), QuoteIdent(s)),
			fmt.Sprintf("PRAGMA %s.journal_mode=WAL", QuoteIdent(s)),
			fmt.Sprintf("PRAGMA %s.synchronous=NORMAL", QuoteIdent(s)),
		}
		for _, stmt := range stmts {
			if _, err := exec.ExecContext(ctx, stmt, nil); err != nil {
				conn.Close()
				return nil, fmt.Errorf("attach schema %s (%s): %w", s, file, err)
			}
		}
	}
	return conn, nil
}

// Engine returns the engine behind the handle.
func (db *DB) Engine() Engine { return db.engine }

// Schemas returns the schemas the handle was opened with.
func (db *DB) Schemas() []string { return append([]string(nil), db.schemas...) }

// String names the database for logs and messages (no password).
func (db *DB) String() string { return db.where }

// Tx is a transaction that can run functions after it commits (e.g. to wake
// the outbox relay).
type Tx struct {
	*sql.Tx
	engine      Engine
	afterCommit []func()
	queries     *atomic.Uint64
}

// ExecContext runs a statement in the transaction, counting it.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx.queries.Add(1)
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction, counting it.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	tx.queries.Add(1)
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query in the transaction, counting it.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	tx.queries.Add(1)
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

// Engine returns the engine the transaction runs on.
func (tx *Tx) Engine() Engine { return tx.engine }

// AfterCommit registers f to run once the transaction has committed.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// Tx runs fn in a transaction, committing if it returns nil and rolling back
// otherwise (also when fn panics, which is then re-raised). Serialization
// failures and deadlocks on PostgreSQL are retried a few times, so fn must be
// safe to run again.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.tx(ctx, fn)
		if err == nil || !isRetryableTx(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

func (db *DB) tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: stx, engine: db.engine, queries: &db.queries}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback() // the panic is what matters; rollback error adds nothing
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := stx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// ForUpdate returns the row-locking clause for SELECTs that claim rows:
// " FOR UPDATE" on PostgreSQL; nothing on SQLite, where the immediate
// transaction already holds the write lock.
func (db *DB) ForUpdate() string { return forUpdate(db.engine, "") }

// ForUpdateSkipLocked is ForUpdate for work queues: PostgreSQL skips rows
// another transaction holds.
func (db *DB) ForUpdateSkipLocked() string { return forUpdate(db.engine, " SKIP LOCKED") }

func forUpdate(e Engine, suffix string) string {
	if e == Postgres {
		return " FOR UPDATE" + suffix
	}
	return ""
}

// BlobType is the column type for raw bytes.
func (db *DB) BlobType() string {
	if db.engine == Postgres {
		return "BYTEA"
	}
	return "BLOB"
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func isRetryableTx(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// QuoteIdent quotes an identifier for both engines ("order" is a keyword).
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Redact hides the password of a database URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
