package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"wavedr"
)

var (
	_ wavedr.RecoveryPlanService = (*DB)(nil)
	_ wavedr.RecoveryPlanService = (*Tx)(nil)
)

const planColumns = `id, name, description, waves, version, created_at, updated_at`

func scanPlan(row interface{ Scan(...any) error }) (*wavedr.RecoveryPlan, error) {
	var p wavedr.RecoveryPlan
	err := row.Scan(&p.ID, &p.Name, &p.Description, jsonCol(&p.Waves), &p.Version,
		timeCol(&p.CreatedAt), timeCol(&p.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// FindRecoveryPlan returns the plan with the ID or (case-insensitive)
// name; ENOTFOUND if none.
func (db *DB) FindRecoveryPlan(ctx context.Context, idOrName string) (*wavedr.RecoveryPlan, error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.RecoveryPlan, error) { return tx.FindRecoveryPlan(ctx, idOrName) })
}

// FindRecoveryPlan: see [DB.FindRecoveryPlan].
func (tx *Tx) FindRecoveryPlan(ctx context.Context, idOrName string) (*wavedr.RecoveryPlan, error) {
	p, err := scanPlan(tx.queryRow(ctx, `SELECT `+planColumns+` FROM recovery_plans
		WHERE id = ? OR name_key = ?
		ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END
		LIMIT 1`, idOrName, strings.ToLower(idOrName), idOrName))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("recovery plan " + quote(idOrName))
	case err != nil:
		return nil, dbError("find recovery plan", err)
	}
	return p, nil
}

// ListRecoveryPlans returns a page of plans ordered by name
// (case-insensitively); EINVALID for a bad cursor or limit.
func (db *DB) ListRecoveryPlans(ctx context.Context, f wavedr.RecoveryPlanFilter) (*wavedr.Page[*wavedr.RecoveryPlan], error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.Page[*wavedr.RecoveryPlan], error) { return tx.ListRecoveryPlans(ctx, f) })
}

// ListRecoveryPlans: see [DB.ListRecoveryPlans].
func (tx *Tx) ListRecoveryPlans(ctx context.Context, f wavedr.RecoveryPlanFilter) (*wavedr.Page[*wavedr.RecoveryPlan], error) {
	return planList.page(ctx, tx, f.Limit, f.Cursor, filterDigest(), nil, nil)
}

var planList = byNameList[*wavedr.RecoveryPlan]{
	list: "plans", table: "recovery_plans", columns: planColumns, scan: scanPlan,
	key: func(p *wavedr.RecoveryPlan) (string, string) { return p.Name, p.ID },
}

// CreateRecoveryPlan validates p against the stored groups (in the same
// transaction), gives it an ID (when it has none) and version 1, and
// stores it; EINVALID with the broken rules, ECONFLICT if the name is
// taken (case-insensitively).
func (db *DB) CreateRecoveryPlan(ctx context.Context, p *wavedr.RecoveryPlan) error {
	return inTx(ctx, db, p, func(tx *Tx, c *wavedr.RecoveryPlan) error { return tx.CreateRecoveryPlan(ctx, c) })
}

// CreateRecoveryPlan: see [DB.CreateRecoveryPlan].
func (tx *Tx) CreateRecoveryPlan(ctx context.Context, p *wavedr.RecoveryPlan) error {
	c := *p
	if c.ID == "" {
		c.ID = wavedr.NewID(wavedr.PrefixRecoveryPlan, tx.now)
	}
	groupIDs, err := tx.validatePlan(ctx, &c)
	if err != nil {
		return err
	}
	waves, err := jsonArg(c.Waves)
	if err != nil {
		return err
	}
	now := tx.dialect.timeArg(tx.now)
	_, err = tx.exec(ctx, `INSERT INTO recovery_plans
		(id, name, name_key, description, waves, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
		c.ID, c.Name, strings.ToLower(c.Name), c.Description, waves, now, now)
	switch violationOf(err) {
	case primaryKeyViolation:
		return conflictf("recovery plan %s already exists", c.ID)
	case uniqueViolation:
		return conflictf("a recovery plan named %s already exists (names are unique regardless of case)", quote(c.Name))
	}
	if err != nil {
		return dbError("create recovery plan", err)
	}
	if err := tx.setPlanGroups(ctx, c.ID, groupIDs); err != nil {
		return err
	}
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = c.ID, 1, tx.now, tx.now
	return nil
}

// UpdateRecoveryPlan validates p against the stored groups and stores it
// if p.Version is the stored version, then increments p.Version; ENOTFOUND
// if the plan is gone, ECONFLICT on a stale version or a taken name.
// Running executions keep their own copy of the waves.
func (db *DB) UpdateRecoveryPlan(ctx context.Context, p *wavedr.RecoveryPlan) error {
	return inTx(ctx, db, p, func(tx *Tx, c *wavedr.RecoveryPlan) error { return tx.UpdateRecoveryPlan(ctx, c) })
}

// UpdateRecoveryPlan: see [DB.UpdateRecoveryPlan].
func (tx *Tx) UpdateRecoveryPlan(ctx context.Context, p *wavedr.RecoveryPlan) error {
	what := "recovery plan " + p.ID
	if p.ID == "" {
		return invalid(what, "id", "is required to update a recovery plan")
	}
	groupIDs, err := tx.validatePlan(ctx, p)
	if err != nil {
		return err
	}
	waves, err := jsonArg(p.Waves)
	if err != nil {
		return err
	}
	err = tx.queryRow(ctx, `UPDATE recovery_plans
		SET name = ?, name_key = ?, description = ?, waves = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?
		RETURNING created_at`,
		p.Name, strings.ToLower(p.Name), p.Description, waves, tx.dialect.timeArg(tx.now),
		p.ID, p.Version).Scan(timeCol(&p.CreatedAt))
	if violationOf(err) == uniqueViolation {
		return conflictf("a recovery plan named %s already exists (names are unique regardless of case)", quote(p.Name))
	}
	if err := tx.checkUpdated(ctx, err, "recovery_plans", p.ID, p.Version, what); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM plan_groups WHERE plan_id = ?`, p.ID); err != nil {
		return dbError("update plan groups", err)
	}
	if err := tx.setPlanGroups(ctx, p.ID, groupIDs); err != nil {
		return err
	}
	p.Version++
	p.UpdatedAt = tx.now
	return nil
}

// DeleteRecoveryPlan removes the plan at version; ECONFLICT while an
// execution of it is active or on a stale version, ENOTFOUND if it is
// gone. Executions of the plan that are over stay, as history. On an
// error from the Tx method, roll the transaction back.
func (db *DB) DeleteRecoveryPlan(ctx context.Context, id string, version int64) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.DeleteRecoveryPlan(ctx, id, version) })
}

// DeleteRecoveryPlan: see [DB.DeleteRecoveryPlan].
func (tx *Tx) DeleteRecoveryPlan(ctx context.Context, id string, version int64) error {
	what := "recovery plan " + id
	// Delete first, then look for active executions: on PostgreSQL the
	// delete waits for an execution being created from the plan (which
	// holds a shared lock on the plan's row), and the check then sees it.
	res, err := tx.exec(ctx, `DELETE FROM recovery_plans WHERE id = ? AND version = ?`, id, version)
	if err := tx.checkWritten(ctx, res, err, "recovery_plans", id, version, what); err != nil {
		return err
	}
	active := activeStatusArgs()
	ids, err := tx.queryStrings(ctx, `SELECT id FROM executions
		WHERE plan_id = ? AND status IN (`+placeholders(len(active))+`)
		ORDER BY created_at, id`, append([]any{id}, active...)...)
	if err != nil {
		return dbError("find executions of plan", err)
	}
	if len(ids) > 0 {
		return conflictf("%s has active executions %s; wait for them to end or cancel them", what, nameList(ids))
	}
	return nil
}

// validatePlan validates p against the stored groups its waves name and
// returns the IDs of those groups. On PostgreSQL the groups stay locked
// (shared) until the transaction ends, so none is renamed or deleted
// under the plan.
func (tx *Tx) validatePlan(ctx context.Context, p *wavedr.RecoveryPlan) ([]string, error) {
	var keys []any
	seen := map[string]bool{}
	for _, w := range p.Waves {
		for _, name := range w.Groups {
			k := strings.ToLower(name)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	groups := map[string]*wavedr.ProtectionGroup{}
	for start := 0; start < len(keys); start += maxInList {
		part := keys[start:min(start+maxInList, len(keys))]
		rows, err := tx.query(ctx, `SELECT `+groupColumns+` FROM protection_groups
			WHERE name_key IN (`+placeholders(len(part))+`)`+tx.dialect.lockShared(), part...)
		if err != nil {
			return nil, dbError("find plan groups", err)
		}
		for rows.Next() {
			g, err := scanGroup(rows)
			if err != nil {
				rows.Close()
				return nil, dbError("find plan groups", err)
			}
			groups[strings.ToLower(g.Name)] = g
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, dbError("find plan groups", err)
		}
	}
	lookup := func(name string) *wavedr.ProtectionGroup { return groups[strings.ToLower(name)] }
	if err := p.Validate(lookup); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	return ids, nil
}

// setPlanGroups records the groups the plan refers to.
func (tx *Tx) setPlanGroups(ctx context.Context, planID string, groupIDs []string) error {
	for _, gid := range groupIDs {
		if _, err := tx.exec(ctx, `INSERT INTO plan_groups (plan_id, group_id) VALUES (?, ?)`, planID, gid); err != nil {
			return dbError("record plan groups", err)
		}
	}
	return nil
}
