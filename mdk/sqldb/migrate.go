package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one versioned change to a module's schema.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Checksum identifies the migration's text, so an applied migration that was
// edited afterwards is caught instead of silently diverging.
func (m Migration) Checksum() string {
	sum := sha256.Sum256([]byte(m.SQL))
	return hex.EncodeToString(sum[:8])
}

// Source is the ordered migrations of one module.
type Source struct {
	Module     string // module ID, e.g. commerce.product
	Schema     string // schema the module owns, e.g. product
	Migrations []Migration
}

// Applied records one migration applied by Migrate.
type Applied struct {
	Module  string
	Version int
	Name    string
}

// Status is one migration and whether it has been applied.
type Status struct {
	Module    string
	Version   int
	Name      string
	AppliedAt time.Time // zero if pending
}

var migrationFile = regexp.MustCompile(`^(\d+)_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$`)

// LoadFS reads the migrations in dir of fsys for engine e. Files are named
// NNNN_name.sql, shared by both engines, or NNNN_name.sqlite.sql and
// NNNN_name.postgres.sql where the engines need different SQL (the engine's
// own file wins over a shared one of the same version).
func LoadFS(fsys fs.FS, dir string, e Engine) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read migrations %s: %w", dir, err)
	}
	byVersion := map[int]Migration{}
	specific := map[int]bool{}
	for _, entry := range entries {
		if entry.IsDir() {
			continue
		}
		m := migrationFile.FindStringSubmatch(entry.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s/%s: name it NNNN_name.sql or NNNN_name.{sqlite,postgres}.sql", dir, entry.Name())
		}
		if m[3] != "" && Engine(m[3]) != e {
			continue
		}
		version, _ := strconv.Atoi(m[1])
		if version <= 0 {
			return nil, fmt.Errorf("migration %s/%s: versions start at 1", dir, entry.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, entry.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", dir, entry.Name(), err)
		}
		isSpecific := m[3] != ""
		if prev, ok := byVersion[version]; ok {
			if isSpecific == specific[version] {
				return nil, fmt.Errorf("migrations %s: version %d is used by both %q and %q", dir, version, prev.Name, m[2])
			}
			if !isSpecific {
				continue
			}
		}
		byVersion[version] = Migration{Version: version, Name: m[2], SQL: string(body)}
		specific[version] = isSpecific
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS mdk.schema_migrations (
	module     TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	checksum   TEXT NOT NULL,
	applied_at BIGINT NOT NULL,
	PRIMARY KEY (module, version)
)`

// migrationLockID is the PostgreSQL advisory lock that serialises migrators
// of several instances starting at once.
const migrationLockID = 0x68797072 // "hypr"

// Migrate applies pending migrations of sources in the order given (the
// gateway passes them in module dependency order). Each migration runs in its
// own transaction together with its record, so a failing one leaves nothing
// half-applied and stops the rest. On PostgreSQL an advisory lock makes
// concurrent migrators wait for each other.
func (db *DB) Migrate(ctx context.Context, sources []Source) ([]Applied, error) {
	conn, release, err := db.lockMigrations(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var applied []Applied
	for _, src := range sources {
		if err := db.ensureSchema(ctx, conn, src.Schema); err != nil {
			return applied, err
		}
		done, err := appliedChecksums(ctx, conn, src.Module)
		if err != nil {
			return applied, err
		}
		for _, m := range src.Migrations {
			if sum, ok := done[m.Version]; ok {
				if sum != m.Checksum() {
					return applied, fmt.Errorf("migration %s %04d_%s was changed after it was applied; add a new migration instead", src.Module, m.Version, m.Name)
				}
				continue
			}
			ok, err := db.applyOne(ctx, conn, src.Module, m)
			if err != nil {
				return applied, err
			}
			if ok {
				applied = append(applied, Applied{Module: src.Module, Version: m.Version, Name: m.Name})
			}
		}
	}
	return applied, nil
}

// applyOne runs one migration; it reports false when another migrator (a
// second process on the same SQLite files) applied it first.
func (db *DB) applyOne(ctx context.Context, conn *sql.Conn, module string, m Migration) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s %04d_%s: begin: %w", module, m.Version, m.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	var exists int
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mdk.schema_migrations WHERE module = $1 AND version = $2`, module, m.Version).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("migration %s %04d_%s: %w", module, m.Version, m.Name, err)
	}
	if exists > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, db.ddl(m.SQL)); err != nil {
		return false, fmt.Errorf("migration %s %04d_%s failed, nothing of it applied: %w", module, m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mdk.schema_migrations (module, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)`,
		module, m.Version, m.Name, m.Checksum(), time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("migration %s %04d_%s: record: %w", module, m.Version, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s %04d_%s: commit: %w", module, m.Version, m.Name, err)
	}
	return true, nil
}

// MigrationStatus lists every migration of sources with when it was applied.
func (db *DB) MigrationStatus(ctx context.Context, sources []Source) ([]Status, error) {
	if db.engine == Postgres {
		if _, err := db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS mdk`); err != nil {
			return nil, fmt.Errorf("create schema mdk: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, migrationsTable); err != nil {
		return nil, fmt.Errorf("create migrations table: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT module, version, applied_at FROM mdk.schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	defer rows.Close()
	type key struct {
		module  string
		version int
	}
	at := map[key]int64{}
	for rows.Next() {
		var k key
		var ms int64
		if err := rows.Scan(&k.module, &k.version, &ms); err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		at[k] = ms
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Status
	for _, src := range sources {
		for _, m := range src.Migrations {
			st := Status{Module: src.Module, Version: m.Version, Name: m.Name}
			if ms, ok := at[key{src.Module, m.Version}]; ok {
				st.AppliedAt = time.UnixMilli(ms).UTC()
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func (db *DB) lockMigrations(ctx context.Context) (*sql.Conn, func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: connect: %w", err)
	}
	release := func() { conn.Close() }
	if db.engine == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("migrate: take advisory lock: %w", err)
		}
		release = func() {
			// A fresh context: the lock must go even if ctx was cancelled.
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := conn.ExecContext(c, `SELECT pg_advisory_unlock($1)`, migrationLockID); err != nil {
				// Closing the session releases the lock too; make sure it is
				// not returned to the pool still holding it.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			conn.Close()
		}
		if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS mdk`); err != nil {
			release()
			return nil, nil, fmt.Errorf("create schema mdk: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, migrationsTable); err != nil {
		release()
		return nil, nil, fmt.Errorf("create migrations table: %w", err)
	}
	return conn, release, nil
}

func (db *DB) ensureSchema(ctx context.Context, conn *sql.Conn, schema string) error {
	if db.engine != Postgres {
		if !contains(db.schemas, schema) {
			return fmt.Errorf("schema %s is not attached: open the database with it in Config.Schemas", schema)
		}
		return nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+QuoteIdent(schema)); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

func appliedChecksums(ctx context.Context, conn *sql.Conn, module string) (map[int]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT version, checksum FROM mdk.schema_migrations WHERE module = $1`, module)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations of %s: %w", module, err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("read applied migrations of %s: %w", module, err)
		}
		out[v] = sum
	}
	return out, rows.Err()
}

var createIndex = regexp.MustCompile(`(?i)(CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?)([a-z0-9_]+)(\s+ON\s+)("?[a-z0-9_]+"?)\.`)

// ddl is the dialect seam for migrations. PostgreSQL puts an index in its
// table's schema and refuses a qualified index name; SQLite wants the schema
// on the index name and an unqualified table. Migrations are written the
// PostgreSQL way (CREATE INDEX name ON schema.table) and rewritten here.
func (db *DB) ddl(sql string) string {
	if db.engine != SQLite {
		return sql
	}
	return createIndex.ReplaceAllString(sql, "${1}${4}.${2}${3}")
}

// FormatVersion renders a migration as 0001_name for listings.
func FormatVersion(version int, name string) string {
	return fmt.Sprintf("%04d_%s", version, strings.TrimSpace(name))
}
