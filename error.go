package wavedr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Error codes. They are the whole vocabulary of failure that crosses a
// package boundary; the HTTP layer maps each to one status code.
const (
	EINVALID      = "invalid"      // the request or document breaks a rule; Details name the fields
	ENOTFOUND     = "not_found"    // the named thing does not exist
	ECONFLICT     = "conflict"     // stale version, duplicate name, server already in use
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed
	EUNAUTHORIZED = "unauthorized" // not authenticated
	EQUOTA        = "quota"        // a DRS or wavedr quota is reached; retry later
	EUNAVAILABLE  = "unavailable"  // a dependency (AWS, database) cannot be reached now
	EINTERNAL     = "internal"     // a bug or an unexpected failure; details are logged, not shown
)

// FieldError names one broken rule: Field is a path such as
// "waves[1].dependsOn[0]" (or "" for the whole object), Rule says what is
// required, in words a user can act on.
type FieldError struct {
	Field string `json:"field,omitempty"`
	Rule  string `json:"rule"`
}

func (f FieldError) String() string {
	if f.Field == "" {
		return f.Rule
	}
	return f.Field + ": " + f.Rule
}

// Error is the one error type of wavedr. Foreign errors that reach a
// boundary without being wrapped in it are treated as EINTERNAL.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Details []FieldError `json:"details,omitempty"`
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.String()
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: "" for nil, the code of the first
// *Error in its chain, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message safe to show a user: the message of an
// *Error, or a generic text for any other error (whose details may leak
// internals and are only logged).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}

// Problems collects the broken rules of one validation so that a user sees
// all of them at once rather than one per attempt.
type Problems []FieldError

// Add records that field breaks the rule (formatted with args).
func (p *Problems) Add(field, rule string, args ...any) {
	*p = append(*p, FieldError{Field: field, Rule: fmt.Sprintf(rule, args...)})
}

// Merge records q's problems with prefix joined to each field path.
func (p *Problems) Merge(prefix string, q Problems) {
	for _, f := range q {
		*p = append(*p, FieldError{Field: JoinField(prefix, f.Field), Rule: f.Rule})
	}
}

// Err returns nil when nothing was recorded, or an EINVALID *Error whose
// message names what was validated.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "invalid " + what, Details: append([]FieldError(nil), p...)}
}

// JoinField joins field paths: JoinField("waves[1]", "name") is
// "waves[1].name"; an index part ("[2]") is appended without a dot.
func JoinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	}
	return prefix + "." + field
}

// Indexed returns the path of element i of the list field: "waves[2]".
func Indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// StaleVersion returns the ECONFLICT error of a write made against version
// stale of what, which is now at version current. Callers that can
// recompute their change read again and retry (see IsStaleVersion).
func StaleVersion(what string, stale, current int64) *Error {
	return &Error{
		Code:    ECONFLICT,
		Message: fmt.Sprintf("%s was changed by someone else; read it again and retry", what),
		Details: []FieldError{{Field: "version", Rule: fmt.Sprintf("%d is stale; the current version is %d", stale, current)}},
	}
}

// IsStaleVersion reports whether err is a stale-version conflict, as
// opposed to a conflict of substance (a taken name, a server in use).
func IsStaleVersion(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Code != ECONFLICT {
		return false
	}
	for _, d := range e.Details {
		if d.Field == "version" {
			return true
		}
	}
	return false
}
