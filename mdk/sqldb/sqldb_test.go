package sqldb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestSchemasAndTx(t *testing.T) {
	dbtest.Each(t, []string{"product", "order"}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		src := []sqldb.Source{{Module: "commerce.order", Schema: "order", Migrations: []sqldb.Migration{
			{Version: 1, Name: "init", SQL: `CREATE TABLE "order".orders (id TEXT PRIMARY KEY, total BIGINT NOT NULL);
				CREATE UNIQUE INDEX IF NOT EXISTS orders_total ON "order".orders (total, id)`},
		}}}
		if _, err := db.Migrate(ctx, src); err != nil {
			t.Fatal(err)
		}
		t.Run("CommitRunsAfterCommit", func(t *testing.T) {
			ran := false
			err := db.Tx(ctx, func(tx *sqldb.Tx) error {
				tx.AfterCommit(func() { ran = true })
				_, err := tx.ExecContext(ctx, `INSERT INTO "order".orders (id, total) VALUES ($1, $2)`, "o1", 1250)
				return err
			})
			if err != nil || !ran {
				t.Fatalf("tx err=%v afterCommit ran=%v", err, ran)
			}
		})
		t.Run("RollbackOnError", func(t *testing.T) {
			boom := errors.New("boom")
			ran := false
			err := db.Tx(ctx, func(tx *sqldb.Tx) error {
				tx.AfterCommit(func() { ran = true })
				if _, err := tx.ExecContext(ctx, `INSERT INTO "order".orders (id, total) VALUES ($1, $2)`, "o2", 1); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) || ran {
				t.Fatalf("err=%v ran=%v", err, ran)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "order".orders WHERE id = $1`, "o2").Scan(&n); err != nil || n != 0 {
				t.Fatalf("rolled back row visible: n=%d err=%v", n, err)
			}
		})
		t.Run("UniqueViolation", func(t *testing.T) {
			_, err := db.ExecContext(ctx, `INSERT INTO "order".orders (id, total) VALUES ($1, $2)`, "o1", 5)
			if !sqldb.IsUniqueViolation(err) {
				t.Fatalf("want unique violation, got %v", err)
			}
		})
		t.Run("ReusedParameter", func(t *testing.T) {
			var a, b int64
			if err := db.QueryRowContext(ctx, `SELECT $1 + 0, $1 + $2`, int64(2), int64(3)).Scan(&a, &b); err != nil || a != 2 || b != 5 {
				t.Fatalf("a=%d b=%d err=%v", a, b, err)
			}
		})
		t.Run("ConcurrentWriters", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- db.Tx(ctx, func(tx *sqldb.Tx) error {
						_, err := tx.ExecContext(ctx, `UPDATE "order".orders SET total = total + 1 WHERE id = 'o1'`)
						return err
					})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var total int64
			if err := db.QueryRowContext(ctx, `SELECT total FROM "order".orders WHERE id = 'o1'`).Scan(&total); err != nil || total != 1270 {
				t.Fatalf("total=%d err=%v, want 1270", total, err)
			}
		})
	})
}

func TestMigrate(t *testing.T) {
	dbtest.Each(t, []string{"product"}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		v1 := sqldb.Migration{Version: 1, Name: "init", SQL: `CREATE TABLE product.items (id TEXT PRIMARY KEY)`}
		v2 := sqldb.Migration{Version: 2, Name: "price", SQL: `ALTER TABLE product.items ADD COLUMN price BIGINT NOT NULL DEFAULT 0`}
		bad := sqldb.Migration{Version: 3, Name: "broken", SQL: `CREATE TABLE product.half (id TEXT); CREATE TABLE product.nope (id NOSUCHTYPE(`}
		src := func(ms ...sqldb.Migration) []sqldb.Source {
			return []sqldb.Source{{Module: "commerce.product", Schema: "product", Migrations: ms}}
		}
		t.Run("AppliesOnce", func(t *testing.T) {
			applied, err := db.Migrate(ctx, src(v1, v2))
			if err != nil || len(applied) != 2 {
				t.Fatalf("applied=%v err=%v", applied, err)
			}
			applied, err = db.Migrate(ctx, src(v1, v2))
			if err != nil || len(applied) != 0 {
				t.Fatalf("second run applied=%v err=%v", applied, err)
			}
		})
		t.Run("FailureLeavesNothingHalfApplied", func(t *testing.T) {
			_, err := db.Migrate(ctx, src(v1, v2, bad))
			if err == nil || !strings.Contains(err.Error(), "0003_broken") {
				t.Fatalf("want error naming 0003_broken, got %v", err)
			}
			if _, err := db.ExecContext(ctx, `SELECT * FROM product.half`); err == nil {
				t.Fatal("product.half exists: the failed migration was half-applied")
			}
			st, err := db.MigrationStatus(ctx, src(v1, v2, bad))
			if err != nil {
				t.Fatal(err)
			}
			if len(st) != 3 || st[0].AppliedAt.IsZero() || st[1].AppliedAt.IsZero() || !st[2].AppliedAt.IsZero() {
				t.Fatalf("status %+v", st)
			}
		})
		t.Run("ChangedMigrationRefused", func(t *testing.T) {
			changed := v1
			changed.SQL += " -- edited"
			if _, err := db.Migrate(ctx, src(changed, v2)); err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
				t.Fatalf("want changed-migration error, got %v", err)
			}
		})
		t.Run("ConcurrentMigrators", func(t *testing.T) {
			v4 := sqldb.Migration{Version: 4, Name: "more", SQL: `CREATE TABLE product.more (id TEXT)`}
			var wg sync.WaitGroup
			counts := make([]int, 4)
			errs := make([]error, 4)
			for i := range counts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					applied, err := db.Migrate(ctx, src(v1, v2, v4))
					counts[i], errs[i] = len(applied), err
				}()
			}
			wg.Wait()
			total := 0
			for i := range counts {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				total += counts[i]
			}
			if total != 1 {
				t.Fatalf("migration applied %d times, want once", total)
			}
		})
	})
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"product/0001_init.sql":          {Data: []byte("shared")},
		"product/0002_search.sqlite.sql": {Data: []byte("fts5")},
		"product/0002_search.postgres.sql": {
			Data: []byte("tsvector"),
		},
		"product/0003_more.sql":        {Data: []byte("shared3")},
		"product/0003_more.sqlite.sql": {Data: []byte("sqlite3")},
	}
	for _, tc := range []struct {
		e    sqldb.Engine
		want []string
	}{
		{sqldb.SQLite, []string{"shared", "fts5", "sqlite3"}},
		{sqldb.Postgres, []string{"shared", "tsvector", "shared3"}},
	} {
		ms, err := sqldb.LoadFS(fsys, "product", tc.e)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.SQL)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v want %v", tc.e, got, tc.want)
		}
	}
	t.Run("ErrBadName", func(t *testing.T) {
		_, err := sqldb.LoadFS(fstest.MapFS{"m/init.sql": {Data: []byte("x")}}, "m", sqldb.SQLite)
		if err == nil || !strings.Contains(err.Error(), "NNNN_name.sql") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"mysql://x", "want postgres://"},
		{"postgres://u:secret@127.0.0.1:1/db?connect_timeout=2", "connect to PostgreSQL postgres://u:xxxxx@127.0.0.1:1/db"},
	} {
		_, err := sqldb.Open(ctx, sqldb.Config{URL: tc.url})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) = %v, want error containing %q without the password", tc.url, err, tc.want)
		}
	}
}
