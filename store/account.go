package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"wavedr"
)

var (
	_ wavedr.AccountService = (*DB)(nil)
	_ wavedr.AccountService = (*Tx)(nil)
)

const accountColumns = `id, name, role_arn, external_id, regions, version, created_at, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (*wavedr.Account, error) {
	var a wavedr.Account
	err := row.Scan(&a.ID, &a.Name, &a.RoleARN, &a.ExternalID, jsonCol(&a.Regions), &a.Version,
		timeCol(&a.CreatedAt), timeCol(&a.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// FindAccount returns the account with the ID (or, as a convenience, the
// case-insensitive name); ENOTFOUND if none.
func (db *DB) FindAccount(ctx context.Context, id string) (*wavedr.Account, error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.Account, error) { return tx.FindAccount(ctx, id) })
}

// FindAccount: see [DB.FindAccount].
func (tx *Tx) FindAccount(ctx context.Context, id string) (*wavedr.Account, error) {
	a, err := scanAccount(tx.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE id = ? OR name_key = ?
		ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END
		LIMIT 1`, id, strings.ToLower(id), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("account " + quote(id))
	case err != nil:
		return nil, dbError("find account", err)
	}
	return a, nil
}

// ListAccounts returns every account, ordered by ID.
func (db *DB) ListAccounts(ctx context.Context) ([]*wavedr.Account, error) {
	return readTx(ctx, db, func(tx *Tx) ([]*wavedr.Account, error) { return tx.ListAccounts(ctx) })
}

// ListAccounts: see [DB.ListAccounts].
func (tx *Tx) ListAccounts(ctx context.Context) ([]*wavedr.Account, error) {
	rows, err := tx.query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, dbError("list accounts", err)
	}
	defer rows.Close()
	out := []*wavedr.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, dbError("list accounts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list accounts", err)
	}
	return out, nil
}

// CreateAccount validates and stores a with version 1; EINVALID with the
// broken rules, ECONFLICT if the ID exists or the name is taken
// (case-insensitively).
func (db *DB) CreateAccount(ctx context.Context, a *wavedr.Account) error {
	return inTx(ctx, db, a, func(tx *Tx, c *wavedr.Account) error { return tx.CreateAccount(ctx, c) })
}

// CreateAccount: see [DB.CreateAccount].
func (tx *Tx) CreateAccount(ctx context.Context, a *wavedr.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	regions, err := jsonArg(a.Regions)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO accounts
		(id, name, name_key, role_arn, external_id, regions, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		a.ID, a.Name, strings.ToLower(a.Name), a.RoleARN, a.ExternalID, regions,
		tx.dialect.timeArg(tx.now), tx.dialect.timeArg(tx.now))
	switch violationOf(err) {
	case primaryKeyViolation:
		return conflictf("account %s already exists", a.ID)
	case uniqueViolation:
		return conflictf("an account named %s already exists (names are unique regardless of case)", quote(a.Name))
	}
	if err != nil {
		return dbError("create account", err)
	}
	a.Version, a.CreatedAt, a.UpdatedAt = 1, tx.now, tx.now
	return nil
}

// UpdateAccount validates a and stores it if a.Version is the stored
// version, then increments a.Version; ENOTFOUND if the account is gone,
// ECONFLICT on a stale version or a taken name.
func (db *DB) UpdateAccount(ctx context.Context, a *wavedr.Account) error {
	return inTx(ctx, db, a, func(tx *Tx, c *wavedr.Account) error { return tx.UpdateAccount(ctx, c) })
}

// UpdateAccount: see [DB.UpdateAccount].
func (tx *Tx) UpdateAccount(ctx context.Context, a *wavedr.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	regions, err := jsonArg(a.Regions)
	if err != nil {
		return err
	}
	err = tx.queryRow(ctx, `UPDATE accounts
		SET name = ?, name_key = ?, role_arn = ?, external_id = ?, regions = ?,
		    version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?
		RETURNING created_at`,
		a.Name, strings.ToLower(a.Name), a.RoleARN, a.ExternalID, regions, tx.dialect.timeArg(tx.now),
		a.ID, a.Version).Scan(timeCol(&a.CreatedAt))
	if violationOf(err) == uniqueViolation {
		return conflictf("an account named %s already exists (names are unique regardless of case)", quote(a.Name))
	}
	if err := tx.checkUpdated(ctx, err, "accounts", a.ID, a.Version, "account "+a.ID); err != nil {
		return err
	}
	a.Version++
	a.UpdatedAt = tx.now
	return nil
}

// DeleteAccount removes the account at version; ECONFLICT while a
// protection group uses it or on a stale version, ENOTFOUND if it is gone.
func (db *DB) DeleteAccount(ctx context.Context, id string, version int64) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.DeleteAccount(ctx, id, version) })
}

// DeleteAccount: see [DB.DeleteAccount].
func (tx *Tx) DeleteAccount(ctx context.Context, id string, version int64) error {
	groups, err := tx.queryStrings(ctx, `SELECT name FROM protection_groups WHERE account_id = ? ORDER BY name_key`, id)
	if err != nil {
		return dbError("find groups of account", err)
	}
	if len(groups) > 0 {
		return conflictf("account %s is used by protection groups %s; move or delete them first", id, nameList(groups))
	}
	res, err := tx.exec(ctx, `DELETE FROM accounts WHERE id = ? AND version = ?`, id, version)
	if violationOf(err) == foreignKeyViolation {
		return conflictf("account %s is used by a protection group; move or delete it first", id)
	}
	return tx.checkWritten(ctx, res, err, "accounts", id, version, "account "+id)
}
