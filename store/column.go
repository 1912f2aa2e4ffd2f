package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// timeColumn scans a time column of either dialect (Unix microseconds on
// SQLite, timestamptz on PostgreSQL; NULL is the zero time) into a UTC time.
type timeColumn struct{ t *time.Time }

func timeCol(t *time.Time) timeColumn { return timeColumn{t} }

func (c timeColumn) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("store: cannot read %T as a time", src)
	}
	return nil
}

// jsonColumn scans a JSON document (TEXT on SQLite, jsonb on PostgreSQL)
// into v; NULL leaves v as it is.
type jsonColumn struct{ v any }

func jsonCol(v any) jsonColumn { return jsonColumn{v} }

func (c jsonColumn) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("store: cannot read %T as JSON", src)
	}
	if err := json.Unmarshal(b, c.v); err != nil {
		return fmt.Errorf("store: stored JSON: %w", err)
	}
	return nil
}

// jsonArg is the stored text of v, or NULL when v is nil (a nil pointer,
// slice or map marshals to "null").
func jsonArg(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode JSON: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	return string(b), nil
}

// nullString stores "" as NULL (for optional references).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// stringColumn scans a nullable text column; NULL is "".
type stringColumn struct{ s *string }

func strCol(s *string) stringColumn { return stringColumn{s} }

func (c stringColumn) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("store: cannot read %T as text", src)
	}
	return nil
}
