// Package mdk is the Module Development Kit: the contracts every Hyperrr module
// codes against (modules, operations, errors, principals, events, workflows)
// and the runtime handed to a module when it starts. The services behind the
// contracts live in the sub-packages named after what they hold (sqldb,
// membus, outbox, workflow, idempotency).
package mdk

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error so that every edge (GraphQL, MCP, HTTP) can map it
// once, in one table, without looking at messages.
type Code string

// The generic codes. Modules add domain codes (out_of_stock,
// payment_declined, ...) as their own Code constants.
const (
	CodeInvalid      Code = "invalid"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeUnavailable  Code = "unavailable"
	CodeInternal     Code = "internal"
)

// Error is the one error type of Hyperrr. Message is written for the person
// or agent who has to act on it; Field is the JSON path of the offending input
// ("variants[2].price") when there is one.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Retryable says the same request may succeed later unchanged (a
	// concurrent run holding a key, a dependency that is down).
	Retryable bool `json:"retryable,omitempty"`
	// Cause is kept for logs; it never reaches a client.
	Cause error `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Field != "" {
		b.WriteString(" ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid-input error on the given field path.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a not_found error naming what was looked for.
func NotFound(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected error; the client sees only a generic message.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Cause: cause}
}

// Unavailable wraps a failure of a dependency that may recover.
func Unavailable(cause error, format string, args ...any) *Error {
	return &Error{Code: CodeUnavailable, Message: fmt.Sprintf(format, args...), Retryable: true, Cause: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil
// and CodeInternal for any error that carries no code.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the first *Error in err's chain, or wraps err as internal.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// AllErrors flattens err into its coded errors: errors.Join of several field
// errors (one per bad input) yields each of them, in order.
func AllErrors(err error) []*Error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Error
		for _, e := range joined.Unwrap() {
			out = append(out, AllErrors(e)...)
		}
		return out
	}
	return []*Error{AsError(err)}
}
