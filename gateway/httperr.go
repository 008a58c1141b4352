package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/hyperrr/hyperrr/mdk"
)

// httpStatus is the one table mapping error codes to HTTP statuses. Domain
// codes (out_of_stock, payment_declined, ...) are requests that were
// understood but cannot be done: 422.
var httpStatus = map[mdk.Code]int{
	mdk.CodeInvalid:      http.StatusBadRequest,
	mdk.CodeNotFound:     http.StatusNotFound,
	mdk.CodeConflict:     http.StatusConflict,
	mdk.CodeUnauthorized: http.StatusUnauthorized,
	mdk.CodeForbidden:    http.StatusForbidden,
	mdk.CodeUnavailable:  http.StatusServiceUnavailable,
	mdk.CodeInternal:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int {
	if s, ok := httpStatus[mdk.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusUnprocessableEntity
}

type errorBody struct {
	Error  *mdk.Error   `json:"error"`
	Errors []*mdk.Error `json:"errors,omitempty"`
}

// writeError writes err as JSON with its status. Internal errors never leak
// their cause; Retryable errors get a Retry-After.
func writeError(w http.ResponseWriter, err error) {
	all := mdk.AllErrors(err)
	body := errorBody{Error: all[0]}
	if len(all) > 1 {
		body.Errors = all
	}
	if all[0].Retryable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, StatusOf(all[0]), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) //nolint:errcheck // the status is sent; a failed write means the client left
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
