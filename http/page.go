package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"wavedr"
)

// query reads the query parameters of a request, refusing the ones a
// route does not know, so that a misspelt filter is not silently ignored.
type query struct {
	values   url.Values
	problems wavedr.Problems
}

func newQuery(r *http.Request, known ...string) *query {
	q := &query{values: r.URL.Query()}
	names := make([]string, 0, len(q.values))
	for k := range q.values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case !slices.Contains(known, k):
			q.problems.Add(k, "is not a known query parameter (known: %s)", strings.Join(known, ", "))
		case len(q.values[k]) > 1 && k != "status":
			q.problems.Add(k, "is given %d times", len(q.values[k]))
		}
	}
	return q
}

func (q *query) str(name string) string { return q.values.Get(name) }

// limit reads the page size: 1 to wavedr.MaxPageSize, 0 when absent.
func (q *query) limit() int {
	s := q.values.Get("limit")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > wavedr.MaxPageSize {
		q.problems.Add("limit", "must be an integer from 1 to %d", wavedr.MaxPageSize)
		return 0
	}
	return n
}

// time reads an RFC 3339 time; zero when absent.
func (q *query) time(name string) time.Time {
	s := q.values.Get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.problems.Add(name, "must be a time in RFC 3339 form, like 2026-04-01T12:00:00Z")
	}
	return t
}

// version reads the version a DELETE is conditional on; it is required.
func (q *query) version() int64 {
	s := q.values.Get("version")
	if s == "" {
		q.problems.Add("version", "is required: the version you read (GET the object first)")
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		q.problems.Add("version", "must be a positive integer")
	}
	return v
}

func (q *query) bool(name string) bool {
	switch strings.ToLower(q.values.Get(name)) {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	q.problems.Add(name, "must be true or false")
	return false
}

func (q *query) err() error { return q.problems.Err("query") }

// listCursor is the cursor of a list paged here rather than by the store
// (lists the store returns whole): the list it belongs to, a digest of its
// filter, and the sort key of the last item returned, with a checksum.
type listCursor struct {
	List   string `json:"l"`
	Filter string `json:"f,omitempty"`
	Key    string `json:"k"`
}

func encodeListCursor(c listCursor) string {
	b, _ := json.Marshal(c) // strings always marshal
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(append(b, sum[:4]...))
}

func decodeListCursor(s, list, filter string) (listCursor, error) {
	bad := func(rule string) error { return invalidf("cursor", "%s", rule) }
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= 4 {
		return c, bad("is not a cursor returned by this list")
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:4]) {
		return c, bad("is damaged or was edited")
	}
	if err := json.Unmarshal(body, &c); err != nil || c.List != list {
		return c, bad("is not a cursor returned by this list")
	}
	if c.Filter != filter {
		return c, bad("was made for other filters; start again without a cursor")
	}
	return c, nil
}

// filterDigest is a short digest of the parameters that select a list.
func filterDigest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

// pageOf returns the page of items (sorted by key, ascending or with desc
// descending, keys unique) that follows the cursor. Paging by key rather
// than position keeps pages consistent when items are added or removed
// between them.
func pageOf[T any](items []T, key func(T) string, desc bool, list, filter, cursor string, limit int) (*wavedr.Page[T], error) {
	limit, err := wavedr.PageLimit(limit)
	if err != nil {
		return nil, err
	}
	start := 0
	if cursor != "" {
		c, err := decodeListCursor(cursor, list, filter)
		if err != nil {
			return nil, err
		}
		start = sort.Search(len(items), func(i int) bool {
			if desc {
				return key(items[i]) < c.Key
			}
			return key(items[i]) > c.Key
		})
	}
	end := min(start+limit, len(items))
	page := &wavedr.Page[T]{Items: append(make([]T, 0, end-start), items[start:end]...)}
	if end < len(items) {
		page.Next = encodeListCursor(listCursor{List: list, Filter: filter, Key: key(items[end-1])})
	}
	return page, nil
}

// sortKey joins the parts of a composite key so that byte order of the
// result is the order of the parts: the separator sorts before every
// character a part may hold.
func sortKey(parts ...string) string { return strings.Join(parts, "\x00") }
