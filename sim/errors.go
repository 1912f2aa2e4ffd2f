package sim

import (
	"encoding/json"
)

// errKind is a failure independent of the protocol; each service renders it
// with its own code, status and body.
type errKind int

const (
	errValidation   errKind = iota // the input breaks a rule
	errMalformed                   // the input cannot be parsed
	errThrottled                   // rate exceeded
	errInternal                    // 500
	errUnavailable                 // 503
	errConflict                    // a resource is busy
	errQuota                       // a service quota is reached
	errNotFound                    // the named resource does not exist
	errAccessDenied                // not allowed
	errUnknownOp                   // no such operation
)

// apiError is a failure answer. code, when set, is the service's own error
// code (EC2 InvalidInstanceID.NotFound); otherwise the kind picks it.
type apiError struct {
	status       int
	kind         errKind
	code         string
	message      string
	reason       string // DRS ValidationException reason
	fields       []fieldProblem
	resourceID   string
	resourceType string
	quotaCode    string
	retryAfter   int
}

type fieldProblem struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.message }

func invalid(field, message string) *apiError {
	return &apiError{kind: errValidation, message: message, reason: "fieldValidationFailed",
		fields: []fieldProblem{{Name: field, Message: message}}}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func statusOr(status, def int) int {
	if status != 0 {
		return status
	}
	return def
}
