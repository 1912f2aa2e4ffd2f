package store_test

import (
	"fmt"
	"strings"
	"testing"

	"wavedr"
	"wavedr/store/storetest"
)

func testRecoveryPlans(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	for i, name := range []string{"web", "app", "db"} {
		must(t, db.CreateProtectionGroup(ctx, newGroup(name, i+1)))
	}
	p := newPlan("Three-Tier",
		newWave("databases", "DB"),
		wavedr.Wave{Name: "apps", Groups: []string{"app"}, PauseBefore: true, Deadline: wavedr.Duration(90 * 60e9), OnFailure: wavedr.FailureContinue},
		wavedr.Wave{Name: "web", Groups: []string{"web"}, DependsOn: []string{}},
	)
	p.Description = "the usual"
	must(t, db.CreateRecoveryPlan(ctx, p))
	if !wavedr.ValidID(wavedr.PrefixRecoveryPlan, p.ID) || p.Version != 1 {
		t.Fatalf("created plan has ID %q version %d", p.ID, p.Version)
	}
	for _, key := range []string{p.ID, "three-tier", "THREE-TIER"} {
		got, err := db.FindRecoveryPlan(ctx, key)
		must(t, err)
		sameJSON(t, "plan found by "+key, got, p)
		// nil DependsOn (the previous wave) and empty (none) differ.
		if got.Waves[0].DependsOn != nil || got.Waves[2].DependsOn == nil {
			t.Fatalf("dependsOn nil/empty not kept: %#v", got.Waves)
		}
	}
	wantCode(t, db.CreateRecoveryPlan(ctx, newPlan("three-TIER", newWave("w", "web"))), wavedr.ECONFLICT)

	// Moving the plan off a group frees the group.
	stale := *p
	p.Waves = p.Waves[:2]
	must(t, db.UpdateRecoveryPlan(ctx, p))
	if p.Version != 2 {
		t.Fatalf("version after update = %d", p.Version)
	}
	web, err := db.FindProtectionGroup(ctx, "web")
	must(t, err)
	must(t, db.DeleteProtectionGroup(ctx, web.ID, web.Version))

	// A stale update changes nothing.
	stale.Description = "lost"
	stale.Waves = stale.Waves[:1]
	wantCode(t, db.UpdateRecoveryPlan(ctx, &stale), wavedr.ECONFLICT)
	got, err := db.FindRecoveryPlan(ctx, p.ID)
	must(t, err)
	sameJSON(t, "plan after stale update", got, p)

	wantCode(t, db.DeleteRecoveryPlan(ctx, p.ID, 1), wavedr.ECONFLICT)
	must(t, db.DeleteRecoveryPlan(ctx, p.ID, p.Version))
	_, err = db.FindRecoveryPlan(ctx, p.ID)
	wantCode(t, err, wavedr.ENOTFOUND)
	wantCode(t, db.DeleteRecoveryPlan(ctx, p.ID, p.Version), wavedr.ENOTFOUND)
	// Its groups are free once it is gone.
	app, err := db.FindProtectionGroup(ctx, "app")
	must(t, err)
	must(t, db.DeleteProtectionGroup(ctx, app.ID, app.Version))
}

func testRecoveryPlanRefusals(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	must(t, db.CreateProtectionGroup(ctx, newGroup("a", 1, 2)))
	must(t, db.CreateProtectionGroup(ctx, newGroup("b", 2, 3)))

	// Validation against the stored groups: a missing group, and a server
	// in two waves.
	err := db.CreateRecoveryPlan(ctx, newPlan("p", newWave("one", "a"), newWave("two", "missing")))
	wantField(t, err, "waves[1].groups[0]")
	err = db.CreateRecoveryPlan(ctx, newPlan("p", newWave("one", "a"), newWave("two", "B")))
	wantField(t, err, "waves[1].groups[0]")
	err = db.CreateRecoveryPlan(ctx, newPlan("", newWave("one", "a"), newWave("one", "a")))
	wantField(t, err, "name")
	wantField(t, err, "waves[1].name")

	// A plan with an active execution cannot be deleted; once the
	// execution is over it can, and the execution stays.
	p := createPlan(t, ctx, db, "guarded", 1)
	e := newExecution(t, ctx, db, p, start)
	must(t, db.CreateExecution(ctx, e))
	err = db.DeleteRecoveryPlan(ctx, p.ID, p.Version)
	if we := wantCode(t, err, wavedr.ECONFLICT); !strings.Contains(we.Message, e.ID) {
		t.Errorf("refusal %q should name the execution", we.Message)
	}
	must(t, e.SetStatus(wavedr.ExecutionCancelled, start))
	must(t, db.UpdateExecution(ctx, e))
	must(t, db.DeleteRecoveryPlan(ctx, p.ID, p.Version))
	if _, err := db.FindExecution(ctx, e.ID); err != nil {
		t.Fatalf("the execution of a deleted plan: %v", err)
	}
}

func testRecoveryPlanPaging(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	must(t, db.CreateProtectionGroup(ctx, newGroup("g", 1)))
	var want []string
	for i := 11; i >= 0; i-- {
		name := fmt.Sprintf("Plan-%02d", i)
		must(t, db.CreateRecoveryPlan(ctx, newPlan(name, newWave("w", "g"))))
		want = append([]string{name}, want...)
	}
	var got []string
	f := wavedr.RecoveryPlanFilter{Limit: 5}
	for {
		page, err := db.ListRecoveryPlans(ctx, f)
		must(t, err)
		for _, p := range page.Items {
			got = append(got, p.Name)
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged plans = %v, want %v", got, want)
	}
	groups, err := db.ListProtectionGroups(ctx, wavedr.ProtectionGroupFilter{})
	must(t, err)
	if groups.Next != "" || len(groups.Items) != 1 {
		t.Fatalf("one group expected on one page: %+v", groups)
	}
	// A cursor of another list is refused.
	plans, err := db.ListRecoveryPlans(ctx, wavedr.RecoveryPlanFilter{Limit: 1})
	must(t, err)
	_, err = db.ListProtectionGroups(ctx, wavedr.ProtectionGroupFilter{Cursor: plans.Next})
	wantField(t, err, "cursor")
}
