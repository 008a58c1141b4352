package mdk_test

import (
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
)

func TestSecretID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := mdk.SecretID("cart_", 20)
		if err != nil {
			t.Fatal(err)
		}
		// 20 bytes are 160 bits: 32 base32 characters.
		if !strings.HasPrefix(id, "cart_") || len(id) != len("cart_")+32 || strings.ToLower(id) != id {
			t.Fatalf("id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}
