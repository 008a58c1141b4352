// Package idempotency lets a client retry a request that must not run twice
// (complete_checkout) and get the first run's response back. The first
// request with a key records a hash of itself and, once done, its response
// in mdk.idempotency_keys; a retry with the same key and the same request
// replays that response, and the same key with a different request is
// refused.
//
// What a failed request leaves behind is the caller's choice, and it
// should follow ShouldAbandon: a deterministic business outcome such as
// payment_declined or out_of_stock is a response like any other, so it is
// stored with Complete and replayed (retrying must not charge a different
// card behind the client's back); an unexpected or transient failure
// (internal, unavailable, anything Retryable) is Abandoned, so the retry
// runs the request again.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// TTL is how long a key is remembered after its first use; after that
	// the key is new again (default 24h).
	TTL time.Duration
	// StaleAfter is how long a request may stay in progress before its
	// key is taken to be abandoned by a process that died (default 5m). It
	// must exceed the longest request, or a slow request and its retry
	// both run.
	StaleAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store keeps idempotency keys in mdk.idempotency_keys.
type Store struct {
	db   *sqldb.DB
	opts Options
}

// New returns a store over db, which must hold the mdk migrations.
func New(db *sqldb.DB, opts Options) *Store {
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{db: db, opts: opts}
}

// Outcome is what Begin decided.
type Outcome struct {
	// Replay is false for a new request: the caller does the work, then
	// calls Complete or Abandon. It is true when the same request already
	// completed, and Response holds what it returned.
	Replay   bool
	Response []byte
}

const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	maxKeyLength     = 255
)

// Begin claims key within scope (e.g. the operation and the customer) for a
// request whose hash is requestHash (see HashRequest). Expired keys, and
// keys left in progress longer than StaleAfter, are treated as new.
//
// Errors: invalid for an empty or over-long key; conflict when the key was
// used with a different request; conflict with Retryable set when a request
// with the key is still in progress.
func (s *Store) Begin(ctx context.Context, scope, key, requestHash string) (Outcome, error) {
	if err := validKey(scope, key); err != nil {
		return Outcome{}, err
	}
	if requestHash == "" {
		return Outcome{}, errors.New("begin idempotent request: the request hash is empty")
	}
	// A row that conflicts with the insert but is gone by the time it is
	// read was abandoned or purged meanwhile: start over.
	for range 3 {
		out, err := s.begin(ctx, scope, key, requestHash)
		if !errors.Is(err, errVanished) {
			return out, err
		}
	}
	return Outcome{}, &mdk.Error{Code: mdk.CodeConflict, Retryable: true,
		Message: "a request with this idempotency key is still in progress; retry shortly"}
}

var errVanished = errors.New("idempotency key vanished")

func (s *Store) begin(ctx context.Context, scope, key, requestHash string) (Outcome, error) {
	now := s.opts.Now()
	var out Outcome
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		out = Outcome{}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO mdk.idempotency_keys (scope, key, request_hash, status, created_at, expires_at)
			 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, key) DO NOTHING`,
			scope, key, requestHash, statusInProgress, now.UnixMilli(), now.Add(s.opts.TTL).UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var (
			hash, status       string
			response           sql.NullString
			createdAt, expires int64
		)
		err = tx.QueryRowContext(ctx,
			`SELECT request_hash, status, response, created_at, expires_at FROM mdk.idempotency_keys
			 WHERE scope = $1 AND key = $2`+s.db.ForUpdate(), scope, key).Scan(&hash, &status, &response, &createdAt, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return errVanished
		}
		if err != nil {
			return err
		}
		stale := status == statusInProgress && createdAt <= now.Add(-s.opts.StaleAfter).UnixMilli()
		switch {
		case expires <= now.UnixMilli() || stale:
			_, err := tx.ExecContext(ctx,
				`UPDATE mdk.idempotency_keys SET request_hash = $3, status = $4, response = NULL, created_at = $5, expires_at = $6
				 WHERE scope = $1 AND key = $2`,
				scope, key, requestHash, statusInProgress, now.UnixMilli(), now.Add(s.opts.TTL).UnixMilli())
			return err
		case hash != requestHash:
			return mdk.Errorf(mdk.CodeConflict, "idempotency key was used with a different request")
		case status == statusInProgress:
			return &mdk.Error{Code: mdk.CodeConflict, Retryable: true,
				Message: "a request with this idempotency key is still in progress; retry shortly"}
		}
		out = Outcome{Replay: true, Response: []byte(response.String)}
		return nil
	})
	if err != nil {
		var coded *mdk.Error
		if errors.As(err, &coded) || errors.Is(err, errVanished) {
			return Outcome{}, err
		}
		return Outcome{}, fmt.Errorf("begin idempotent request %s/%s: %w", scope, key, err)
	}
	return out, nil
}

// Complete stores the response of the request holding key, so retries
// replay it. The response must be UTF-8 text, as JSON is. It returns a
// conflict error when the key is not in progress (never begun, abandoned,
// expired and purged, or completed already).
func (s *Store) Complete(ctx context.Context, scope, key string, response []byte) error {
	if !utf8.Valid(response) || bytes.IndexByte(response, 0) >= 0 {
		return errors.New("complete idempotent request: the response must be UTF-8 text without NUL bytes")
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE mdk.idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2 AND status = $5`,
		scope, key, statusCompleted, string(response), statusInProgress)
	if err != nil {
		return fmt.Errorf("complete idempotent request %s/%s: %w", scope, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("complete idempotent request %s/%s: %w", scope, key, err)
	}
	if n == 0 {
		return mdk.Errorf(mdk.CodeConflict, "no request with this idempotency key is in progress")
	}
	return nil
}

// Abandon forgets key if its request is still in progress, so a retry runs
// the request again. A completed key is kept. Abandoning a key that is not
// there is not an error.
func (s *Store) Abandon(ctx context.Context, scope, key string) error {
	_, err := s.db.ExecContext(ctx,
		`DELETE FROM mdk.idempotency_keys WHERE scope = $1 AND key = $2 AND status = $3`, scope, key, statusInProgress)
	if err != nil {
		return fmt.Errorf("abandon idempotent request %s/%s: %w", scope, key, err)
	}
	return nil
}

// Purge deletes the keys expired at now and returns how many went. Expired
// keys already behave as new; purging only reclaims space.
func (s *Store) Purge(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mdk.idempotency_keys WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

// ShouldAbandon reports whether a request that failed with err should
// Abandon its key (the failure was unexpected or transient, so a retry may
// succeed) rather than Complete it with the error as its response (a
// deterministic outcome such as payment_declined, which a retry must
// replay).
func ShouldAbandon(err error) bool {
	if err == nil {
		return false
	}
	e := mdk.AsError(err)
	return e.Retryable || e.Code == mdk.CodeInternal || e.Code == mdk.CodeUnavailable
}

// HashRequest returns the hex SHA-256 of v's canonical JSON: object keys
// sorted and insignificant whitespace dropped, so equal requests hash
// equally however they were spelled (json.RawMessage included).
func HashRequest(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	// Decoding into an empty interface turns objects into maps, which the
	// encoder writes with sorted keys; UseNumber keeps numbers verbatim.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	var canonical bytes.Buffer
	enc := json.NewEncoder(&canonical)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(canonical.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

func validKey(scope, key string) error {
	switch {
	case scope == "":
		return errors.New("idempotency scope is empty")
	case key == "":
		return mdk.Invalid("idempotency_key", "the idempotency key must not be empty")
	case len(key) > maxKeyLength || !utf8.ValidString(key) || strings.ContainsRune(key, 0):
		return mdk.Invalid("idempotency_key", "the idempotency key must be UTF-8 text of at most %d bytes", maxKeyLength)
	}
	return nil
}
