// Package apikey issues, lists, revokes and checks API keys. A key is shown
// once when created; only the SHA-256 of its secret is stored. Keys are 256
// bits of randomness, so a fast hash is enough (no password stretching).
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Key describes an issued key (never its secret).
type Key struct {
	Prefix     string // public part, "hyr_ab12cd34ef"
	Role       mdk.Role
	CustomerID string
	Label      string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// Store keeps keys in mdk.api_keys.
type Store struct {
	db *sqldb.DB
}

// New returns a store over db (migrated with the mdk migrations).
func New(db *sqldb.DB) *Store { return &Store{db: db} }

const keyPrefix = "hyr_"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Create issues a key and returns it in full; it cannot be shown again.
// Errors: invalid (bad role, shopper without customer ID).
func (s *Store) Create(ctx context.Context, role mdk.Role, customerID, label string) (string, Key, error) {
	switch role {
	case mdk.RoleMerchant:
		if customerID != "" {
			return "", Key{}, mdk.Invalid("customer", "merchant keys act for the store, not a customer: leave --customer out")
		}
	case mdk.RoleShopper:
		if customerID == "" {
			return "", Key{}, mdk.Invalid("customer", "shopper keys need a customer ID (--customer)")
		}
	default:
		return "", Key{}, mdk.Invalid("role", "role %q: want merchant or shopper", role)
	}
	buf := make([]byte, 5+32)
	if _, err := rand.Read(buf); err != nil {
		return "", Key{}, fmt.Errorf("generate key: %w", err)
	}
	prefix := keyPrefix + strings.ToLower(b32.EncodeToString(buf[:5]))
	secret := strings.ToLower(b32.EncodeToString(buf[5:]))
	k := Key{Prefix: prefix, Role: role, CustomerID: customerID, Label: label, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	_, err := s.db.ExecContext(ctx, `INSERT INTO mdk.api_keys (prefix, secret_hash, role, customer_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		prefix, hashSecret(secret), string(role), customerID, label, k.CreatedAt.UnixMilli())
	if err != nil {
		return "", Key{}, fmt.Errorf("store key: %w", err)
	}
	return prefix + "_" + secret, k, nil
}

// List returns keys whose prefix starts with prefix ("" for all), newest
// first.
func (s *Store) List(ctx context.Context, prefix string) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT prefix, role, customer_id, label, created_at, revoked_at FROM mdk.api_keys
		WHERE prefix LIKE $1 ESCAPE '\' ORDER BY created_at DESC, prefix`, escapeLike(prefix)+"%")
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var (
			k         Key
			role      string
			created   int64
			revokedAt sql.NullInt64
		)
		if err := rows.Scan(&k.Prefix, &role, &k.CustomerID, &k.Label, &created, &revokedAt); err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		k.Role = mdk.Role(role)
		k.CreatedAt = time.UnixMilli(created).UTC()
		if revokedAt.Valid {
			t := time.UnixMilli(revokedAt.Int64).UTC()
			k.RevokedAt = &t
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Revoke makes the key with this prefix unusable from now on.
// Errors: not_found.
func (s *Store) Revoke(ctx context.Context, prefix string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE mdk.api_keys SET revoked_at = $1 WHERE prefix = $2 AND revoked_at IS NULL`,
		time.Now().UnixMilli(), prefix)
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke key: %w", err)
	} else if n == 0 {
		return mdk.NotFound("no active key with prefix %s", prefix)
	}
	return nil
}

// ErrBadKey is returned for any key that does not authenticate; the reason
// (unknown, malformed, revoked) is not told to the caller.
var ErrBadKey = &mdk.Error{Code: mdk.CodeUnauthorized, Message: "invalid or revoked API key"}

// Authenticate turns a presented key into its principal. Errors: ErrBadKey,
// or an unavailable error when the database cannot be read.
func (s *Store) Authenticate(ctx context.Context, token string) (mdk.Principal, error) {
	// hyr_<8 chars>_<52 chars>
	if !strings.HasPrefix(token, keyPrefix) {
		return mdk.Principal{}, ErrBadKey
	}
	i := strings.LastIndexByte(token, '_')
	if i <= len(keyPrefix) {
		return mdk.Principal{}, ErrBadKey
	}
	prefix, secret := token[:i], token[i+1:]
	var (
		hash, role, customer string
		revokedAt            sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT secret_hash, role, customer_id, revoked_at FROM mdk.api_keys WHERE prefix = $1`, prefix).
		Scan(&hash, &role, &customer, &revokedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return mdk.Principal{}, ErrBadKey
	}
	if err != nil {
		return mdk.Principal{}, mdk.Unavailable(err, "cannot check API keys right now; retry shortly")
	}
	if revokedAt.Valid || subtle.ConstantTimeCompare([]byte(hash), []byte(hashSecret(secret))) != 1 {
		return mdk.Principal{}, ErrBadKey
	}
	return mdk.Principal{Role: mdk.Role(role), CustomerID: customer, KeyID: prefix}, nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
