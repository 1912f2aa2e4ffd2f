package http

import (
	"context"
	"net/http"
	"time"

	"wavedr"
)

// auditTimeout bounds the write of one audit entry; it runs after the
// request's own context may have ended (a client that hung up).
const auditTimeout = 10 * time.Second

// audit records a mutating request with its outcome. A failed write does
// not change the answer (already given); it is logged with the request ID
// so that the gap in the log can be explained.
func (s *Server) audit(r *http.Request, rt route, rec *responseRecorder) {
	st := stateOf(r)
	status := rec.statusCode()
	target := st.target
	if target == "" {
		target = r.PathValue("id")
	}
	e := &wavedr.AuditEntry{
		Principal: st.principal.String(),
		Action:    rt.action,
		Target:    target,
		Outcome:   auditOutcome(status),
		Status:    status,
		Message:   st.errMessage,
		RequestID: st.requestID,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	if err := s.db.AppendAudit(ctx, e); err != nil {
		st.logger.Error("audit.write_failed", "requestId", st.requestID, "action", rt.action,
			"principal", e.Principal, "target", target, "status", status, "err", err)
	}
}

// auditOutcome classifies an answered status.
func auditOutcome(status int) wavedr.AuditOutcome {
	switch {
	case status < 400:
		return wavedr.AuditSucceeded
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return wavedr.AuditDenied
	case status < 500:
		return wavedr.AuditRefused
	}
	return wavedr.AuditFailed
}

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "principal", "target", "since", "until", "limit", "cursor")
	f := wavedr.AuditFilter{Principal: q.str("principal"), Target: q.str("target"), Since: q.time("since"),
		Until: q.time("until"), Cursor: q.str("cursor"), Limit: q.limit()}
	if err := q.err(); err != nil {
		return err
	}
	page, err := s.db.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
