package store

import (
	"strconv"
	"strings"
	"time"
)

// Dialect names the SQL database behind a [DB].
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// rebind rewrites the store's '?' placeholders for the dialect: PostgreSQL
// numbers them ($1, $2 ...); SQLite keeps '?', which it binds by position
// (SQLite reads "$1" as a named parameter, numbered by first appearance,
// so the store never writes numbered placeholders itself). A '?' inside a
// quoted literal is left alone; the store's SQL never uses PostgreSQL's
// jsonb '?' operators.
func (d Dialect) rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// timeArg is the value stored for t: NULL for the zero time; Unix
// microseconds (INTEGER) on SQLite, so that columns sort and compare as
// numbers; a UTC timestamptz on PostgreSQL. Both keep microseconds.
func (d Dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d == SQLite {
		return t.UnixMicro()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// lockShared is the suffix that locks the rows a read-then-write
// transaction depends on until it ends. SQLite needs none: its
// transactions begin IMMEDIATE and exclude each other.
func (d Dialect) lockShared() string {
	if d == Postgres {
		return " FOR SHARE"
	}
	return ""
}

// placeholders returns n comma-separated '?'.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// normalTime is t as the store keeps it in a column: UTC, to the microsecond.
func normalTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// lockUpdate is the suffix that locks a row read before it is changed.
func (d Dialect) lockUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// maxInList bounds the values of one IN (...) list, far below both
// databases' limits on bound parameters.
const maxInList = 500
