package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"wavedr"
)

// A cursor is opaque to clients: base64url of a small JSON document (the
// list it belongs to, a digest of that list's filter, and the sort key of
// the last row returned) followed by a 4-byte checksum. A cursor that does
// not decode, whose checksum does not match, or that was made for another
// list or another filter is EINVALID. The checksum catches damage and
// casual edits; it is not a signature, and a cursor grants nothing that the
// filter alone would not.
type cursor struct {
	List   string `json:"l"`           // "groups", "plans", "executions", "audit"
	Filter string `json:"f,omitempty"` // digest of the filter the list was asked with
	Key    string `json:"k,omitempty"` // lower-cased name, for name-ordered lists
	Micros int64  `json:"t,omitempty"` // created_at in Unix microseconds, for executions
	ID     string `json:"i"`
}

const cursorSum = 4

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // a struct of strings and an integer always marshals
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(append(b, sum[:cursorSum]...))
}

// decodeCursor reads s, made by encodeCursor for list and filter.
func decodeCursor(s, list, filter string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= cursorSum {
		return c, badCursor("is not a cursor returned by this list")
	}
	body, sum := b[:len(b)-cursorSum], b[len(b)-cursorSum:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:cursorSum]) {
		return c, badCursor("is damaged or was edited")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.ID == "" {
		return c, badCursor("is not a cursor returned by this list")
	}
	if c.List != list {
		return c, badCursor("belongs to another list")
	}
	if c.Filter != filter {
		return c, badCursor("was made for other filters; start again without a cursor")
	}
	return c, nil
}

func badCursor(rule string) error {
	return &wavedr.Error{Code: wavedr.EINVALID, Message: "invalid page cursor", Details: []wavedr.FieldError{{Field: "cursor", Rule: rule}}}
}

// filterDigest is a short digest of the parts of a filter that decide
// which rows a list returns.
func filterDigest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}
