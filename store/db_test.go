package store

import (
	"context"
	"testing"
	"time"

	"wavedr"
)

func TestSQLitePath(t *testing.T) {
	for _, c := range []struct {
		url, path string
	}{
		{"sqlite:///var/lib/wavedr/wavedr.db", "/var/lib/wavedr/wavedr.db"},
		{"sqlite://wavedr.db", "wavedr.db"},
		{"sqlite://data/wavedr.db", "data/wavedr.db"},
		{"sqlite:///tmp/with%20space.db", "/tmp/with space.db"},
		{"sqlite:///:memory:", ":memory:"},
	} {
		got, err := sqlitePath(c.url)
		if err != nil || got != c.path {
			t.Errorf("sqlitePath(%q) = %q, %v; want %q", c.url, got, err, c.path)
		}
	}
	for _, bad := range []string{"sqlite:", "sqlite:wavedr.db", "sqlite://", "sqlite:///", "sqlite:///tmp/",
		"sqlite:///tmp/x.db?_pragma=foo", "sqlite:///tmp/x.db#frag", "sqlite:///tmp/%zz.db", "sqlite:///tmp/a%3Fb.db"} {
		if _, err := sqlitePath(bad); wavedr.ErrorCode(err) != wavedr.EINVALID {
			t.Errorf("sqlitePath(%q): %v, want EINVALID", bad, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []string{"", "mysql://localhost/x", "file:/tmp/x.db", "sqlite:relative.db", "postgres://host:notaport/db", "postgres://h/db?pool_max_conns=9"} {
		db, err := Open(ctx, bad)
		if wavedr.ErrorCode(err) != wavedr.EINVALID {
			t.Errorf("Open(%q): %v, want EINVALID", bad, err)
		}
		if db != nil {
			db.Close()
		}
	}
	// Nothing listens on port 1.
	start := time.Now()
	_, err := Open(ctx, "postgres://wavedr:secret@127.0.0.1:1/wavedr?connect_timeout=2")
	if wavedr.ErrorCode(err) != wavedr.EUNAVAILABLE {
		t.Fatalf("Open(unreachable): %v, want EUNAVAILABLE", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Open(unreachable) took %s", time.Since(start))
	}
	_, err = Open(ctx, "sqlite:///nonexistent-dir/deeper/wavedr.db")
	if wavedr.ErrorCode(err) != wavedr.EUNAVAILABLE {
		t.Fatalf("Open(sqlite in a missing directory): %v, want EUNAVAILABLE", err)
	}
}

func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite://"+t.TempDir()+"/p.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000"} {
		var got string
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if db.Dialect() != SQLite || db.ListenerPool() != nil || db.SQL().Stats().MaxOpenConnections != 1 {
		t.Errorf("dialect %s, pool %v, max open %d", db.Dialect(), db.ListenerPool(), db.SQL().Stats().MaxOpenConnections)
	}
}

func TestMemoryDatabase(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:///:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &wavedr.Account{ID: "123456789012", Name: "local", Regions: []string{"us-east-1"}}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindAccount(ctx, a.ID); err != nil {
		t.Fatalf("in-memory data lost between transactions: %v", err)
	}
}

func TestRebind(t *testing.T) {
	q := "SELECT '?' FROM t WHERE a = ? AND (b, c) > (?, ?)"
	if got, want := Postgres.rebind(q), "SELECT '?' FROM t WHERE a = $1 AND (b, c) > ($2, $3)"; got != want {
		t.Errorf("rebind = %q, want %q", got, want)
	}
	if got := SQLite.rebind(q); got != q {
		t.Errorf("SQLite rebind changed the query: %q", got)
	}
}

func TestCursor(t *testing.T) {
	c := cursor{List: "executions", Filter: filterDigest("p", ""), Micros: 1234567, ID: "ex-1"}
	s := encodeCursor(c)
	got, err := decodeCursor(s, "executions", c.Filter)
	if err != nil || got != c {
		t.Fatalf("decode(encode(c)) = %+v, %v", got, err)
	}
	for name, check := range map[string]func() error{
		"other list":   func() error { _, err := decodeCursor(s, "plans", c.Filter); return err },
		"other filter": func() error { _, err := decodeCursor(s, "executions", filterDigest("q", "")); return err },
		"garbage":      func() error { _, err := decodeCursor("!!", "executions", c.Filter); return err },
		"empty":        func() error { _, err := decodeCursor("", "executions", c.Filter); return err },
	} {
		if err := check(); wavedr.ErrorCode(err) != wavedr.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
