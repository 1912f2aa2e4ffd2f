package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"wavedr"
)

// Tx is a transaction of the store. Its methods implement the same
// services as [DB]'s, all within the one transaction and with one clock
// reading ([Tx.Now]). A Tx is used by one goroutine. When a method of Tx
// fails, return its error from the function given to [DB.InTx] so that the
// transaction rolls back: a failed write may have changed some rows (and
// on PostgreSQL a failed statement aborts the transaction).
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	now     time.Time
}

// InTx runs fn in a transaction: it commits when fn returns nil and rolls
// back otherwise, returning fn's error as it is. On SQLite the transaction
// begins IMMEDIATE (it takes the write lock at once), so a read followed
// by a write cannot fail with SQLITE_BUSY half-way.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return dbError("begin transaction", err)
	}
	tx := &Tx{tx: sqlTx, dialect: db.dialect, now: normalTime(db.now())}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback() // the error that caused the rollback is the one to report
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return dbError("commit", err)
	}
	committed = true
	return nil
}

// SQL returns the database/sql transaction, to enqueue jobs in it.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// Now returns the transaction's clock reading (UTC, to the microsecond).
func (tx *Tx) Now() time.Time { return tx.now }

// Dialect returns SQLite or Postgres.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.dialect.rebind(query), args...)
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.dialect.rebind(query), args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.dialect.rebind(query), args...)
}

// queryStrings returns the first column of every row.
func (tx *Tx) queryStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// inTx runs the transaction method f on a copy of *v and stores the copy
// back into *v only when the transaction commits, so that a failed call
// leaves the caller's value as it was.
func inTx[T any](ctx context.Context, db *DB, v *T, f func(tx *Tx, c *T) error) error {
	c := *v
	if err := db.InTx(ctx, func(tx *Tx) error { return f(tx, &c) }); err != nil {
		return err
	}
	*v = c
	return nil
}

// resultTx runs the writing f in a transaction and returns its result.
func resultTx[R any](ctx context.Context, db *DB, f func(tx *Tx) (R, error)) (R, error) {
	var r R
	err := db.InTx(ctx, func(tx *Tx) error {
		var err error
		r, err = f(tx)
		return err
	})
	return r, err
}

// readTx runs the reading f in a transaction and returns its result. On PostgreSQL a
// read-only f (the Find and List methods of DB) runs in a read-only
// REPEATABLE READ transaction: its statements all see one snapshot, so an
// execution read in several statements (its row, its waves, its servers)
// cannot mix two versions, as it could at the default READ COMMITTED.
// SQLite's transactions are serialized already.
func readTx[R any](ctx context.Context, db *DB, f func(tx *Tx) (R, error)) (R, error) {
	var r R
	run := func(tx *Tx) error {
		var err error
		r, err = f(tx)
		return err
	}
	if db.dialect != Postgres {
		return r, db.InTx(ctx, run)
	}
	sqlTx, err := db.sql.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return r, dbError("begin transaction", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if err := run(&Tx{tx: sqlTx, dialect: db.dialect, now: normalTime(db.now())}); err != nil {
		return r, err
	}
	return r, nil
}

// versionConflict explains why a conditional write of the row id of table
// at version stale touched nothing: ENOTFOUND when the row is gone, the
// domain's stale-version ECONFLICT (wavedr.IsStaleVersion) naming the
// current version otherwise. table is one of the
// store's table names, never user input.
func (tx *Tx) versionConflict(ctx context.Context, table, id string, stale int64, what string) error {
	var now int64
	err := tx.queryRow(ctx, "SELECT version FROM "+table+" WHERE id = ?", id).Scan(&now)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(what)
	case err != nil:
		return dbError("read version", err)
	}
	return wavedr.StaleVersion(what, stale, now)
}

// checkWritten checks a conditional write of the row id at version: a
// failed statement is a database error; a statement that touched no row is
// explained by versionConflict.
func (tx *Tx) checkWritten(ctx context.Context, res sql.Result, err error, table, id string, version int64, what string) error {
	if err != nil {
		return dbError("write "+what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbError("write "+what, err)
	}
	if n == 0 {
		return tx.versionConflict(ctx, table, id, version, what)
	}
	return nil
}

// checkUpdated checks the error of a conditional UPDATE ... RETURNING of
// the row id at version: no row returned is explained by versionConflict.
func (tx *Tx) checkUpdated(ctx context.Context, err error, table, id string, version int64, what string) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return tx.versionConflict(ctx, table, id, version, what)
	case err != nil:
		return dbError("update "+what, err)
	}
	return nil
}
