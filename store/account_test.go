package store_test

import (
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store/storetest"
)

func testAccounts(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)

	prod := newAccount("111111111111", "Prod")
	prod.RoleARN = "arn:aws:iam::111111111111:role/wavedr"
	prod.ExternalID = "a-long-enough-external-id"
	must(t, db.CreateAccount(ctx, prod))
	if prod.Version != 1 {
		t.Fatalf("version after create = %d, want 1", prod.Version)
	}
	wantTime(t, "createdAt", prod.CreatedAt, clock.Now())
	must(t, db.CreateAccount(ctx, newAccount("222222222222", "dr")))

	for _, key := range []string{"111111111111", "prod", "PROD"} {
		got, err := db.FindAccount(ctx, key)
		must(t, err)
		sameJSON(t, "account found by "+key, got, prod)
	}
	_, err := db.FindAccount(ctx, "333333333333")
	wantCode(t, err, wavedr.ENOTFOUND)

	// The same ID, and the same name in another case, are refused.
	wantCode(t, db.CreateAccount(ctx, newAccount("111111111111", "other")), wavedr.ECONFLICT)
	e := wantCode(t, db.CreateAccount(ctx, newAccount("333333333333", "pRoD")), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, "named") || wavedr.IsStaleVersion(e) {
		t.Errorf("message %q should say the name is taken (not a stale version)", e.Message)
	}

	list, err := db.ListAccounts(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != "111111111111" || list[1].ID != "222222222222" {
		t.Fatalf("ListAccounts = %v, want both ordered by ID", list)
	}

	// Update increments the version; a stale version changes nothing.
	clock.Advance(time.Minute)
	stale := *prod
	prod.Regions = []string{"eu-west-1"}
	must(t, db.UpdateAccount(ctx, prod))
	if prod.Version != 2 {
		t.Fatalf("version after update = %d, want 2", prod.Version)
	}
	wantTime(t, "updatedAt", prod.UpdatedAt, clock.Now())
	wantTime(t, "createdAt after update", prod.CreatedAt, start)
	stale.Name = "renamed"
	e = wantCode(t, db.UpdateAccount(ctx, &stale), wavedr.ECONFLICT)
	if !wavedr.IsStaleVersion(e) || !strings.Contains(e.Error(), "1 is stale; the current version is 2") {
		t.Errorf("stale message = %q", e.Message)
	}
	if stale.Version != 1 {
		t.Errorf("a failed update changed the caller's version to %d", stale.Version)
	}
	got, err := db.FindAccount(ctx, prod.ID)
	must(t, err)
	sameJSON(t, "account after stale update", got, prod)

	// Renaming onto another account's name is refused.
	dr, err := db.FindAccount(ctx, "222222222222")
	must(t, err)
	dr.Name = "PROD"
	wantCode(t, db.UpdateAccount(ctx, dr), wavedr.ECONFLICT)
	missing := newAccount("444444444444", "ghost")
	missing.Version = 1
	wantCode(t, db.UpdateAccount(ctx, missing), wavedr.ENOTFOUND)

	// Delete: refused while a group uses the account and at a stale version.
	g := newGroup("web", 1)
	g.AccountID = prod.ID
	must(t, db.CreateProtectionGroup(ctx, g))
	e = wantCode(t, db.DeleteAccount(ctx, prod.ID, prod.Version), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, `"web"`) {
		t.Errorf("refusal %q should name the group", e.Message)
	}
	must(t, db.DeleteProtectionGroup(ctx, g.ID, g.Version))
	wantCode(t, db.DeleteAccount(ctx, prod.ID, 1), wavedr.ECONFLICT)
	must(t, db.DeleteAccount(ctx, prod.ID, prod.Version))
	_, err = db.FindAccount(ctx, prod.ID)
	wantCode(t, err, wavedr.ENOTFOUND)
	wantCode(t, db.DeleteAccount(ctx, prod.ID, prod.Version), wavedr.ENOTFOUND)
}

func testAccountValidation(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	a := newAccount("12345", "")
	a.RoleARN = "arn:aws:iam::111111111111:role/x"
	err := db.CreateAccount(ctx, a)
	wantField(t, err, "id")
	wantField(t, err, "name")
	wantField(t, err, "externalId")
	if a.Version != 0 || !a.CreatedAt.IsZero() {
		t.Errorf("a refused create changed the account: %+v", a)
	}
	list, err := db.ListAccounts(ctx)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("an invalid account was stored: %v", list)
	}
}
