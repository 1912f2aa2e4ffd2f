package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store/storetest"
)

func testProtectionGroups(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	must(t, db.CreateAccount(ctx, newAccount("111111111111", "prod")))

	yes := true
	web := newGroup("Web-Tier", 1, 2, 3)
	web.Description = "front ends"
	web.AccountID = "111111111111"
	web.LaunchSettings = &wavedr.LaunchSettings{CopyTags: &yes, LaunchDisposition: "STARTED"}
	must(t, db.CreateProtectionGroup(ctx, web))
	if !wavedr.ValidID(wavedr.PrefixProtectionGroup, web.ID) || web.Version != 1 {
		t.Fatalf("created group has ID %q version %d", web.ID, web.Version)
	}
	wantTime(t, "createdAt", web.CreatedAt, start)

	db1 := &wavedr.ProtectionGroup{Name: "db", Region: "us-west-2",
		Selector: &wavedr.TagSelector{Tags: map[string]string{"tier": "db", "env": "prod"}}}
	must(t, db.CreateProtectionGroup(ctx, db1))

	for _, key := range []string{web.ID, "web-tier", "WEB-TIER"} {
		got, err := db.FindProtectionGroup(ctx, key)
		must(t, err)
		sameJSON(t, "group found by "+key, got, web)
	}
	got, err := db.FindProtectionGroup(ctx, "db")
	must(t, err)
	sameJSON(t, "group with a selector", got, db1)
	_, err = db.FindProtectionGroup(ctx, "nope")
	wantCode(t, err, wavedr.ENOTFOUND)

	// Names are unique regardless of case.
	wantCode(t, db.CreateProtectionGroup(ctx, newGroup("web-TIER", 9)), wavedr.ECONFLICT)

	// Update, then a stale update that changes nothing.
	clock.Advance(time.Second)
	stale := *web
	web.ServerIDs = append(web.ServerIDs, serverID(4))
	must(t, db.UpdateProtectionGroup(ctx, web))
	if web.Version != 2 {
		t.Fatalf("version after update = %d", web.Version)
	}
	stale.Description = "lost"
	e := wantCode(t, db.UpdateProtectionGroup(ctx, &stale), wavedr.ECONFLICT)
	if !wavedr.IsStaleVersion(e) || !strings.Contains(e.Error(), "1 is stale; the current version is 2") {
		t.Errorf("stale message = %q", e.Message)
	}
	got, err = db.FindProtectionGroup(ctx, web.ID)
	must(t, err)
	sameJSON(t, "group after stale update", got, web)

	// Renaming onto a taken name is refused; an unknown account is EINVALID.
	db1.Name = "WEB-tier"
	wantCode(t, db.UpdateProtectionGroup(ctx, db1), wavedr.ECONFLICT)
	db1.Name = "db"
	db1.AccountID = "999999999999"
	wantField(t, db.UpdateProtectionGroup(ctx, db1), "accountId")
	db1.AccountID = ""

	// Validation errors name the fields.
	bad := newGroup("bad name!", 1)
	bad.ServerIDs = append(bad.ServerIDs, "i-123")
	err = db.CreateProtectionGroup(ctx, bad)
	wantField(t, err, "name")
	wantField(t, err, "serverIds[1]")
	if bad.ID != "" {
		t.Errorf("a refused create gave the group ID %q", bad.ID)
	}

	// Delete at a stale version, then for real.
	wantCode(t, db.DeleteProtectionGroup(ctx, web.ID, 1), wavedr.ECONFLICT)
	must(t, db.DeleteProtectionGroup(ctx, web.ID, web.Version))
	wantCode(t, db.DeleteProtectionGroup(ctx, web.ID, web.Version), wavedr.ENOTFOUND)
	missing := newGroup("ghost", 1)
	missing.ID, missing.Version = wavedr.NewID(wavedr.PrefixProtectionGroup, start), 1
	wantCode(t, db.UpdateProtectionGroup(ctx, missing), wavedr.ENOTFOUND)
}

func testProtectionGroupRefusals(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	app := newGroup("app", 1)
	must(t, db.CreateProtectionGroup(ctx, app))
	must(t, db.CreateRecoveryPlan(ctx, newPlan("three-tier", newWave("first", "APP"))))

	// A group a plan uses cannot be deleted, nor renamed (plans refer to
	// groups by name); a change of case keeps the reference.
	e := wantCode(t, db.DeleteProtectionGroup(ctx, app.ID, app.Version), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, `"three-tier"`) {
		t.Errorf("refusal %q should name the plan", e.Message)
	}
	renamed := *app
	renamed.Name = "application"
	e = wantCode(t, db.UpdateProtectionGroup(ctx, &renamed), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, `"three-tier"`) {
		t.Errorf("refusal %q should name the plan", e.Message)
	}
	app.Name = "APP"
	must(t, db.UpdateProtectionGroup(ctx, app))
	if _, err := db.FindProtectionGroup(ctx, "app"); err != nil {
		t.Fatalf("group after a change of case: %v", err)
	}
}

func testProtectionGroupPaging(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	must(t, db.CreateAccount(ctx, newAccount("111111111111", "prod")))
	var want []string // names in the prod account, us-east-1, in list order
	for i := 0; i < 23; i++ {
		g := newGroup(fmt.Sprintf("G%02d", i), i+1)
		if i%2 == 0 {
			g.Name = strings.ToLower(g.Name) // mixed case sorts case-insensitively
		}
		if i%3 != 0 {
			g.AccountID = "111111111111"
			want = append(want, g.Name)
		}
		must(t, db.CreateProtectionGroup(ctx, g))
	}
	f := wavedr.ProtectionGroupFilter{AccountID: "111111111111", Region: "us-east-1", Limit: 4}
	var got []string
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page, err := db.ListProtectionGroups(ctx, f)
		must(t, err)
		for _, g := range page.Items {
			got = append(got, g.Name)
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged groups = %v, want %v", got, want)
	}
	// A cursor is bound to its filter and cannot be edited.
	page, err := db.ListProtectionGroups(ctx, wavedr.ProtectionGroupFilter{Limit: 2})
	must(t, err)
	_, err = db.ListProtectionGroups(ctx, wavedr.ProtectionGroupFilter{Region: "us-east-1", Cursor: page.Next})
	wantField(t, err, "cursor")
	_, err = db.ListProtectionGroups(ctx, wavedr.ProtectionGroupFilter{Cursor: page.Next[:len(page.Next)-2] + "AA"})
	wantField(t, err, "cursor")
	_, err = db.ListProtectionGroups(ctx, wavedr.ProtectionGroupFilter{Limit: wavedr.MaxPageSize + 1})
	wantField(t, err, "limit")
}
