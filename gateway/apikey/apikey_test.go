package apikey_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/gateway/apikey"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/dbtest"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func mustStore(t *testing.T, db *sqldb.DB) *apikey.Store {
	t.Helper()
	dbtest.MigrateMDK(t, db)
	return apikey.New(db)
}

func TestKeys(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := mustStore(t, db)
		shopperKey, shopper, err := s.Create(ctx, mdk.RoleShopper, "cust_1", "mobile app")
		if err != nil {
			t.Fatal(err)
		}
		merchantKey, _, err := s.Create(ctx, mdk.RoleMerchant, "", "")
		if err != nil {
			t.Fatal(err)
		}
		t.Run("Authenticate", func(t *testing.T) {
			p, err := s.Authenticate(ctx, shopperKey)
			if err != nil || p.Role != mdk.RoleShopper || p.CustomerID != "cust_1" || p.KeyID != shopper.Prefix {
				t.Fatalf("p=%+v err=%v", p, err)
			}
			p, err = s.Authenticate(ctx, merchantKey)
			if err != nil || !p.IsMerchant() {
				t.Fatalf("p=%+v err=%v", p, err)
			}
		})
		t.Run("ErrBadKey", func(t *testing.T) {
			for _, bad := range []string{"", "hyr_", "nope", shopper.Prefix + "_wrongsecret", shopperKey + "x", strings.Replace(shopperKey, "hyr_", "hyr_x", 1)} {
				if _, err := s.Authenticate(ctx, bad); mdk.ErrorCode(err) != mdk.CodeUnauthorized {
					t.Errorf("Authenticate(%q) = %v, want unauthorized", bad, err)
				}
			}
		})
		t.Run("ListByPrefix", func(t *testing.T) {
			all, err := s.List(ctx, "")
			if err != nil || len(all) != 2 {
				t.Fatalf("all=%v err=%v", all, err)
			}
			one, err := s.List(ctx, shopper.Prefix[:8])
			if err != nil || len(one) < 1 || one[0].Prefix[:8] != shopper.Prefix[:8] {
				t.Fatalf("one=%v err=%v", one, err)
			}
			none, err := s.List(ctx, "hyr_%")
			if err != nil || len(none) != 0 {
				t.Fatalf("LIKE wildcard not escaped: %v err=%v", none, err)
			}
		})
		t.Run("Revoke", func(t *testing.T) {
			if err := s.Revoke(ctx, shopper.Prefix); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, shopperKey); mdk.ErrorCode(err) != mdk.CodeUnauthorized {
				t.Fatalf("revoked key authenticates: %v", err)
			}
			if err := s.Revoke(ctx, shopper.Prefix); mdk.ErrorCode(err) != mdk.CodeNotFound {
				t.Fatalf("second revoke: %v", err)
			}
			keys, _ := s.List(ctx, shopper.Prefix)
			if len(keys) != 1 || keys[0].RevokedAt == nil {
				t.Fatalf("listing does not show revocation: %+v", keys)
			}
		})
		t.Run("ErrInvalidRole", func(t *testing.T) {
			if _, _, err := s.Create(ctx, "admin", "", ""); mdk.ErrorCode(err) != mdk.CodeInvalid {
				t.Fatal(err)
			}
			if _, _, err := s.Create(ctx, mdk.RoleShopper, "", ""); mdk.ErrorCode(err) != mdk.CodeInvalid {
				t.Fatal(err)
			}
		})
	})
}
