package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"wavedr"
)

var (
	_ wavedr.AuditStore = (*DB)(nil)
	_ wavedr.AuditStore = (*Tx)(nil)
)

// auditOutcomes are the outcomes an entry may record.
var auditOutcomes = []wavedr.AuditOutcome{wavedr.AuditSucceeded, wavedr.AuditRefused, wavedr.AuditDenied, wavedr.AuditFailed}

func outcomeList() string {
	names := make([]string, len(auditOutcomes))
	for i, o := range auditOutcomes {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

const auditColumns = `id, at, principal, action, target, outcome, status, message, request_id`

func scanAudit(row interface{ Scan(...any) error }) (*wavedr.AuditEntry, error) {
	var e wavedr.AuditEntry
	err := row.Scan(&e.ID, timeCol(&e.At), &e.Principal, &e.Action, &e.Target, &e.Outcome, &e.Status,
		&e.Message, &e.RequestID)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// AppendAudit stores e, giving it an ID when it has none and the
// transaction's time when At is zero (At is kept to the microsecond).
// EINVALID when the action or outcome is missing, the outcome is unknown,
// or the ID is not an audit ID; ECONFLICT if the ID is taken.
func (db *DB) AppendAudit(ctx context.Context, e *wavedr.AuditEntry) error {
	return inTx(ctx, db, e, func(tx *Tx, c *wavedr.AuditEntry) error { return tx.AppendAudit(ctx, c) })
}

// AppendAudit: see [DB.AppendAudit].
func (tx *Tx) AppendAudit(ctx context.Context, e *wavedr.AuditEntry) error {
	var p wavedr.Problems
	if e.ID != "" && !wavedr.ValidID(wavedr.PrefixAudit, e.ID) {
		p.Add("id", "must be an audit entry ID (%s-...) or empty", wavedr.PrefixAudit)
	}
	if e.Action == "" {
		p.Add("action", "is required")
	}
	switch {
	case e.Outcome == "":
		p.Add("outcome", "is required")
	case !slices.Contains(auditOutcomes, e.Outcome):
		p.Add("outcome", "must be one of %s", outcomeList())
	}
	if err := p.Err("audit entry"); err != nil {
		return err
	}
	c := *e
	c.At = normalTime(c.At)
	if c.At.IsZero() {
		c.At = tx.now
	}
	if c.ID == "" {
		c.ID = wavedr.NewID(wavedr.PrefixAudit, c.At)
	}
	_, err := tx.exec(ctx, `INSERT INTO audit_log
		(id, at, principal, action, target, outcome, status, message, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, tx.dialect.timeArg(c.At), c.Principal, c.Action, c.Target, string(c.Outcome), c.Status,
		c.Message, c.RequestID)
	if violationOf(err) == primaryKeyViolation {
		return conflictf("audit entry %s already exists", c.ID)
	}
	if err != nil {
		return dbError("append audit entry", err)
	}
	*e = c
	return nil
}

// ListAudit returns a page of entries, newest first (by time, then ID),
// that match every set field of f: the principal, the target, at or after
// Since and before Until. EINVALID for an empty time range, a bad limit,
// or a cursor that was not returned for the same filter.
func (db *DB) ListAudit(ctx context.Context, f wavedr.AuditFilter) (*wavedr.Page[*wavedr.AuditEntry], error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.Page[*wavedr.AuditEntry], error) { return tx.ListAudit(ctx, f) })
}

// ListAudit: see [DB.ListAudit].
func (tx *Tx) ListAudit(ctx context.Context, f wavedr.AuditFilter) (*wavedr.Page[*wavedr.AuditEntry], error) {
	limit, err := wavedr.PageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	since, until := normalTime(f.Since), normalTime(f.Until)
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return nil, invalid("audit filter", "until", "must be after since")
	}

	const list = "audit"
	digest := filterDigest(f.Principal, f.Target, micros(since), micros(until))
	var where []string
	var args []any
	if f.Principal != "" {
		where, args = append(where, "principal = ?"), append(args, f.Principal)
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if !since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, tx.dialect.timeArg(since))
	}
	if !until.IsZero() {
		where, args = append(where, "at < ?"), append(args, tx.dialect.timeArg(until))
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, list, digest)
		if err != nil {
			return nil, err
		}
		where = append(where, "(at, id) < (?, ?)")
		args = append(args, tx.dialect.timeArg(time.UnixMicro(c.Micros)), c.ID)
	}
	rows, err := tx.query(ctx, `SELECT `+auditColumns+` FROM audit_log`+whereClause(where)+`
		ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, dbError("list audit entries", err)
	}
	defer rows.Close()
	page := &wavedr.Page[*wavedr.AuditEntry]{Items: []*wavedr.AuditEntry{}}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, dbError("list audit entries", err)
		}
		page.Items = append(page.Items, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list audit entries", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = encodeCursor(cursor{List: list, Filter: digest, Micros: last.At.UnixMicro(), ID: last.ID})
	}
	return page, nil
}
