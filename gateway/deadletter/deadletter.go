// Package deadletter keeps the events a bus subscription gave up on in
// mdk.dead_letters, where every instance's dead letters meet, and offers
// the merchant operation list_dead_letters to read them. Both buses feed it
// (the gateway adapts their dead-letter callbacks to Put).
package deadletter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Letter is one event a subscription gave up on.
type Letter struct {
	Subscription string          `json:"subscription" jsonschema:"the subscription (consumer) that gave up, e.g. commerce.cart.order-placed"`
	EventID      string          `json:"event_id" jsonschema:"the event's ID; handlers dedupe by it, so replaying it is safe"`
	EventType    string          `json:"event_type" jsonschema:"the event type, e.g. order.placed"`
	Subject      string          `json:"subject" jsonschema:"the entity the event is about, e.g. an order ID"`
	Data         json.RawMessage `json:"data,omitempty" jsonschema:"the event's payload as published"`
	OccurredAt   time.Time       `json:"occurred_at" jsonschema:"when the event happened"`
	Attempts     int             `json:"attempts" jsonschema:"how many times the handler was tried"`
	Error        string          `json:"error" jsonschema:"the last attempt's error message: usually says what to fix"`
	Instance     string          `json:"instance,omitempty" jsonschema:"the server instance that gave up"`
	DeadAt       time.Time       `json:"dead_at" jsonschema:"when it was given up on"`
}

// Store keeps dead letters in mdk.dead_letters.
type Store struct {
	db *sqldb.DB
}

// New returns a store over db (migrated with the mdk migrations).
func New(db *sqldb.DB) *Store { return &Store{db: db} }

// Put records l; the same event dead-lettered again for the same
// subscription updates its row.
func (s *Store) Put(ctx context.Context, l Letter) error {
	data := string(l.Data)
	if data == "" {
		data = "null"
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO mdk.dead_letters
		(subscription, event_id, event_type, subject, data, occurred_at, attempts, error, instance, dead_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (subscription, event_id) DO UPDATE SET
			attempts = excluded.attempts, error = excluded.error, instance = excluded.instance, dead_at = excluded.dead_at`,
		l.Subscription, l.EventID, l.EventType, l.Subject, data, l.OccurredAt.UnixMilli(),
		l.Attempts, l.Error, l.Instance, l.DeadAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store dead letter %s/%s: %w", l.Subscription, l.EventID, err)
	}
	return nil
}

// ListInput is list_dead_letters' input.
type ListInput struct {
	Subscription string `json:"subscription,omitempty" jsonschema:"only this subscription's dead letters"`
	Limit        int    `json:"limit,omitempty" jsonschema:"most letters to return, 1 to 200 (default 50)"`
	Cursor       string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

// Validate checks the limit.
func (in ListInput) Validate() error {
	if in.Limit < 0 || in.Limit > 200 {
		return mdk.Invalid("limit", "limit must be 1 to 200 (or omitted for 50)")
	}
	return nil
}

// ListOutput is list_dead_letters' output.
type ListOutput struct {
	DeadLetters []Letter `json:"dead_letters" jsonschema:"newest first"`
	NextCursor  string   `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last page"`
}

// List returns dead letters newest first, a page at a time. It returns an
// invalid error for a malformed cursor.
func (s *Store) List(ctx context.Context, in ListInput) (ListOutput, error) {
	limit := in.Limit
	if limit == 0 {
		limit = 50
	}
	q := `SELECT subscription, event_id, event_type, subject, data, occurred_at, attempts, error, instance, dead_at
		FROM mdk.dead_letters WHERE ($1 = '' OR subscription = $1)`
	args := []any{in.Subscription}
	if in.Cursor != "" {
		at, sub, id, err := decodeCursor(in.Cursor)
		if err != nil {
			return ListOutput{}, err
		}
		q += ` AND (dead_at < $2 OR (dead_at = $2 AND (subscription > $3 OR (subscription = $3 AND event_id > $4))))`
		args = append(args, at, sub, id)
	}
	q += fmt.Sprintf(` ORDER BY dead_at DESC, subscription, event_id LIMIT %d`, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return ListOutput{}, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	out := ListOutput{DeadLetters: []Letter{}}
	for rows.Next() {
		var (
			l              Letter
			data           string
			occurred, dead int64
		)
		if err := rows.Scan(&l.Subscription, &l.EventID, &l.EventType, &l.Subject, &data, &occurred, &l.Attempts, &l.Error, &l.Instance, &dead); err != nil {
			return ListOutput{}, fmt.Errorf("read dead letter: %w", err)
		}
		if data != "null" {
			l.Data = json.RawMessage(data)
		}
		l.OccurredAt, l.DeadAt = time.UnixMilli(occurred).UTC(), time.UnixMilli(dead).UTC()
		out.DeadLetters = append(out.DeadLetters, l)
	}
	if err := rows.Err(); err != nil {
		return ListOutput{}, fmt.Errorf("list dead letters: %w", err)
	}
	if len(out.DeadLetters) > limit {
		out.DeadLetters = out.DeadLetters[:limit]
		last := out.DeadLetters[limit-1]
		out.NextCursor = encodeCursor(last.DeadAt.UnixMilli(), last.Subscription, last.EventID)
	}
	return out, nil
}

func encodeCursor(at int64, sub, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "\x00" + sub + "\x00" + id))
}

func decodeCursor(c string) (int64, string, string, error) {
	bad := mdk.Invalid("cursor", "cursor is not one returned by list_dead_letters; omit it to start from the newest")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", "", bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return 0, "", "", bad
	}
	at, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, "", "", bad
	}
	return at, parts[1], parts[2], nil
}

// Register adds the merchant operation list_dead_letters to r.
func Register(r *mdk.Registry, s *Store) error {
	return mdk.Register(r, mdk.Operation[ListInput, ListOutput]{
		Name: "list_dead_letters",
		Description: "List events that a background consumer (search indexing, order follow-up such as marking a cart completed) " +
			"gave up on after retrying, newest first, with the last error. Use it when something that should have happened " +
			"after an event did not (a product missing from search, a cart still open after its order). Each entry names " +
			"the subscription, the event and why it failed. Dead letters are not retried by themselves: fix the cause, then " +
			"repeat the change that emitted the event (for example update the product again). Read-only; pages with cursor.",
		Access:     mdk.AccessMerchant,
		Effect:     mdk.EffectRead,
		Idempotent: true,
		Handle:     s.List,
	})
}
