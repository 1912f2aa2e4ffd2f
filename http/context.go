package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"

	"wavedr"
)

type contextKey int

const stateKey contextKey = 1

// requestState is what the middleware learns about one request: its ID,
// who made it, and how it ended. Handlers add the audit target of what
// they create.
type requestState struct {
	requestID  string
	logger     *slog.Logger
	principal  *wavedr.Principal
	target     string // the audited object, when the path has no ID (a creation)
	errMessage string // the message of the error answered, for the audit log
}

// stateOf returns the request's state; a request that did not go through
// the middleware (a handler tested alone) gets a fresh one.
func stateOf(r *http.Request) *requestState {
	if st, ok := r.Context().Value(stateKey).(*requestState); ok {
		return st
	}
	return &requestState{requestID: "-", logger: slog.Default()}
}

// PrincipalFromContext returns the authenticated caller of the request
// whose context is ctx, or nil.
func PrincipalFromContext(ctx context.Context) *wavedr.Principal {
	if st, ok := ctx.Value(stateKey).(*requestState); ok {
		return st.principal
	}
	return nil
}

// RequestIDFromContext returns the request ID (X-Request-Id) of the
// request whose context is ctx, or "".
func RequestIDFromContext(ctx context.Context) string {
	if st, ok := ctx.Value(stateKey).(*requestState); ok {
		return st.requestID
	}
	return ""
}

// RequestIDHeader carries the request ID in both directions.
const RequestIDHeader = "X-Request-Id"

// requestID returns the client's request ID when it is a reasonable token
// (so logs can be joined with the client's), or a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get(RequestIDHeader); validRequestID(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// validRequestID accepts 1-128 visible ASCII characters other than quotes
// and backslashes, so an ID is safe in logs and headers.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
