package wavedr

import (
	"context"
	"time"
)

// AuditOutcome says how a recorded request ended.
type AuditOutcome string

const (
	AuditSucceeded AuditOutcome = "SUCCEEDED"
	AuditRefused   AuditOutcome = "REFUSED" // bad input, conflict, not found
	AuditDenied    AuditOutcome = "DENIED"  // authenticated but not permitted
	AuditFailed    AuditOutcome = "FAILED"  // the server failed
)

// AuditEntry records one mutating request: who asked for what, on what, and
// how it ended. Entries are only ever added.
type AuditEntry struct {
	ID        string       `json:"id"`
	At        time.Time    `json:"at"`
	Principal string       `json:"principal"` // Principal.String(), or "anonymous"
	Action    string       `json:"action"`    // e.g. "execution.pause"
	Target    string       `json:"target,omitempty"`
	Outcome   AuditOutcome `json:"outcome"`
	Status    int          `json:"status"` // the HTTP status answered
	Message   string       `json:"message,omitempty"`
	RequestID string       `json:"requestId"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Principal string
	Target    string
	Since     time.Time
	Until     time.Time
	Limit     int
	Cursor    string
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit stores e, giving it an ID when it has none.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns a page of entries, newest first; EINVALID for a bad
	// cursor or limit.
	ListAudit(ctx context.Context, f AuditFilter) (*Page[*AuditEntry], error)
}
