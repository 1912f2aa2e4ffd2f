package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"wavedr"
)

var (
	_ wavedr.ProtectionGroupService = (*DB)(nil)
	_ wavedr.ProtectionGroupService = (*Tx)(nil)
)

const groupColumns = `id, name, description, account_id, region, server_ids, selector, launch_settings,
	version, created_at, updated_at`

func scanGroup(row interface{ Scan(...any) error }) (*wavedr.ProtectionGroup, error) {
	var g wavedr.ProtectionGroup
	err := row.Scan(&g.ID, &g.Name, &g.Description, strCol(&g.AccountID), &g.Region,
		jsonCol(&g.ServerIDs), jsonCol(&g.Selector), jsonCol(&g.LaunchSettings),
		&g.Version, timeCol(&g.CreatedAt), timeCol(&g.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// groupArgs are the stored values of g's columns from name to region and
// the JSON documents, in the order of the INSERT and UPDATE below.
func groupArgs(g *wavedr.ProtectionGroup) ([]any, error) {
	servers, err := jsonArg(g.ServerIDs)
	if err != nil {
		return nil, err
	}
	selector, err := jsonArg(g.Selector)
	if err != nil {
		return nil, err
	}
	launch, err := jsonArg(g.LaunchSettings)
	if err != nil {
		return nil, err
	}
	return []any{g.Name, strings.ToLower(g.Name), g.Description, nullString(g.AccountID), g.Region,
		servers, selector, launch}, nil
}

// FindProtectionGroup returns the group with the ID or (case-insensitive)
// name; ENOTFOUND if none.
func (db *DB) FindProtectionGroup(ctx context.Context, idOrName string) (*wavedr.ProtectionGroup, error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.ProtectionGroup, error) { return tx.FindProtectionGroup(ctx, idOrName) })
}

// FindProtectionGroup: see [DB.FindProtectionGroup].
func (tx *Tx) FindProtectionGroup(ctx context.Context, idOrName string) (*wavedr.ProtectionGroup, error) {
	g, err := scanGroup(tx.queryRow(ctx, `SELECT `+groupColumns+` FROM protection_groups
		WHERE id = ? OR name_key = ?
		ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END
		LIMIT 1`, idOrName, strings.ToLower(idOrName), idOrName))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("protection group " + quote(idOrName))
	case err != nil:
		return nil, dbError("find protection group", err)
	}
	return g, nil
}

// ListProtectionGroups returns a page of groups ordered by name
// (case-insensitively), filtered by account and region when they are set.
// EINVALID for a bad cursor or limit.
func (db *DB) ListProtectionGroups(ctx context.Context, f wavedr.ProtectionGroupFilter) (*wavedr.Page[*wavedr.ProtectionGroup], error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.Page[*wavedr.ProtectionGroup], error) {
		return tx.ListProtectionGroups(ctx, f)
	})
}

// ListProtectionGroups: see [DB.ListProtectionGroups].
func (tx *Tx) ListProtectionGroups(ctx context.Context, f wavedr.ProtectionGroupFilter) (*wavedr.Page[*wavedr.ProtectionGroup], error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.Region != "" {
		where, args = append(where, "region = ?"), append(args, f.Region)
	}
	return groupList.page(ctx, tx, f.Limit, f.Cursor, filterDigest(f.AccountID, f.Region), where, args)
}

var groupList = byNameList[*wavedr.ProtectionGroup]{
	list: "groups", table: "protection_groups", columns: groupColumns, scan: scanGroup,
	key: func(g *wavedr.ProtectionGroup) (string, string) { return g.Name, g.ID },
}

// CreateProtectionGroup validates g, gives it an ID (when it has none) and
// version 1, and stores it; EINVALID with the broken rules (an account ID
// must name a stored account), ECONFLICT if the name is taken
// (case-insensitively).
func (db *DB) CreateProtectionGroup(ctx context.Context, g *wavedr.ProtectionGroup) error {
	return inTx(ctx, db, g, func(tx *Tx, c *wavedr.ProtectionGroup) error { return tx.CreateProtectionGroup(ctx, c) })
}

// CreateProtectionGroup: see [DB.CreateProtectionGroup].
func (tx *Tx) CreateProtectionGroup(ctx context.Context, g *wavedr.ProtectionGroup) error {
	c := *g
	if c.ID == "" {
		c.ID = wavedr.NewID(wavedr.PrefixProtectionGroup, tx.now)
	}
	if err := tx.validateGroup(ctx, &c); err != nil {
		return err
	}
	args, err := groupArgs(&c)
	if err != nil {
		return err
	}
	now := tx.dialect.timeArg(tx.now)
	_, err = tx.exec(ctx, `INSERT INTO protection_groups
		(name, name_key, description, account_id, region, server_ids, selector, launch_settings,
		 id, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, append(args, c.ID, now, now)...)
	switch violationOf(err) {
	case primaryKeyViolation:
		return conflictf("protection group %s already exists", c.ID)
	case uniqueViolation:
		return conflictf("a protection group named %s already exists (names are unique regardless of case)", quote(c.Name))
	}
	if err != nil {
		return dbError("create protection group", err)
	}
	g.ID, g.Version, g.CreatedAt, g.UpdatedAt = c.ID, 1, tx.now, tx.now
	return nil
}

// UpdateProtectionGroup validates g and stores it if g.Version is the
// stored version, then increments g.Version; ENOTFOUND if the group is
// gone, ECONFLICT on a stale version, a taken name, or a rename while
// plans refer to the group by its name.
func (db *DB) UpdateProtectionGroup(ctx context.Context, g *wavedr.ProtectionGroup) error {
	return inTx(ctx, db, g, func(tx *Tx, c *wavedr.ProtectionGroup) error { return tx.UpdateProtectionGroup(ctx, c) })
}

// UpdateProtectionGroup: see [DB.UpdateProtectionGroup].
func (tx *Tx) UpdateProtectionGroup(ctx context.Context, g *wavedr.ProtectionGroup) error {
	what := "protection group " + g.ID
	if g.ID == "" {
		return invalid(what, "id", "is required to update a protection group")
	}
	if err := tx.validateGroup(ctx, g); err != nil {
		return err
	}
	// Lock the row before looking at the plans that refer to it, so that a
	// plan saved concurrently either sees the new name or blocks the rename.
	var oldName, oldKey string
	err := tx.queryRow(ctx, `SELECT name, name_key FROM protection_groups WHERE id = ?`+tx.dialect.lockUpdate(), g.ID).Scan(&oldName, &oldKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(what)
	case err != nil:
		return dbError("update "+what, err)
	}
	if newKey := strings.ToLower(g.Name); newKey != oldKey {
		plans, err := tx.plansUsingGroup(ctx, g.ID)
		if err != nil {
			return err
		}
		if len(plans) > 0 {
			return conflictf("protection group %s cannot be renamed to %s: plans %s refer to it by name; change them first",
				quote(oldName), quote(g.Name), nameList(plans))
		}
	}
	args, err := groupArgs(g)
	if err != nil {
		return err
	}
	err = tx.queryRow(ctx, `UPDATE protection_groups
		SET name = ?, name_key = ?, description = ?, account_id = ?, region = ?,
		    server_ids = ?, selector = ?, launch_settings = ?,
		    version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?
		RETURNING created_at`, append(args, tx.dialect.timeArg(tx.now), g.ID, g.Version)...).Scan(timeCol(&g.CreatedAt))
	if violationOf(err) == uniqueViolation {
		return conflictf("a protection group named %s already exists (names are unique regardless of case)", quote(g.Name))
	}
	if err := tx.checkUpdated(ctx, err, "protection_groups", g.ID, g.Version, what); err != nil {
		return err
	}
	g.Version++
	g.UpdatedAt = tx.now
	return nil
}

// DeleteProtectionGroup removes the group at version; ECONFLICT while a
// plan uses it or on a stale version, ENOTFOUND if it is gone.
func (db *DB) DeleteProtectionGroup(ctx context.Context, id string, version int64) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.DeleteProtectionGroup(ctx, id, version) })
}

// DeleteProtectionGroup: see [DB.DeleteProtectionGroup].
func (tx *Tx) DeleteProtectionGroup(ctx context.Context, id string, version int64) error {
	what := "protection group " + id
	plans, err := tx.plansUsingGroup(ctx, id)
	if err != nil {
		return err
	}
	if len(plans) > 0 {
		return conflictf("%s is used by plans %s; remove it from them first", what, nameList(plans))
	}
	res, err := tx.exec(ctx, `DELETE FROM protection_groups WHERE id = ? AND version = ?`, id, version)
	if violationOf(err) == foreignKeyViolation {
		return conflictf("%s is used by a plan; remove it from the plan first", what)
	}
	return tx.checkWritten(ctx, res, err, "protection_groups", id, version, what)
}

// validateGroup checks g's own rules and that its account is stored.
func (tx *Tx) validateGroup(ctx context.Context, g *wavedr.ProtectionGroup) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.AccountID == "" {
		return nil
	}
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM accounts WHERE id = ?`+tx.dialect.lockShared(), g.AccountID).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return invalid("protection group "+quote(g.Name), "accountId", "account %s is not connected; add it first", g.AccountID)
	case err != nil:
		return dbError("find account", err)
	}
	return nil
}

// plansUsingGroup returns the names of the plans that refer to the group.
func (tx *Tx) plansUsingGroup(ctx context.Context, groupID string) ([]string, error) {
	plans, err := tx.queryStrings(ctx, `SELECT p.name FROM plan_groups pg
		JOIN recovery_plans p ON p.id = pg.plan_id
		WHERE pg.group_id = ?
		ORDER BY p.name_key`, groupID)
	if err != nil {
		return nil, dbError("find plans of group", err)
	}
	return plans, nil
}

// whereClause joins conditions with AND, or returns "" for none.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
