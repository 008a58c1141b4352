// Package outbox makes publishing an event atomic with the state change it
// announces. A module writes its events with Writer.Emit into
// <schema>.outbox in the same transaction as its own tables; once that
// transaction commits, a Relay publishes the rows to the bus and deletes
// them. If the transaction rolls back, the events never existed.
//
// Each module's outbox lives in the module's own schema (on SQLite, the
// same database file), because a transaction is only atomic within one
// file there.
//
// Delivery is at least once: a crash or a failed delete after the bus took
// the events publishes them again, and a bus may redeliver. Handlers
// therefore dedupe by event ID; Once, OnceTx and MarkProcessed do that with
// mdk.processed_events.
package outbox

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Source returns the migration that creates <schema>.outbox for engine e.
// The id column is what orders the relay, and its DDL is the one place
// where the engines differ.
func Source(e sqldb.Engine, schema string) sqldb.Source {
	id := "id INTEGER PRIMARY KEY AUTOINCREMENT"
	if e == sqldb.Postgres {
		id = "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	ddl := fmt.Sprintf(`CREATE TABLE %s (
    %s,
    event_id    TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    data        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
)`, table(schema), id)
	return sqldb.Source{
		Module:     "mdk.outbox/" + schema,
		Schema:     schema,
		Migrations: []sqldb.Migration{{Version: 1, Name: "outbox", SQL: ddl}},
	}
}

func table(schema string) string { return sqldb.QuoteIdent(schema) + ".outbox" }

// Writer writes events to one schema's outbox. Get it from Relay.Writer so
// that committed events wake the relay at once.
type Writer struct {
	schema string
	insert string
	wake   func()
}

// rowsPerInsert bounds one multi-row INSERT well below both engines'
// limits on bound parameters.
const rowsPerInsert = 200

func newWriter(schema string, wake func()) *Writer {
	return &Writer{
		schema: schema,
		insert: "INSERT INTO " + table(schema) + " (event_id, type, subject, data, occurred_at) VALUES ",
		wake:   wake,
	}
}

// Schema returns the schema whose outbox w writes.
func (w *Writer) Schema() string { return w.schema }

// Emit adds events to the outbox inside tx, in order; they are relayed
// only if tx commits. An event without a Time gets the current time; times
// are kept to the millisecond. It returns an invalid error for an event
// without an ID or type, and a conflict error for an event ID already in
// the outbox.
func (w *Writer) Emit(ctx context.Context, tx *sqldb.Tx, events ...mdk.Event) error {
	for i, e := range events {
		if e.ID == "" || e.Type == "" {
			return mdk.Invalid(fmt.Sprintf("events[%d]", i), "an event needs an ID and a type")
		}
	}
	for chunk := range slices.Chunk(events, rowsPerInsert) {
		if err := w.insertRows(ctx, tx, chunk); err != nil {
			return err
		}
	}
	if len(events) > 0 && w.wake != nil {
		tx.AfterCommit(w.wake)
	}
	return nil
}

func (w *Writer) insertRows(ctx context.Context, tx *sqldb.Tx, events []mdk.Event) error {
	var q strings.Builder
	q.WriteString(w.insert)
	args := make([]any, 0, 5*len(events))
	now := time.Now()
	for i, e := range events {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
		at := e.Time
		if at.IsZero() {
			at = now
		}
		args = append(args, e.ID, e.Type, e.Subject, string(e.Data), at.UnixMilli())
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return &mdk.Error{Code: mdk.CodeConflict, Message: "an event with this ID was already emitted", Cause: err}
		}
		return fmt.Errorf("emit %d events to %s outbox: %w", len(events), w.schema, err)
	}
	return nil
}

// placeholders returns "$from, $from+1, ..." for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$")
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}
