package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"wavedr"
)

// codeStatus maps each domain error code to the one HTTP status it is
// answered with. It is the only such table: handlers return errors, never
// statuses.
var codeStatus = map[string]int{
	wavedr.EINVALID:      http.StatusBadRequest,
	wavedr.EUNAUTHORIZED: http.StatusUnauthorized,
	wavedr.EFORBIDDEN:    http.StatusForbidden,
	wavedr.ENOTFOUND:     http.StatusNotFound,
	wavedr.ECONFLICT:     http.StatusConflict,
	wavedr.EQUOTA:        http.StatusTooManyRequests,
	wavedr.EUNAVAILABLE:  http.StatusServiceUnavailable,
	wavedr.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatusCode returns the HTTP status of a domain error code; unknown
// codes are internal errors.
func ErrorStatusCode(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// statusError is a refusal that HTTP itself defines (405, 413, 415): it
// keeps a domain code for the body but answers its own status.
type statusError struct {
	status int
	err    *wavedr.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// errorBody is the one error shape of the API.
type errorBody struct {
	Error *wavedr.Error `json:"error"`
}

// Error writes err in the API's error shape with its status. Internal
// errors are logged with the request ID and answered without their text.
// It is exported for the handlers written outside this file's package
// section (events, metrics, health), so that every error looks the same.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The client left or the server is stopping: not a failure of ours.
		err = wavedr.Errorf(wavedr.EUNAVAILABLE, "the request was cancelled before it completed")
	}
	status, body := errorResponse(err, st.requestID)
	switch {
	case status == http.StatusInternalServerError:
		st.logger.Error("http.internal_error", "requestId", st.requestID, "method", r.Method, "path", r.URL.Path, "err", err)
	case status >= 500:
		st.logger.Warn("http.unavailable", "requestId", st.requestID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	st.errMessage = body.Message
	if rec, ok := w.(*responseRecorder); ok && rec.status != 0 {
		// The answer has begun; the error can only be logged.
		st.logger.Warn("http.error_after_answer", "requestId", st.requestID, "path", r.URL.Path, "err", err)
		return
	}
	writeJSON(w, status, errorBody{Error: body})
}

// errorResponse returns the status and the body of err as a client sees it.
func errorResponse(err error, requestID string) (int, *wavedr.Error) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.err
	}
	code := wavedr.ErrorCode(err)
	status := ErrorStatusCode(code)
	var e *wavedr.Error
	if status == http.StatusInternalServerError || !errors.As(err, &e) {
		return http.StatusInternalServerError, &wavedr.Error{
			Code:    wavedr.EINTERNAL,
			Message: fmt.Sprintf("internal error (request ID %s)", requestID),
		}
	}
	// The message of a wrapped error keeps its context ("plan x: group y
	// ..."); the details are those of the domain error.
	return status, &wavedr.Error{Code: e.Code, Message: messageOf(err, e), Details: e.Details}
}

// messageOf returns the text of err without the details of e, which the
// body lists on their own.
func messageOf(err error, e *wavedr.Error) string {
	if err == error(e) {
		return e.Message
	}
	full := err.Error()
	if suffix := e.Error(); len(e.Details) > 0 && len(full) >= len(suffix) && full[len(full)-len(suffix):] == suffix {
		return full[:len(full)-len(suffix)] + e.Message
	}
	return full
}

// invalidf is an EINVALID error naming one field.
func invalidf(field, rule string, args ...any) *wavedr.Error {
	return &wavedr.Error{Code: wavedr.EINVALID, Message: "invalid request",
		Details: []wavedr.FieldError{{Field: field, Rule: fmt.Sprintf(rule, args...)}}}
}

func methodNotAllowed(method, path string) error {
	return &statusError{status: http.StatusMethodNotAllowed,
		err: wavedr.Errorf(wavedr.EINVALID, "method %s is not allowed on %s", method, path)}
}

func routeNotFound(path string) error {
	return wavedr.Errorf(wavedr.ENOTFOUND, "no API route %s", path)
}
