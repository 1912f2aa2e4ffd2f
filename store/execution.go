package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"wavedr"
)

var (
	_ wavedr.ExecutionStore = (*DB)(nil)
	_ wavedr.ExecutionStore = (*Tx)(nil)
)

// requests are an execution's operator requests not yet in effect, kept in
// one JSON column.
type requests struct {
	Pause  *wavedr.Request `json:"pause,omitempty"`
	Resume *wavedr.Request `json:"resume,omitempty"`
	Cancel *wavedr.Request `json:"cancel,omitempty"`
}

const executionColumns = `id, plan_id, plan_name, plan_version, mode, status, initiated_by, reason,
	pause, requests, cleanup, created_at, started_at, ended_at, last_polled_at, version`

func scanExecution(row interface{ Scan(...any) error }) (*wavedr.Execution, error) {
	var e wavedr.Execution
	var r requests
	err := row.Scan(&e.ID, &e.PlanID, &e.PlanName, &e.PlanVersion, &e.Mode, &e.Status, &e.InitiatedBy, &e.Reason,
		jsonCol(&e.Pause), jsonCol(&r), jsonCol(&e.Cleanup),
		timeCol(&e.CreatedAt), timeCol(&e.StartedAt), timeCol(&e.EndedAt), timeCol(&e.LastPolledAt), &e.Version)
	if err != nil {
		return nil, err
	}
	e.PauseRequest, e.ResumeRequest, e.CancelRequest = r.Pause, r.Resume, r.Cancel
	return &e, nil
}

// executionArgs are the stored values of e's columns that change over
// its life, from status to cleanup_status, in the order of the INSERT and
// UPDATE below.
func (tx *Tx) executionArgs(e *wavedr.Execution) ([]any, error) {
	pause, err := jsonArg(e.Pause)
	if err != nil {
		return nil, err
	}
	reqs, err := jsonArg(requests{Pause: e.PauseRequest, Resume: e.ResumeRequest, Cancel: e.CancelRequest})
	if err != nil {
		return nil, err
	}
	cleanup, err := jsonArg(e.Cleanup)
	if err != nil {
		return nil, err
	}
	sum := e.Summary()
	counts, err := jsonArg(sum.Counts)
	if err != nil {
		return nil, err
	}
	d := tx.dialect
	return []any{string(e.Status), e.Reason, pause, reqs, cleanup, counts, sum.Waves, sum.WavesDone,
		d.timeArg(e.StartedAt), d.timeArg(e.EndedAt), d.timeArg(e.LastPolledAt), string(e.Cleanup.Status)}, nil
}

// CreateExecution stores a new execution with every wave and server, with
// version 1; it gives the execution an ID when it has none and CreatedAt
// when that is zero. EINVALID if the execution is malformed (no wave, two
// waves with one name or number, a server twice in a wave), ENOTFOUND if
// its plan is not stored, ECONFLICT if the ID exists.
func (db *DB) CreateExecution(ctx context.Context, e *wavedr.Execution) error {
	return inTx(ctx, db, e, func(tx *Tx, c *wavedr.Execution) error { return tx.CreateExecution(ctx, c) })
}

// CreateExecution: see [DB.CreateExecution].
func (tx *Tx) CreateExecution(ctx context.Context, e *wavedr.Execution) error {
	c := *e
	if c.ID == "" {
		c.ID = wavedr.NewID(wavedr.PrefixExecution, tx.now)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = tx.now
	}
	normalizeExecutionTimes(&c)
	if err := checkExecution(&c); err != nil {
		return err
	}
	// The plan must exist; on PostgreSQL its row stays locked (shared)
	// until the transaction ends, so it is not deleted meanwhile.
	var planID string
	err := tx.queryRow(ctx, `SELECT id FROM recovery_plans WHERE id = ?`+tx.dialect.lockShared(), c.PlanID).Scan(&planID)
	switch {
	case isNoRows(err):
		return notFound("recovery plan " + quote(c.PlanID))
	case err != nil:
		return dbError("find plan of execution", err)
	}
	args, err := tx.executionArgs(&c)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO executions
		(status, reason, pause, requests, cleanup, counts, waves_total, waves_done,
		 started_at, ended_at, last_polled_at, cleanup_status,
		 id, plan_id, plan_name, plan_version, mode, initiated_by, created_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		append(args, c.ID, c.PlanID, c.PlanName, c.PlanVersion, string(c.Mode), c.InitiatedBy,
			tx.dialect.timeArg(c.CreatedAt))...)
	if v := violationOf(err); v == primaryKeyViolation || v == uniqueViolation {
		return conflictf("execution %s already exists", c.ID)
	}
	if err != nil {
		return dbError("create execution", err)
	}
	if err := tx.writeWaves(ctx, &c, nil); err != nil {
		return err
	}
	c.Version = 1
	*e = c
	return nil
}

// FindExecution returns the execution with every wave (ordered by number)
// and server (in the order they were stored in their wave); ENOTFOUND if
// none.
func (db *DB) FindExecution(ctx context.Context, id string) (*wavedr.Execution, error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.Execution, error) { return tx.FindExecution(ctx, id) })
}

// FindExecution: see [DB.FindExecution].
func (tx *Tx) FindExecution(ctx context.Context, id string) (*wavedr.Execution, error) {
	e, err := scanExecution(tx.queryRow(ctx, `SELECT `+executionColumns+` FROM executions WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("execution " + quote(id))
	case err != nil:
		return nil, dbError("find execution", err)
	}
	if err := tx.readWaves(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// UpdateExecution stores e, with every wave and server, if e.Version is
// the stored version, and increments e.Version; ENOTFOUND if the
// execution is gone, ECONFLICT on a stale version (nothing is changed),
// EINVALID if e is malformed or its waves are not the stored ones (waves
// are added at creation only, and keyed by name). Servers no longer listed
// in a wave are removed from it. The plan, mode, initiator and creation
// time are fixed at creation: e gets the stored ones back.
func (db *DB) UpdateExecution(ctx context.Context, e *wavedr.Execution) error {
	return inTx(ctx, db, e, func(tx *Tx, c *wavedr.Execution) error { return tx.UpdateExecution(ctx, c) })
}

// UpdateExecution: see [DB.UpdateExecution].
func (tx *Tx) UpdateExecution(ctx context.Context, e *wavedr.Execution) error {
	what := "execution " + e.ID
	c := *e
	normalizeExecutionTimes(&c)
	if err := checkExecution(&c); err != nil {
		return err
	}
	args, err := tx.executionArgs(&c)
	if err != nil {
		return err
	}
	// What an execution is (its plan, mode, initiator, creation time) is
	// fixed when it is created; the stored values are read back.
	err = tx.queryRow(ctx, `UPDATE executions
		SET status = ?, reason = ?, pause = ?, requests = ?, cleanup = ?, counts = ?,
		    waves_total = ?, waves_done = ?, started_at = ?, ended_at = ?, last_polled_at = ?,
		    cleanup_status = ?, version = version + 1
		WHERE id = ? AND version = ?
		RETURNING plan_id, plan_name, plan_version, mode, initiated_by, created_at`,
		append(args, c.ID, c.Version)...).Scan(&c.PlanID, &c.PlanName, &c.PlanVersion, &c.Mode, &c.InitiatedBy, timeCol(&c.CreatedAt))
	if err := tx.checkUpdated(ctx, err, "executions", c.ID, c.Version, what); err != nil {
		return err
	}
	stored, err := tx.queryStrings(ctx, `SELECT wave_name FROM execution_waves WHERE execution_id = ?`, c.ID)
	if err != nil {
		return dbError("read waves of "+what, err)
	}
	if err := sameWaves(&c, stored); err != nil {
		return err
	}
	if err := tx.writeWaves(ctx, &c, stored); err != nil {
		return err
	}
	c.Version++
	*e = c
	return nil
}

// normalizeExecutionTimes puts the times kept in columns in the form they
// are read back in: UTC, to the microsecond.
func normalizeExecutionTimes(e *wavedr.Execution) {
	e.CreatedAt = normalTime(e.CreatedAt)
	e.StartedAt = normalTime(e.StartedAt)
	e.EndedAt = normalTime(e.EndedAt)
	e.LastPolledAt = normalTime(e.LastPolledAt)
}

// checkExecution reports what makes e impossible to store.
func checkExecution(e *wavedr.Execution) error {
	var p wavedr.Problems
	if !wavedr.ValidID(wavedr.PrefixExecution, e.ID) {
		p.Add("id", "must be an execution ID (ex-...)")
	}
	if e.PlanID == "" {
		p.Add("planId", "is required")
	}
	if !e.Mode.Valid() {
		p.Add("mode", "must be DRILL or RECOVERY, not %q", e.Mode)
	}
	if !e.Status.Valid() {
		p.Add("status", "%q is not an execution status", e.Status)
	}
	if len(e.Waves) == 0 {
		p.Add("waves", "an execution holds every wave of its plan; it has none")
	}
	names, numbers := map[string]bool{}, map[int]bool{}
	for i, w := range e.Waves {
		f := wavedr.Indexed("waves", i)
		if w == nil {
			p.Add(f, "is missing")
			continue
		}
		switch {
		case w.Name == "":
			p.Add(f+".name", "is required")
		case names[w.Name]:
			p.Add(f+".name", "%q is the name of another wave", w.Name)
		}
		names[w.Name] = true
		switch {
		case w.Number < 1:
			p.Add(f+".number", "must be at least 1")
		case numbers[w.Number]:
			p.Add(f+".number", "%d is the number of another wave", w.Number)
		}
		numbers[w.Number] = true
		if !w.Status.Valid() {
			p.Add(f+".status", "%q is not a wave status", w.Status)
		}
		servers := map[string]bool{}
		for j, s := range w.Servers {
			sf := wavedr.Indexed(f+".servers", j)
			switch {
			case s == nil:
				p.Add(sf, "is missing")
			case s.SourceServerID == "":
				p.Add(sf+".sourceServerId", "is required")
			case servers[s.SourceServerID]:
				p.Add(sf+".sourceServerId", "%s is listed twice in the wave", s.SourceServerID)
			default:
				servers[s.SourceServerID] = true
			}
			if s != nil && !s.Status.Valid() {
				p.Add(sf+".status", "%q is not a server status", s.Status)
			}
		}
	}
	return p.Err("execution " + e.ID)
}

// sameWaves checks that e carries exactly the stored waves.
func sameWaves(e *wavedr.Execution, stored []string) error {
	var p wavedr.Problems
	have := map[string]bool{}
	for _, name := range stored {
		have[name] = true
		if e.Wave(name) == nil {
			p.Add("waves", "wave %q is missing; an update carries every wave", name)
		}
	}
	for i, w := range e.Waves {
		if !have[w.Name] {
			p.Add(wavedr.Indexed("waves", i)+".name", "%q is not a wave of this execution; waves are set when it is created", w.Name)
		}
	}
	return p.Err("execution " + e.ID)
}

// writeWaves upserts the waves and servers of e that differ from what is
// stored, keyed by wave name and source server ID, and deletes the stored
// servers e no longer lists. Each row keeps a digest of its last write, so
// an update that changes a few servers writes a few rows. stored names the
// waves already stored (nil on create).
func (tx *Tx) writeWaves(ctx context.Context, e *wavedr.Execution, stored []string) error {
	waveStmt, err := tx.tx.PrepareContext(ctx, tx.dialect.rebind(`INSERT INTO execution_waves
		(execution_id, wave_name, wave_number, status, data, digest) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (execution_id, wave_name) DO UPDATE
		SET wave_number = excluded.wave_number, status = excluded.status, data = excluded.data, digest = excluded.digest`))
	if err != nil {
		return dbError("write waves", err)
	}
	defer waveStmt.Close()
	serverStmt, err := tx.tx.PrepareContext(ctx, tx.dialect.rebind(`INSERT INTO execution_servers
		(execution_id, wave_name, source_server_id, position, status, data, digest) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (execution_id, wave_name, source_server_id) DO UPDATE
		SET position = excluded.position, status = excluded.status, data = excluded.data, digest = excluded.digest`))
	if err != nil {
		return dbError("write servers", err)
	}
	defer serverStmt.Close()

	var digests map[rowKey]string // as stored; what is left at the end is gone
	if stored != nil {
		if digests, err = tx.rowDigests(ctx, e.ID); err != nil {
			return err
		}
	}
	for _, w := range e.Waves {
		doc := *w
		doc.Servers = nil // stored as rows of their own
		data, err := json.Marshal(&doc)
		if err != nil {
			return fmt.Errorf("store: encode wave %q: %w", w.Name, err)
		}
		d := rowDigest(w.Number, data)
		if old, ok := digests[rowKey{w.Name, ""}]; !ok || old != d {
			if _, err := waveStmt.ExecContext(ctx, e.ID, w.Name, w.Number, string(w.Status), string(data), d); err != nil {
				return dbError("write wave "+quote(w.Name), err)
			}
		}
		delete(digests, rowKey{w.Name, ""})
		for i, s := range w.Servers {
			data, err := json.Marshal(s)
			if err != nil {
				return fmt.Errorf("store: encode server %s: %w", s.SourceServerID, err)
			}
			k := rowKey{w.Name, s.SourceServerID}
			d := rowDigest(i, data)
			if old, ok := digests[k]; !ok || old != d {
				if _, err := serverStmt.ExecContext(ctx, e.ID, w.Name, s.SourceServerID, i, string(s.Status), string(data), d); err != nil {
					return dbError("write server "+s.SourceServerID, err)
				}
			}
			delete(digests, k)
		}
	}
	for k := range digests {
		if k.server == "" {
			continue // sameWaves has checked that every stored wave is still there
		}
		if _, err := tx.exec(ctx, `DELETE FROM execution_servers
			WHERE execution_id = ? AND wave_name = ? AND source_server_id = ?`, e.ID, k.wave, k.server); err != nil {
			return dbError("remove server "+k.server, err)
		}
	}
	return nil
}

// rowKey names a wave row (server "") or a server row of an execution.
type rowKey struct{ wave, server string }

// rowDigests reads the digests of the stored wave and server rows of an
// execution; a wave's own row has the server "".
func (tx *Tx) rowDigests(ctx context.Context, id string) (map[rowKey]string, error) {
	out := map[rowKey]string{}
	rows, err := tx.query(ctx, `SELECT wave_name, '', digest FROM execution_waves WHERE execution_id = ?
		UNION ALL SELECT wave_name, source_server_id, digest FROM execution_servers WHERE execution_id = ?`, id, id)
	if err != nil {
		return nil, dbError("read rows of execution "+id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k rowKey
		var d string
		if err := rows.Scan(&k.wave, &k.server, &d); err != nil {
			return nil, dbError("read rows of execution "+id, err)
		}
		out[k] = d
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read rows of execution "+id, err)
	}
	return out, nil
}

// rowDigest identifies what a wave or server row holds: its position and
// its JSON document (which carries its status).
func rowDigest(position int, data []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", position)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// readWaves loads e's waves, ordered by number, each with its servers in
// their stored order.
func (tx *Tx) readWaves(ctx context.Context, e *wavedr.Execution) error {
	rows, err := tx.query(ctx, `SELECT wave_name, wave_number, status, data FROM execution_waves
		WHERE execution_id = ? ORDER BY wave_number, wave_name`, e.ID)
	if err != nil {
		return dbError("read waves", err)
	}
	byName := map[string]*wavedr.WaveRun{}
	e.Waves = []*wavedr.WaveRun{}
	for rows.Next() {
		w := &wavedr.WaveRun{}
		var name, status string
		var number int
		if err := rows.Scan(&name, &number, &status, jsonCol(w)); err != nil {
			rows.Close()
			return dbError("read waves", err)
		}
		w.Name, w.Number, w.Status = name, number, wavedr.WaveStatus(status)
		w.Servers = []*wavedr.ServerRun{}
		if w.Jobs == nil {
			w.Jobs = []wavedr.WaveJob{}
		}
		byName[name] = w
		e.Waves = append(e.Waves, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbError("read waves", err)
	}

	rows, err = tx.query(ctx, `SELECT wave_name, data FROM execution_servers
		WHERE execution_id = ? ORDER BY wave_name, position, source_server_id`, e.ID)
	if err != nil {
		return dbError("read servers", err)
	}
	defer rows.Close()
	for rows.Next() {
		var wave string
		s := &wavedr.ServerRun{}
		if err := rows.Scan(&wave, jsonCol(s)); err != nil {
			return dbError("read servers", err)
		}
		if w := byName[wave]; w != nil {
			w.Servers = append(w.Servers, s)
		}
	}
	if err := rows.Err(); err != nil {
		return dbError("read servers", err)
	}
	return nil
}
