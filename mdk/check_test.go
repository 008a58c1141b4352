package mdk_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
)

// TestRegistryCheck proves Check answers as CallJSON would, without
// running the handler.
func TestRegistryCheck(t *testing.T) {
	r := mdk.NewRegistry(nil, nil)
	ran := 0
	err := mdk.Register(r, mdk.Operation[createIn, createOut]{
		Name: "create_product", Description: "Create a product.", Access: mdk.AccessMerchant, Effect: mdk.EffectWrite,
		Handle: func(ctx context.Context, in createIn) (createOut, error) { ran++; return createOut{ID: in.Title}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	shopper := mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleShopper, CustomerID: "c1"})
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		op    string
		input string
		code  mdk.Code
		field string
	}{
		{"OK", merchant, "create_product", `{"title":"desk","variants":[{"sku":"D1","price":100}]}`, "", ""},
		{"ErrUnknownOperation", merchant, "drop_tables", `{}`, mdk.CodeNotFound, ""},
		{"ErrUnauthorized", context.Background(), "create_product", `{"title":"desk"}`, mdk.CodeUnauthorized, ""},
		{"ErrForbidden", shopper, "create_product", `{"title":"desk"}`, mdk.CodeForbidden, ""},
		{"ErrSchema", merchant, "create_product", `{"title":7}`, mdk.CodeInvalid, "title"},
		{"ErrValidate", merchant, "create_product", `{"title":"desk","variants":[{"sku":"D1","price":-1}]}`, mdk.CodeInvalid, "variants[0].price"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checked := r.Check(tc.ctx, tc.op, json.RawMessage(tc.input))
			if mdk.ErrorCode(checked) != tc.code && !(tc.code == "" && checked == nil) {
				t.Fatalf("Check: %v, want code %q", checked, tc.code)
			}
			if tc.field != "" && mdk.AsError(checked).Field != tc.field {
				t.Errorf("Check field %q, want %q (%v)", mdk.AsError(checked).Field, tc.field, checked)
			}
			if ran != 0 {
				t.Fatalf("Check ran the handler")
			}
			_, called := r.CallJSON(tc.ctx, tc.op, json.RawMessage(tc.input))
			if mdk.ErrorCode(called) != mdk.ErrorCode(checked) || (called == nil) != (checked == nil) {
				t.Errorf("CallJSON answered %v, Check %v", called, checked)
			}
			ran = 0
		})
	}
}
