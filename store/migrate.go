package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change: migrations/<dialect>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrateLockKey is the PostgreSQL advisory lock that serializes replicas
// migrating one database at once ("wavedr" in ASCII).
const migrateLockKey = 0x776176656472

// migrationsTable records the applied migrations, per dialect.
var migrationsTable = map[Dialect]string{
	SQLite: `CREATE TABLE IF NOT EXISTS wavedr_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`,
	Postgres: `CREATE TABLE IF NOT EXISTS wavedr_migrations (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL
)`,
}

// migrations returns the dialect's migrations in version order.
func migrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("store: two migrations have version %d", out[i].version)
		}
	}
	return out, nil
}

// migrate applies, in one transaction and in order, the migrations not yet
// recorded in wavedr_migrations. On PostgreSQL it first takes a
// transaction-scoped advisory lock, so replicas starting together apply
// each migration once; on SQLite the IMMEDIATE transaction does the same.
// It leaves the job queue's tables to the job queue's own migrator.
func (db *DB) migrate(ctx context.Context) error {
	all, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if tx.dialect == Postgres {
			if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrateLockKey)); err != nil {
				return dbError("lock migrations", err)
			}
		}
		if _, err := tx.exec(ctx, migrationsTable[tx.dialect]); err != nil {
			return dbError("create wavedr_migrations", err)
		}
		applied := map[int]bool{}
		rows, err := tx.query(ctx, "SELECT version FROM wavedr_migrations")
		if err != nil {
			return dbError("read wavedr_migrations", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return dbError("read wavedr_migrations", err)
			}
			applied[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbError("read wavedr_migrations", err)
		}
		for _, m := range all {
			if applied[m.version] {
				continue
			}
			if _, err := tx.exec(ctx, m.sql); err != nil {
				return dbError(fmt.Sprintf("apply migration %04d_%s", m.version, m.name), err)
			}
			if _, err := tx.exec(ctx, "INSERT INTO wavedr_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, tx.dialect.timeArg(tx.now)); err != nil {
				return dbError("record migration", err)
			}
		}
		return nil
	})
}
