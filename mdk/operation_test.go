package mdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/mdk"
)

type variantIn struct {
	SKU   string `json:"sku" jsonschema:"stock keeping unit"`
	Price int64  `json:"price" jsonschema:"price in minor units"`
}

type createIn struct {
	Title    string      `json:"title" jsonschema:"product title"`
	Variants []variantIn `json:"variants,omitempty"`
}

func (in createIn) Validate() error {
	var errs []error
	for i, v := range in.Variants {
		if v.Price < 0 {
			errs = append(errs, mdk.Invalid(fmt.Sprintf("variants[%d].price", i), "must not be negative"))
		}
	}
	return errors.Join(errs...)
}

type createOut struct {
	ID string `json:"id"`
}

func newRegistry(t *testing.T) *mdk.Registry {
	t.Helper()
	r := mdk.NewRegistry(nil, nil)
	err := mdk.Register(r, mdk.Operation[createIn, createOut]{
		Name: "create_product", Description: "Create a product.", Access: mdk.AccessMerchant, Effect: mdk.EffectWrite,
		Handle: func(ctx context.Context, in createIn) (createOut, error) { return createOut{ID: "p_" + in.Title}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	err = mdk.Register(r, mdk.Operation[struct{}, createOut]{
		Name: "explode", Description: "Panics.", Access: mdk.AccessPublic, Effect: mdk.EffectRead,
		Handle: func(ctx context.Context, _ struct{}) (createOut, error) { panic("boom") },
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var merchant = mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleMerchant})

func TestRegistryCall(t *testing.T) {
	r := newRegistry(t)
	t.Run("OK", func(t *testing.T) {
		out, err := r.CallJSON(merchant, "create_product", json.RawMessage(`{"title":"desk","variants":[{"sku":"D1","price":100}]}`))
		if err != nil || out.(createOut).ID != "p_desk" {
			t.Fatalf("out=%v err=%v", out, err)
		}
		typed, err := mdk.Call[createIn, createOut](merchant, r, "create_product", createIn{Title: "chair"})
		if err != nil || typed.ID != "p_chair" {
			t.Fatalf("typed=%v err=%v", typed, err)
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		_, err := r.CallJSON(context.Background(), "create_product", json.RawMessage(`{"title":"x"}`))
		if mdk.ErrorCode(err) != mdk.CodeUnauthorized {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		ctx := mdk.WithPrincipal(context.Background(), mdk.Principal{Role: mdk.RoleShopper, CustomerID: "c1"})
		_, err := mdk.Call[createIn, createOut](ctx, r, "create_product", createIn{Title: "x"})
		if mdk.ErrorCode(err) != mdk.CodeForbidden {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrSchemaFieldPaths", func(t *testing.T) {
		_, err := r.CallJSON(merchant, "create_product", json.RawMessage(`{"variants":[{"sku":"A","price":1},{"sku":"B","price":"cheap"}],"colour":"red"}`))
		got := map[string]bool{}
		for _, e := range mdk.AllErrors(err) {
			if e.Code != mdk.CodeInvalid {
				t.Errorf("code %s, want invalid", e.Code)
			}
			got[e.Field] = true
		}
		for _, f := range []string{"title", "variants[1].price", "colour"} {
			if !got[f] {
				t.Errorf("no error on %s; got %v (%v)", f, got, err)
			}
		}
	})
	t.Run("ErrValidateMethod", func(t *testing.T) {
		_, err := r.CallJSON(merchant, "create_product", json.RawMessage(`{"title":"t","variants":[{"sku":"A","price":1},{"sku":"B","price":2},{"sku":"C","price":-5}]}`))
		errs := mdk.AllErrors(err)
		if len(errs) != 1 || errs[0].Field != "variants[2].price" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrBadJSON", func(t *testing.T) {
		_, err := r.CallJSON(merchant, "create_product", json.RawMessage(`{"title":`))
		if mdk.ErrorCode(err) != mdk.CodeInvalid {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrUnknownOperation", func(t *testing.T) {
		_, err := r.CallJSON(merchant, "nope", nil)
		if mdk.ErrorCode(err) != mdk.CodeNotFound {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("PanicBecomesInternal", func(t *testing.T) {
		_, err := r.CallJSON(context.Background(), "explode", nil)
		e := mdk.AsError(err)
		if e.Code != mdk.CodeInternal || strings.Contains(e.Message, "boom") {
			t.Fatalf("got %#v: want internal without the panic text in the message", e)
		}
	})
}

func TestRegistryListing(t *testing.T) {
	r := newRegistry(t)
	if n := len(r.ListFor(mdk.Anonymous)); n != 1 {
		t.Fatalf("anonymous sees %d operations, want 1", n)
	}
	if n := len(r.ListFor(mdk.Principal{Role: mdk.RoleMerchant})); n != 2 {
		t.Fatalf("merchant sees %d operations, want 2", n)
	}
	info, ok := r.Lookup("create_product")
	if !ok || info.InputSchema == nil || info.InputSchema.Properties["title"].Description != "product title" {
		t.Fatalf("input schema %+v", info.InputSchema)
	}
}

func TestRegisterErrors(t *testing.T) {
	r := newRegistry(t)
	h := func(ctx context.Context, in struct{}) (struct{}, error) { return struct{}{}, nil }
	for name, op := range map[string]mdk.Operation[struct{}, struct{}]{
		"duplicate": {Name: "explode", Description: "d", Access: mdk.AccessPublic, Effect: mdk.EffectRead, Handle: h},
		"bad name":  {Name: "Create-Product", Description: "d", Access: mdk.AccessPublic, Effect: mdk.EffectRead, Handle: h},
		"no access": {Name: "a_b", Description: "d", Effect: mdk.EffectRead, Handle: h},
		"no desc":   {Name: "a_c", Access: mdk.AccessPublic, Effect: mdk.EffectRead, Handle: h},
	} {
		if err := mdk.Register(r, op); err == nil {
			t.Errorf("%s: registered", name)
		}
	}
}
