package store_test

import (
	"strings"
	"testing"

	"wavedr"
	"wavedr/store/storetest"
)

func testClaims(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	p := createPlan(t, ctx, db, "p", 1)
	var ex [3]*wavedr.Execution
	for i := range ex {
		ex[i] = newExecution(t, ctx, db, p, start)
		must(t, db.CreateExecution(ctx, ex[i]))
	}
	s1, s2, s3 := serverID(1), serverID(2), serverID(3)

	must(t, db.ClaimServers(ctx, ex[0].ID, []string{s1, s2}))
	must(t, db.ClaimServers(ctx, ex[0].ID, []string{s2, s1, s1})) // its own: a no-op

	// All or nothing: s3 is free but s2 is taken, so neither is claimed.
	err := db.ClaimServers(ctx, ex[1].ID, []string{s3, s2})
	we := wantCode(t, err, wavedr.ECONFLICT)
	if !strings.Contains(we.Message, s2) || !strings.Contains(we.Message, ex[0].ID) || wavedr.IsStaleVersion(err) {
		t.Errorf("conflict %q should name %s and %s (and not be a stale version)", we.Message, s2, ex[0].ID)
	}
	must(t, db.ClaimServers(ctx, ex[2].ID, []string{s3}))
	wantCode(t, db.ClaimServers(ctx, ex[1].ID, []string{s3}), wavedr.ECONFLICT)

	// Released claims can be taken.
	must(t, db.ReleaseServers(ctx, ex[0].ID))
	must(t, db.ReleaseServers(ctx, ex[0].ID))
	must(t, db.ClaimServers(ctx, ex[1].ID, []string{s1, s2}))
	wantCode(t, db.ClaimServers(ctx, ex[0].ID, []string{s1}), wavedr.ECONFLICT)

	wantField(t, db.ClaimServers(ctx, ex[0].ID, []string{"i-123"}), "servers[0]")
	wantCode(t, db.ClaimServers(ctx, "ex-missing", []string{serverID(7)}), wavedr.ENOTFOUND)
	must(t, db.ClaimServers(ctx, ex[0].ID, nil))
}
