package store

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"wavedr"
)

const summaryColumns = `id, plan_id, plan_name, mode, status, initiated_by, counts, waves_total, waves_done,
	created_at, started_at, ended_at, version`

func scanSummary(row interface{ Scan(...any) error }) (wavedr.ExecutionSummary, error) {
	var s wavedr.ExecutionSummary
	err := row.Scan(&s.ID, &s.PlanID, &s.PlanName, &s.Mode, &s.Status, &s.InitiatedBy, jsonCol(&s.Counts),
		&s.Waves, &s.WavesDone, timeCol(&s.CreatedAt), timeCol(&s.StartedAt), timeCol(&s.EndedAt), &s.Version)
	return s, err
}

// ListExecutions returns a page of summaries, newest first (by creation
// time, then ID), of the executions that match every set field of f: the
// plan, any of the statuses, created at or after Since and before Until.
// It reads the summary columns only, never the servers. EINVALID for an
// unknown status, an empty time range, a bad limit, or a cursor that was
// not returned for the same filter.
func (db *DB) ListExecutions(ctx context.Context, f wavedr.ExecutionFilter) (*wavedr.Page[wavedr.ExecutionSummary], error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.Page[wavedr.ExecutionSummary], error) { return tx.ListExecutions(ctx, f) })
}

// ListExecutions: see [DB.ListExecutions].
func (tx *Tx) ListExecutions(ctx context.Context, f wavedr.ExecutionFilter) (*wavedr.Page[wavedr.ExecutionSummary], error) {
	limit, err := wavedr.PageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var p wavedr.Problems
	statuses := make([]string, 0, len(f.Status))
	for i, s := range f.Status {
		if !s.Valid() {
			p.Add(wavedr.Indexed("status", i), "%q is not an execution status", s)
		}
		statuses = append(statuses, string(s))
	}
	since, until := normalTime(f.Since), normalTime(f.Until)
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		p.Add("until", "must be after since")
	}
	if err := p.Err("execution filter"); err != nil {
		return nil, err
	}
	sort.Strings(statuses)

	const list = "executions"
	digest := filterDigest(f.PlanID, strings.Join(statuses, ","), micros(since), micros(until))
	var where []string
	var args []any
	if f.PlanID != "" {
		where, args = append(where, "plan_id = ?"), append(args, f.PlanID)
	}
	if len(statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(statuses))+")")
		for _, s := range statuses {
			args = append(args, s)
		}
	}
	if !since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, tx.dialect.timeArg(since))
	}
	var c *cursor
	if f.Cursor != "" {
		dc, err := decodeCursor(f.Cursor, list, digest)
		if err != nil {
			return nil, err
		}
		c = &dc
	}
	// A cursor made for this filter is below until already. Given both
	// upper bounds, SQLite starts its index range at until and walks every
	// earlier page again, so until is left out once a cursor bounds the
	// range.
	if !until.IsZero() && (c == nil || c.Micros >= until.UnixMicro()) {
		where, args = append(where, "created_at < ?"), append(args, tx.dialect.timeArg(until))
	}
	if c != nil {
		where = append(where, "(created_at, id) < (?, ?)")
		args = append(args, tx.dialect.timeArg(time.UnixMicro(c.Micros)), c.ID)
	}
	rows, err := tx.query(ctx, `SELECT `+summaryColumns+` FROM executions`+whereClause(where)+`
		ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, dbError("list executions", err)
	}
	defer rows.Close()
	page := &wavedr.Page[wavedr.ExecutionSummary]{Items: []wavedr.ExecutionSummary{}}
	for rows.Next() {
		s, err := scanSummary(rows)
		if err != nil {
			return nil, dbError("list executions", err)
		}
		page.Items = append(page.Items, s)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list executions", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = encodeCursor(cursor{List: list, Filter: digest, Micros: last.CreatedAt.UnixMicro(), ID: last.ID})
	}
	return page, nil
}

// ActiveExecutionIDs returns the IDs of the executions whose status is
// one of wavedr.ActiveExecutionStatuses, oldest first.
func (db *DB) ActiveExecutionIDs(ctx context.Context) ([]string, error) {
	return readTx(ctx, db, func(tx *Tx) ([]string, error) { return tx.ActiveExecutionIDs(ctx) })
}

// ActiveExecutionIDs: see [DB.ActiveExecutionIDs].
func (tx *Tx) ActiveExecutionIDs(ctx context.Context) ([]string, error) {
	active := activeStatusArgs()
	ids, err := tx.queryStrings(ctx, `SELECT id FROM executions
		WHERE status IN (`+placeholders(len(active))+`)
		ORDER BY created_at, id`, active...)
	if err != nil {
		return nil, dbError("list active executions", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// CleaningExecutionIDs returns the IDs of the executions whose drill
// cleanup is in progress (TERMINATING), oldest first.
func (db *DB) CleaningExecutionIDs(ctx context.Context) ([]string, error) {
	return readTx(ctx, db, func(tx *Tx) ([]string, error) { return tx.CleaningExecutionIDs(ctx) })
}

// CleaningExecutionIDs: see [DB.CleaningExecutionIDs].
func (tx *Tx) CleaningExecutionIDs(ctx context.Context) ([]string, error) {
	ids, err := tx.queryStrings(ctx, `SELECT id FROM executions WHERE cleanup_status = ?
		ORDER BY created_at, id`, string(wavedr.CleanupTerminating))
	if err != nil {
		return nil, dbError("list cleanups in progress", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// activeStatusArgs are wavedr.ActiveExecutionStatuses as query arguments.
func activeStatusArgs() []any {
	out := make([]any, len(wavedr.ActiveExecutionStatuses))
	for i, s := range wavedr.ActiveExecutionStatuses {
		out[i] = string(s)
	}
	return out
}

func micros(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}
