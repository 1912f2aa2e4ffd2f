package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"wavedr"
)

// violation is the kind of constraint a failed statement broke, read from
// the driver's error code (never from the message text).
type violation int

const (
	noViolation violation = iota
	primaryKeyViolation
	uniqueViolation
	foreignKeyViolation
)

// PostgreSQL SQLSTATE codes the store acts on.
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
	pgAdminShutdown        = "57P01"
	pgCannotConnectNow     = "57P03"
)

// violationOf returns the constraint err broke, if any.
func violationOf(err error) violation {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			// Primary keys are named "<table>_pkey" by PostgreSQL and by
			// the store's migrations; every other unique constraint is a
			// unique name.
			if strings.HasSuffix(pe.ConstraintName, "_pkey") {
				return primaryKeyViolation
			}
			return uniqueViolation
		case pgForeignKeyViolation:
			return foreignKeyViolation
		}
		return noViolation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return primaryKeyViolation
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
	}
	return noViolation
}

// dbError turns a driver error of the operation op into a wavedr error: a
// database that cannot be reached or is busy is EUNAVAILABLE, a
// serialization failure or deadlock is ECONFLICT (retry), a broken
// constraint that the caller did not map is ECONFLICT, and anything else
// is wrapped as it is (EINTERNAL to wavedr.ErrorCode). Context errors and
// wavedr errors pass through.
func dbError(op string, err error) error {
	var we *wavedr.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &we), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	switch violationOf(err) {
	case primaryKeyViolation, uniqueViolation:
		return &wavedr.Error{Code: wavedr.ECONFLICT, Message: "the record already exists"}
	case foreignKeyViolation:
		return &wavedr.Error{Code: wavedr.ECONFLICT, Message: "the record refers to, or is referred to by, another record"}
	}
	if unavailable(err) {
		return fmt.Errorf("%w (%s: %v)", wavedr.Errorf(wavedr.EUNAVAILABLE, "the database is unavailable or busy; retry"), op, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected) {
		// Nothing of substance is in the way: like a stale version, the
		// caller reads again and retries (wavedr.IsStaleVersion).
		retry := &wavedr.Error{Code: wavedr.ECONFLICT, Message: "a concurrent change got in the way; read it again and retry",
			Details: []wavedr.FieldError{{Field: "version", Rule: "changed concurrently"}}}
		return fmt.Errorf("%w (%s: %v)", retry, op, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// unavailable reports whether err says the database cannot be reached or
// is too busy to answer now.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgLockNotAvailable, pgAdminShutdown, pgCannotConnectNow:
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn)
}

func notFound(what string) error { return wavedr.Errorf(wavedr.ENOTFOUND, "%s not found", what) }

func conflictf(format string, args ...any) error {
	return wavedr.Errorf(wavedr.ECONFLICT, format, args...)
}

func invalid(what, field, rule string, args ...any) error {
	var p wavedr.Problems
	p.Add(field, rule, args...)
	return p.Err(what)
}

// nameList quotes up to a few names for a message: "a", "b" and 3 more.
func nameList(names []string) string {
	const shown = 5
	q := make([]string, 0, shown)
	for i, n := range names {
		if i == shown {
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	s := strings.Join(q, ", ")
	if len(names) > shown {
		s += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return s
}

// quote quotes a user-supplied name or ID for a message.
func quote(s string) string { return strconv.Quote(s) }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
