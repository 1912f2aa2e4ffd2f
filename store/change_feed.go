package store

import (
	"context"
	"sort"
	"time"

	"wavedr"
)

// The reads here serve the live event stream, metrics and readiness. They
// run outside any transaction: they are single statements polled often,
// and a transaction would take SQLite's write lock (BEGIN IMMEDIATE) for a
// read.

// ExecutionVersion is an execution's ID and stored version: what a change
// feed compares with the copy it last saw.
type ExecutionVersion struct {
	ID      string
	Version int64
}

// WatchedExecutions returns, ordered by ID, the ID and version of every
// execution a change feed watches: those not yet over, those written
// within the last recent by the database's clock (changed_at, kept by a
// trigger, so the clocks of the writing processes do not matter), and
// those named in ids, whatever their state.
func (db *DB) WatchedExecutions(ctx context.Context, recent time.Duration, ids []string) ([]ExecutionVersion, error) {
	active := activeStatusArgs()
	cutoff := `CAST(unixepoch('subsec') * 1000000 AS INTEGER) - ?`
	if db.dialect == Postgres {
		cutoff = `now() - CAST(? AS bigint) * interval '1 microsecond'`
	}
	found := map[string]int64{}
	read := func(query string, args ...any) error {
		rows, err := db.sql.QueryContext(ctx, db.dialect.rebind(query), args...)
		if err != nil {
			return dbError("watch executions", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v ExecutionVersion
			if err := rows.Scan(&v.ID, &v.Version); err != nil {
				return dbError("watch executions", err)
			}
			found[v.ID] = v.Version
		}
		return dbError("watch executions", rows.Err())
	}
	err := read(`SELECT id, version FROM executions
		WHERE status IN (`+placeholders(len(active))+`) OR changed_at >= `+cutoff,
		append(active, recent.Microseconds())...)
	if err != nil {
		return nil, err
	}
	for len(ids) > 0 {
		n := min(len(ids), maxInList)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := read(`SELECT id, version FROM executions WHERE id IN (`+placeholders(n)+`)`, args...); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	out := make([]ExecutionVersion, 0, len(found))
	for id, v := range found {
		out = append(out, ExecutionVersion{ID: id, Version: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StatusCounts are the numbers of stored executions by status, and of
// their waves by status. Every known status is present, with 0 if need be.
type StatusCounts struct {
	Executions map[wavedr.ExecutionStatus]int
	Waves      map[wavedr.WaveStatus]int
}

// StatusCounts counts the stored executions and waves by status.
func (db *DB) StatusCounts(ctx context.Context) (*StatusCounts, error) {
	c := &StatusCounts{Executions: map[wavedr.ExecutionStatus]int{}, Waves: map[wavedr.WaveStatus]int{}}
	for _, s := range []wavedr.ExecutionStatus{wavedr.ExecutionPending, wavedr.ExecutionRunning,
		wavedr.ExecutionPaused, wavedr.ExecutionCancelling, wavedr.ExecutionCompleted,
		wavedr.ExecutionPartial, wavedr.ExecutionFailed, wavedr.ExecutionCancelled} {
		c.Executions[s] = 0
	}
	for _, s := range []wavedr.WaveStatus{wavedr.WavePending, wavedr.WaveLaunching, wavedr.WaveInProgress,
		wavedr.WaveCompleted, wavedr.WavePartial, wavedr.WaveFailed, wavedr.WaveCancelled, wavedr.WaveSkipped} {
		c.Waves[s] = 0
	}
	err := db.countBy(ctx, "count executions", `SELECT status, count(*) FROM executions GROUP BY status`,
		func(status string, n int) { c.Executions[wavedr.ExecutionStatus(status)] = n })
	if err != nil {
		return nil, err
	}
	err = db.countBy(ctx, "count waves", `SELECT status, count(*) FROM execution_waves GROUP BY status`,
		func(status string, n int) { c.Waves[wavedr.WaveStatus(status)] = n })
	if err != nil {
		return nil, err
	}
	return c, nil
}

// JobCount is the number of the job queue's jobs of one kind in one state.
type JobCount struct {
	Kind  string
	State string // River's job state: available, scheduled, running, retryable, completed, cancelled, discarded, pending
	Count int
}

// JobCounts counts the job queue's jobs by kind and state, ordered by
// kind and state. It reads River's river_job table (created by River's
// own migrator, not by the store), so it fails until the job engine has
// been opened once on the database.
func (db *DB) JobCounts(ctx context.Context) ([]JobCount, error) {
	// River's state is an enum on PostgreSQL and text on SQLite.
	rows, err := db.sql.QueryContext(ctx, `SELECT kind, CAST(state AS TEXT), count(*) FROM river_job
		GROUP BY kind, state ORDER BY kind, 2`)
	if err != nil {
		return nil, dbError("count jobs", err)
	}
	defer rows.Close()
	out := []JobCount{}
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, dbError("count jobs", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("count jobs", err)
	}
	return out, nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.sql.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return dbError("ping", err)
	}
	return nil
}

// CheckJobQueue checks that the job queue's tables can be read: River has
// migrated them and the database lets this process read them.
func (db *DB) CheckJobQueue(ctx context.Context) error {
	var id int64
	err := db.sql.QueryRowContext(ctx, `SELECT id FROM river_job LIMIT 1`).Scan(&id)
	if err != nil && !isNoRows(err) {
		return dbError("read the job queue", err)
	}
	return nil
}

// countBy runs a query of (text, count) rows and hands each to add.
func (db *DB) countBy(ctx context.Context, op, query string, add func(string, int)) error {
	rows, err := db.sql.QueryContext(ctx, query)
	if err != nil {
		return dbError(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			return dbError(op, err)
		}
		add(key, n)
	}
	return dbError(op, rows.Err())
}
