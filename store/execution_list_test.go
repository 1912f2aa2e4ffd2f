package store_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store/storetest"
)

var listStatuses = []wavedr.ExecutionStatus{wavedr.ExecutionPending, wavedr.ExecutionRunning, wavedr.ExecutionPaused,
	wavedr.ExecutionCompleted, wavedr.ExecutionFailed}

// createMany stores n executions over three plans, cycling statuses; pairs
// of executions share a creation time (the ID breaks the tie). It returns
// them newest first, as the list orders them.
func createMany(t *testing.T, d storetest.Dialect, n int) (*testing.T, []*wavedr.Execution, func(wavedr.ExecutionFilter) []string) {
	ctx, db, clock := setup(t, d)
	plans := []*wavedr.RecoveryPlan{createPlan(t, ctx, db, "a", 1), createPlan(t, ctx, db, "b", 1), createPlan(t, ctx, db, "c", 1)}
	var all []*wavedr.Execution
	for i := range n {
		if i%2 == 0 {
			clock.Advance(time.Minute + 1234*time.Nanosecond) // sub-microsecond parts are dropped
		}
		e := newExecution(t, ctx, db, plans[i%3], clock.Now())
		e.Status = listStatuses[i%len(listStatuses)]
		must(t, db.CreateExecution(ctx, e))
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *wavedr.Execution) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	pageAll := func(f wavedr.ExecutionFilter) []string {
		t.Helper()
		var ids []string
		for pages := 0; ; pages++ {
			if pages > n+1 {
				t.Fatal("paging does not end")
			}
			page, err := db.ListExecutions(ctx, f)
			must(t, err)
			if len(page.Items) > f.Limit && f.Limit > 0 {
				t.Fatalf("page of %d items, limit %d", len(page.Items), f.Limit)
			}
			for _, s := range page.Items {
				ids = append(ids, s.ID)
			}
			if page.Next == "" {
				return ids
			}
			f.Cursor = page.Next
		}
	}
	return t, all, pageAll
}

// expected filters all (newest first) as the store should.
func expected(all []*wavedr.Execution, keep func(e *wavedr.Execution) bool) []string {
	var ids []string
	for _, e := range all {
		if keep(e) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s: %s listed twice", what, id)
		}
		seen[id] = true
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %d IDs, want %d\n got %v\nwant %v", what, len(got), len(want), got, want)
	}
}

func testExecutionPaging(t *testing.T, d storetest.Dialect) {
	t, all, pageAll := createMany(t, d, 130)

	sameIDs(t, "all, pages of 50", pageAll(wavedr.ExecutionFilter{Limit: 50}),
		expected(all, func(*wavedr.Execution) bool { return true }))
	sameIDs(t, "all, default page size", pageAll(wavedr.ExecutionFilter{}),
		expected(all, func(*wavedr.Execution) bool { return true }))

	planB := all[0].PlanID
	for _, e := range all {
		if e.PlanName == "b" {
			planB = e.PlanID
		}
	}
	sameIDs(t, "plan b", pageAll(wavedr.ExecutionFilter{PlanID: planB, Limit: 7}),
		expected(all, func(e *wavedr.Execution) bool { return e.PlanID == planB }))

	statuses := []wavedr.ExecutionStatus{wavedr.ExecutionRunning, wavedr.ExecutionCompleted}
	sameIDs(t, "running or completed", pageAll(wavedr.ExecutionFilter{Status: statuses, Limit: 9}),
		expected(all, func(e *wavedr.Execution) bool { return slices.Contains(statuses, e.Status) }))

	// A range whose ends fall on shared creation times: Since is
	// inclusive, Until exclusive.
	since, until := all[100].CreatedAt, all[20].CreatedAt
	inRange := func(e *wavedr.Execution) bool { return !e.CreatedAt.Before(since) && e.CreatedAt.Before(until) }
	sameIDs(t, "time range", pageAll(wavedr.ExecutionFilter{Since: since, Until: until, Limit: 10}),
		expected(all, inRange))

	f := wavedr.ExecutionFilter{PlanID: planB, Status: statuses, Since: since, Until: until, Limit: 3}
	sameIDs(t, "every filter", pageAll(f), expected(all, func(e *wavedr.Execution) bool {
		return e.PlanID == planB && slices.Contains(statuses, e.Status) && inRange(e)
	}))
	sameIDs(t, "nothing", pageAll(wavedr.ExecutionFilter{PlanID: "plan-none"}), nil)
}

func testExecutionCursorTampering(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	p := createPlan(t, ctx, db, "p", 1)
	for i := range 5 {
		e := newExecution(t, ctx, db, p, start.Add(time.Duration(i)*time.Second))
		must(t, db.CreateExecution(ctx, e))
	}
	page, err := db.ListExecutions(ctx, wavedr.ExecutionFilter{Limit: 2})
	must(t, err)
	if page.Next == "" {
		t.Fatal("no next page")
	}
	raw, err := base64.RawURLEncoding.DecodeString(page.Next)
	must(t, err)
	edited := []byte(strings.Replace(string(raw), `"i":"ex-`, `"i":"ex-0`, 1))
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 1

	for name, c := range map[string]string{
		"not base64":     "%%%",
		"empty JSON":     base64.RawURLEncoding.EncodeToString([]byte("{}")),
		"edited":         base64.RawURLEncoding.EncodeToString(edited),
		"flipped bit":    base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":      page.Next[:len(page.Next)/2],
		"SQL in it":      base64.RawURLEncoding.EncodeToString([]byte(`{"l":"executions","i":"x' OR 1=1 --"}`)),
		"another filter": "",
	} {
		f := wavedr.ExecutionFilter{Cursor: c, Limit: 2}
		if name == "another filter" {
			f = wavedr.ExecutionFilter{Cursor: page.Next, Limit: 2, PlanID: p.ID}
		}
		_, err := db.ListExecutions(ctx, f)
		if wavedr.ErrorCode(err) != wavedr.EINVALID {
			t.Errorf("%s cursor: error %v, want EINVALID", name, err)
		}
	}
	_, err = db.ListExecutions(ctx, wavedr.ExecutionFilter{Status: []wavedr.ExecutionStatus{"running"}})
	wantField(t, err, "status[0]")
	_, err = db.ListExecutions(ctx, wavedr.ExecutionFilter{Since: start, Until: start})
	wantField(t, err, "until")
	_, err = db.ListExecutions(ctx, wavedr.ExecutionFilter{Limit: -1})
	wantField(t, err, "limit")

	// The same cursor with the same filter keeps working.
	next, err := db.ListExecutions(ctx, wavedr.ExecutionFilter{Cursor: page.Next, Limit: 2})
	must(t, err)
	if len(next.Items) != 2 || next.Items[0].ID == page.Items[1].ID {
		t.Fatalf("second page = %+v", next.Items)
	}
}
