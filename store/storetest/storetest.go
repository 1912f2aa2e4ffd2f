// Package storetest opens stores for tests: a SQLite file in a temporary
// directory, or, when WAVEDR_TEST_POSTGRES names a PostgreSQL URL, a
// PostgreSQL schema of its own that is dropped when the test ends. Suites
// that must hold on both databases range over [Dialects].
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"wavedr/store"
)

// PostgresEnv names the environment variable holding the URL of a
// PostgreSQL database the tests may create schemas in, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresEnv = "WAVEDR_TEST_POSTGRES"

// PostgresSkip is the message of tests skipped for want of PostgreSQL.
const PostgresSkip = PostgresEnv + " not set: PostgreSQL store tests skipped"

// Dialect opens stores of one database for tests.
type Dialect struct {
	Name string // "sqlite" or "postgres"
	// URL returns the URL of a new, empty database for t (skipping t when
	// the database is not available); every Open of it reaches the same data.
	URL func(t testing.TB) string
}

// Open opens a store on a new, empty database for t and closes it when t
// ends.
func (d Dialect) Open(t testing.TB, opts ...store.Option) *store.DB {
	t.Helper()
	return OpenURL(t, d.URL(t), opts...)
}

// The dialects a store suite runs on. Postgres skips its test when
// WAVEDR_TEST_POSTGRES is not set.
var (
	SQLite   = Dialect{Name: string(store.SQLite), URL: SQLiteURL}
	Postgres = Dialect{Name: string(store.Postgres), URL: PostgresURL}
)

// Dialects returns SQLite and Postgres, for suites that run on both.
func Dialects() []Dialect { return []Dialect{SQLite, Postgres} }

// MustOpen opens a store on a new SQLite file for t and closes it when t
// ends; it fails t if the store cannot be opened.
func MustOpen(t testing.TB, opts ...store.Option) *store.DB {
	t.Helper()
	return OpenURL(t, SQLiteURL(t), opts...)
}

// OpenURL opens the store at rawURL and closes it when t ends.
func OpenURL(t testing.TB, rawURL string, opts ...store.Option) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, rawURL, opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}

// SQLiteURL returns the URL of a SQLite file in a temporary directory
// removed when t ends.
func SQLiteURL(t testing.TB) string {
	u := url.URL{Path: filepath.ToSlash(filepath.Join(t.TempDir(), "wavedr.db"))}
	return "sqlite://" + u.EscapedPath()
}

// PostgresURL creates a schema of its own for t in the database named by
// WAVEDR_TEST_POSTGRES and returns that URL with search_path set to the
// schema (so every pooled connection uses it); the schema is dropped when
// t ends. It skips t when the variable is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresSkip)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", PostgresEnv)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	schema := "wavedr_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
