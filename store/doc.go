// Package store is wavedr's SQL store: accounts, protection groups,
// recovery plans, executions and server claims, on SQLite (the embedded
// default) or PostgreSQL (several wavedr replicas sharing one database).
//
// Both dialects go through database/sql so that the job queue can enqueue a
// job in the same *sql.Tx as the state change that needs it ([Tx.SQL]).
//
// # Database URLs
//
// [Open] accepts exactly these forms:
//
//	sqlite:///abs/path/wavedr.db      an absolute file path (created if missing)
//	sqlite://relative/wavedr.db       a path relative to the working directory
//	sqlite:///:memory:                a private in-memory database (tests, demos)
//	postgres://user@host:5432/db?...  PostgreSQL, any pgx connection URL
//	postgresql://...                  the same
//
// A SQLite path may be percent-encoded and takes no query parameters: the
// store sets its own pragmas (WAL journal, busy_timeout 5s, foreign keys on,
// synchronous NORMAL) and begins every transaction with BEGIN IMMEDIATE. The
// SQLite handle has one open connection, so code inside [DB.InTx] must use
// the transaction it is given, never the *DB, or it waits forever.
// PostgreSQL URLs pass through to pgx: connection parameters (sslmode,
// connect_timeout ...) and run-time parameters such as search_path=myschema
// apply to every connection; pgxpool's pool_* parameters are refused, since
// the store sizes its pools itself.
//
// # Contract
//
// [DB] and [Tx] implement [wavedr.AccountService],
// [wavedr.ProtectionGroupService], [wavedr.RecoveryPlanService],
// [wavedr.ExecutionStore], [wavedr.APITokenStore] and [wavedr.AuditStore]. A method of *DB runs in its own transaction and
// changes the value it is given (ID, Version, timestamps) only when that
// transaction commits; a method of *Tx changes it as soon as its statements
// succeed, and the caller discards the value if it then rolls back.
//
// Every update and delete is conditional on the version that was read: a
// stale version fails with the domain's stale-version ECONFLICT
// ([wavedr.StaleVersion]: "... was changed by someone else", a "version"
// detail naming the stale and the current version; [wavedr.IsStaleVersion]
// is true) and changes nothing; a missing row is ENOTFOUND. Names of accounts, groups and plans are unique
// case-insensitively, enforced by a unique index; lists are paged with
// opaque cursors, and a malformed cursor, or one from another query, is
// EINVALID.
//
// Times held in columns (created, updated, started, ended, last polled) are
// stored in UTC to the microsecond; times inside wave and server documents
// are kept as given.
package store
