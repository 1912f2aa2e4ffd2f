package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"wavedr"
)

// Connection settings.
const (
	// SQLiteBusyTimeout is how long a SQLite statement waits for another
	// process's write lock before failing with EUNAVAILABLE.
	SQLiteBusyTimeout = 5 * time.Second
	// ListenerPoolMaxConns is the size of the PostgreSQL pool kept for the
	// job queue's LISTEN connections.
	ListenerPoolMaxConns = 2
	// pingTimeout bounds the first contact with the database at Open.
	pingTimeout = 10 * time.Second
)

// DB is an open store. It is safe for concurrent use.
type DB struct {
	sql     *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only: LISTEN connections for the job queue
	dialect Dialect
	now     func() time.Time
}

// Option configures Open.
type Option func(*DB)

// WithClock sets the clock that stamps each transaction (CreatedAt,
// UpdatedAt, new IDs). The default is time.Now. A transaction reads the
// clock once, when it begins.
func WithClock(now func() time.Time) Option {
	return func(db *DB) {
		if now != nil {
			db.now = now
		}
	}
}

// Open connects to the database named by rawURL (see the package
// documentation for the accepted forms), applies the migrations it has not
// applied yet, and returns the store. A malformed URL is EINVALID naming
// the rule; a database that cannot be reached is EUNAVAILABLE.
func Open(ctx context.Context, rawURL string, opts ...Option) (*DB, error) {
	db := &DB{now: time.Now}
	for _, o := range opts {
		o(db)
	}
	var err error
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		err = db.openSQLite(rawURL)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		err = db.openPostgres(ctx, rawURL)
	default:
		err = invalidURL("must start with sqlite://, postgres:// or postgresql://")
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := db.ping(pingCtx); err != nil {
		db.Close()
		return nil, connectError(err)
	}
	if db.pool != nil {
		if err := db.pool.Ping(pingCtx); err != nil {
			db.Close()
			return nil, connectError(err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ping opens the first connection. On SQLite that runs the pragmas, and
// switching a new file to WAL answers SQLITE_BUSY at once (no busy
// handler) while another process does the same: it is tried again until
// the context ends.
func (db *DB) ping(ctx context.Context) error {
	for {
		err := db.sql.PingContext(ctx)
		if err == nil || db.dialect != SQLite || !unavailable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sqlitePath returns the file path of a sqlite:// URL, or ":memory:".
func sqlitePath(rawURL string) (string, error) {
	rest, ok := strings.CutPrefix(rawURL, "sqlite://")
	if !ok {
		return "", invalidURL("a SQLite URL is sqlite:///absolute/path.db, sqlite://relative/path.db or sqlite:///:memory:")
	}
	if strings.ContainsAny(rest, "?#") {
		return "", invalidURL("a SQLite URL takes no query parameters or fragment; the store sets its own pragmas")
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return "", invalidURL("the SQLite path is not properly percent-encoded")
	}
	switch {
	case path == "/:memory:":
		return ":memory:", nil
	case path == "" || path == "/" || strings.HasSuffix(path, "/"):
		return "", invalidURL("a SQLite URL names a database file, like sqlite:///var/lib/wavedr/wavedr.db")
	case strings.ContainsAny(path, "?\x00"):
		return "", invalidURL("the SQLite path may not contain '?' or NUL")
	}
	return path, nil
}

func (db *DB) openSQLite(rawURL string) error {
	path, err := sqlitePath(rawURL)
	if err != nil {
		return err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", SQLiteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	h, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return invalidURL("the SQLite URL is not usable: " + err.Error())
	}
	// The job queue's SQLite driver needs one open connection; a single
	// connection also serializes the store's transactions in-process. It
	// is kept open so that an in-memory database lives as long as the DB.
	h.SetMaxOpenConns(1)
	h.SetMaxIdleConns(1)
	h.SetConnMaxLifetime(0)
	h.SetConnMaxIdleTime(0)
	db.sql, db.dialect = h, SQLite
	return nil
}

func (db *DB) openPostgres(ctx context.Context, rawURL string) error {
	if u, err := url.Parse(rawURL); err == nil {
		for k := range u.Query() {
			if strings.HasPrefix(k, "pool_") {
				return invalidURL("the PostgreSQL URL may not set " + k + "; the store sizes its pools itself")
			}
		}
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return invalidURL("the PostgreSQL URL is not valid: " + err.Error())
	}
	poolCfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return invalidURL("the PostgreSQL URL is not valid: " + err.Error())
	}
	poolCfg.MaxConns = ListenerPoolMaxConns
	poolCfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return connectError(err)
	}
	db.sql, db.pool, db.dialect = stdlib.OpenDB(*cfg), pool, Postgres
	return nil
}

func invalidURL(rule string) error {
	return &wavedr.Error{Code: wavedr.EINVALID, Message: "invalid database URL", Details: []wavedr.FieldError{{Field: "url", Rule: rule}}}
}

func connectError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	// pgx redacts the password from its connection errors.
	return fmt.Errorf("%w: %v", wavedr.Errorf(wavedr.EUNAVAILABLE, "cannot reach the database"), err)
}

// SQL returns the database/sql handle, for the job queue's driver.
func (db *DB) SQL() *sql.DB { return db.sql }

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() Dialect { return db.dialect }

// ListenerPool returns the pgx pool for the job queue's LISTEN
// connections on PostgreSQL, and nil on SQLite.
func (db *DB) ListenerPool() *pgxpool.Pool { return db.pool }

// Close closes the database handles. It is safe to call more than once.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.sql == nil {
		return nil
	}
	return db.sql.Close()
}
