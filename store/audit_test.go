package store_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

func newAuditEntry(principal, action, target string) *wavedr.AuditEntry {
	return &wavedr.AuditEntry{Principal: principal, Action: action, Target: target, Outcome: wavedr.AuditSucceeded,
		Status: 200, RequestID: "req-" + action}
}

func testAuditAppend(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)

	e := newAuditEntry("user:alice@example.com", "execution.pause", "ex-1")
	e.Message = "paused for a look"
	must(t, db.AppendAudit(ctx, e))
	if !wavedr.ValidID(wavedr.PrefixAudit, e.ID) {
		t.Fatalf("ID %q is not an audit ID", e.ID)
	}
	wantTime(t, "at", e.At, clock.Now())

	// A given ID and time are kept, the time to the microsecond.
	at := start.Add(-time.Hour + 1234*time.Nanosecond)
	given := newAuditEntry("anonymous", "token.create", "")
	given.ID, given.At = wavedr.NewID(wavedr.PrefixAudit, at), at.In(time.FixedZone("CET", 3600))
	given.Outcome, given.Status, given.Message = wavedr.AuditDenied, 403, "not permitted"
	must(t, db.AppendAudit(ctx, given))
	wantTime(t, "given at", given.At, at.Truncate(time.Microsecond))

	page, err := db.ListAudit(ctx, wavedr.AuditFilter{})
	must(t, err)
	sameJSON(t, "audit log", page.Items, []*wavedr.AuditEntry{e, given})
	if page.Next != "" {
		t.Fatalf("a single page has a next cursor %q", page.Next)
	}

	// The same ID cannot be appended twice.
	dup := newAuditEntry("anonymous", "token.create", "")
	dup.ID = given.ID
	wantCode(t, db.AppendAudit(ctx, dup), wavedr.ECONFLICT)

	missing := &wavedr.AuditEntry{Principal: "anonymous"}
	err = db.AppendAudit(ctx, missing)
	wantField(t, err, "action")
	wantField(t, err, "outcome")
	if missing.ID != "" || !missing.At.IsZero() {
		t.Errorf("a refused append changed the entry: %+v", missing)
	}
	bad := newAuditEntry("anonymous", "plan.delete", "plan-x")
	bad.Outcome = "succeeded"
	bad.ID = wavedr.NewID(wavedr.PrefixAPIToken, start)
	err = db.AppendAudit(ctx, bad)
	wantField(t, err, "outcome")
	wantField(t, err, "id")

	// An entry appended in a transaction that rolls back is gone with it.
	rollback := errors.New("roll back")
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.AppendAudit(ctx, newAuditEntry("anonymous", "plan.create", "")); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	page, err = db.ListAudit(ctx, wavedr.AuditFilter{})
	must(t, err)
	if len(page.Items) != 2 {
		t.Fatalf("%d entries after a rollback, want 2", len(page.Items))
	}
}

var (
	auditPrincipals = []string{"user:alice@example.com", "user:bob@example.com", "token:ci"}
	auditTargets    = []string{"plan-a", "plan-b", "ex-1", ""}
)

// appendMany appends n entries, cycling principals and targets; pairs of
// entries share a time (the ID breaks the tie). It returns them newest
// first, as the log lists them, and a function that pages through a filter
// and returns the IDs and the number of pages.
func appendMany(t *testing.T, d storetest.Dialect, n int) (*store.DB, []*wavedr.AuditEntry, func(wavedr.AuditFilter) ([]string, int)) {
	ctx, db, clock := setup(t, d)
	var all []*wavedr.AuditEntry
	for i := range n {
		if i%2 == 0 {
			clock.Advance(time.Minute + 1234*time.Nanosecond) // sub-microsecond parts are dropped
		}
		e := newAuditEntry(auditPrincipals[i%len(auditPrincipals)], fmt.Sprintf("action.%d", i), auditTargets[i%len(auditTargets)])
		must(t, db.AppendAudit(ctx, e))
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *wavedr.AuditEntry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	pageAll := func(f wavedr.AuditFilter) ([]string, int) {
		t.Helper()
		var ids []string
		for pages := 1; ; pages++ {
			if pages > n+1 {
				t.Fatal("paging does not end")
			}
			page, err := db.ListAudit(ctx, f)
			must(t, err)
			if len(page.Items) > f.Limit && f.Limit > 0 {
				t.Fatalf("page of %d items, limit %d", len(page.Items), f.Limit)
			}
			for _, e := range page.Items {
				ids = append(ids, e.ID)
			}
			if page.Next == "" {
				return ids, pages
			}
			f.Cursor = page.Next
		}
	}
	return db, all, pageAll
}

func expectedAudit(all []*wavedr.AuditEntry, keep func(e *wavedr.AuditEntry) bool) []string {
	var ids []string
	for _, e := range all {
		if keep(e) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func testAuditPaging(t *testing.T, d storetest.Dialect) {
	_, all, pageAll := appendMany(t, d, 120)
	every := func(*wavedr.AuditEntry) bool { return true }

	ids, pages := pageAll(wavedr.AuditFilter{Limit: 50})
	sameIDs(t, "all, pages of 50", ids, expectedAudit(all, every))
	if pages != 3 {
		t.Errorf("120 entries in pages of 50 took %d pages, want 3", pages)
	}
	ids, pages = pageAll(wavedr.AuditFilter{Limit: 60})
	sameIDs(t, "all, pages of 60", ids, expectedAudit(all, every))
	if pages != 2 {
		t.Errorf("120 entries in pages of 60 took %d pages, want 2 (no empty last page)", pages)
	}
	ids, _ = pageAll(wavedr.AuditFilter{})
	sameIDs(t, "all, default page size", ids, expectedAudit(all, every))

	bob := auditPrincipals[1]
	ids, _ = pageAll(wavedr.AuditFilter{Principal: bob, Limit: 7})
	sameIDs(t, "bob", ids, expectedAudit(all, func(e *wavedr.AuditEntry) bool { return e.Principal == bob }))
	ids, _ = pageAll(wavedr.AuditFilter{Target: "plan-b", Limit: 7})
	sameIDs(t, "plan-b", ids, expectedAudit(all, func(e *wavedr.AuditEntry) bool { return e.Target == "plan-b" }))

	// A range whose ends fall on shared times: Since is inclusive, Until
	// exclusive.
	since, until := all[100].At, all[20].At
	inRange := func(e *wavedr.AuditEntry) bool { return !e.At.Before(since) && e.At.Before(until) }
	ids, _ = pageAll(wavedr.AuditFilter{Since: since, Until: until, Limit: 10})
	sameIDs(t, "time range", ids, expectedAudit(all, inRange))
	ids, _ = pageAll(wavedr.AuditFilter{Since: since, Limit: 10})
	sameIDs(t, "since", ids, expectedAudit(all, func(e *wavedr.AuditEntry) bool { return !e.At.Before(since) }))

	f := wavedr.AuditFilter{Principal: bob, Target: "plan-a", Since: since, Until: until, Limit: 2}
	ids, _ = pageAll(f)
	sameIDs(t, "every filter", ids, expectedAudit(all, func(e *wavedr.AuditEntry) bool {
		return e.Principal == bob && e.Target == "plan-a" && inRange(e)
	}))
	ids, _ = pageAll(wavedr.AuditFilter{Principal: "user:nobody"})
	sameIDs(t, "nobody", ids, nil)
}

func testAuditCursorTampering(t *testing.T, d storetest.Dialect) {
	db, _, _ := appendMany(t, d, 5)
	ctx := t.Context()
	page, err := db.ListAudit(ctx, wavedr.AuditFilter{Limit: 2})
	must(t, err)
	if page.Next == "" {
		t.Fatal("no next page")
	}
	raw, err := base64.RawURLEncoding.DecodeString(page.Next)
	must(t, err)
	edited := []byte(strings.Replace(string(raw), `"i":"aud-`, `"i":"aud-0`, 1))
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 1
	// A well-formed cursor of another list, with a checksum that matches.
	body := []byte(`{"l":"executions","t":1,"i":"ex-1"}`)
	sum := sha256.Sum256(body)
	otherList := base64.RawURLEncoding.EncodeToString(append(body, sum[:4]...))

	for name, c := range map[string]string{
		"not base64":      "%%%",
		"empty JSON":      base64.RawURLEncoding.EncodeToString([]byte("{}")),
		"edited":          base64.RawURLEncoding.EncodeToString(edited),
		"flipped bit":     base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":       page.Next[:len(page.Next)/2],
		"SQL in it":       base64.RawURLEncoding.EncodeToString([]byte(`{"l":"audit","i":"x' OR 1=1 --"}`)),
		"another list":    otherList,
		"other principal": "",
		"other target":    "",
		"other range":     "",
	} {
		f := wavedr.AuditFilter{Cursor: c, Limit: 2}
		switch name {
		case "other principal":
			f = wavedr.AuditFilter{Cursor: page.Next, Limit: 2, Principal: auditPrincipals[0]}
		case "other target":
			f = wavedr.AuditFilter{Cursor: page.Next, Limit: 2, Target: auditTargets[0]}
		case "other range":
			f = wavedr.AuditFilter{Cursor: page.Next, Limit: 2, Since: start}
		}
		t.Run(name, func(t *testing.T) {
			_, err := db.ListAudit(ctx, f)
			wantField(t, err, "cursor")
		})
	}
	_, err = db.ListAudit(ctx, wavedr.AuditFilter{Since: start, Until: start})
	wantField(t, err, "until")
	_, err = db.ListAudit(ctx, wavedr.AuditFilter{Limit: -1})
	wantField(t, err, "limit")
	_, err = db.ListAudit(ctx, wavedr.AuditFilter{Limit: wavedr.MaxPageSize + 1})
	wantField(t, err, "limit")

	// The same cursor with the same filter keeps working; a limit is not
	// part of the filter.
	next, err := db.ListAudit(ctx, wavedr.AuditFilter{Cursor: page.Next, Limit: 3})
	must(t, err)
	if len(next.Items) != 3 || next.Items[0].ID == page.Items[1].ID {
		t.Fatalf("second page = %+v", next.Items)
	}
}
