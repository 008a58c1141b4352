package main

import (
	"strings"
	"testing"
)

func TestBusNameHidesPasswords(t *testing.T) {
	got := busName("nats://svc:s3cret@nats-1:4222, nats://svc:s3cret@nats-2:4222")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "nats-1:4222") || !strings.Contains(got, "nats-2:4222") {
		t.Fatalf("busName = %q, want both servers without the password", got)
	}
	if got := busName(""); !strings.Contains(got, "HYPERRR_NATS_URL") {
		t.Fatalf("busName(\"\") = %q, want a hint naming HYPERRR_NATS_URL", got)
	}
}
