package manifest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"wavedr"
)

const applyDoc = `kind: Account
id: "123456789012"
name: prod
regions: [us-east-1]
---
kind: RecoveryPlan
name: three-tier
waves:
  - {name: database, groups: [db-tier]}
  - {name: app, groups: [app-tier], pauseBefore: true}
  - {name: web, groups: [db-tier], dependsOn: [], deadline: 2h, onFailure: stop}
---
` + dbGroup + `---
kind: ProtectionGroup
name: app-tier
accountId: "123456789012"
region: us-east-1
servers: [s-00000000000000001, s-00000000000000002]
`

func changes(r *Result) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.String())
	}
	return out
}

func TestApplyCreatesThenLeavesAlone(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	m := mustLoad(t, applyDoc)

	preview, err := Diff(ctx, f, m)
	if err != nil {
		t.Fatal(err)
	}
	if f.writes != 0 {
		t.Fatalf("Diff wrote %d objects", f.writes)
	}
	res, err := Apply(ctx, f, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"account/123456789012 created", "protectiongroup/db-tier created", "protectiongroup/app-tier created", "recoveryplan/three-tier created"}
	if got := changes(res); !slices.Equal(got, want) {
		t.Errorf("Apply = %v, want %v", got, want)
	}
	if !slices.Equal(changes(preview), want) {
		t.Errorf("Diff = %v, want %v", changes(preview), want)
	}
	if res.Summary() != "4 created, 0 updated, 0 unchanged" {
		t.Errorf("summary %q", res.Summary())
	}
	if m.Objects[1].Plan.ID != "" || m.Objects[1].Plan.Version != 0 {
		t.Error("Apply changed the manifest's plan")
	}

	writes := f.writes
	res, err = Apply(ctx, f, mustLoad(t, applyDoc))
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || res.Count(Unchanged) != 4 || res.Summary() != "no changes" {
		t.Errorf("second Apply = %v (%s), want all unchanged", changes(res), res.Summary())
	}
	if f.writes != writes {
		t.Errorf("second Apply wrote %d objects", f.writes-writes)
	}
}

func TestApplyUpdatesWhatDiffers(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	if _, err := Apply(ctx, f, mustLoad(t, applyDoc)); err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(
		"pauseBefore: true", "pauseBefore: false",
		"s-00000000000000001, s-00000000000000002", "s-00000000000000002, s-00000000000000001", // a set: order does not matter
		"deadline: 2h, onFailure: stop", "", // the defaults written out or not
	).Replace(applyDoc)
	res, err := Apply(ctx, f, mustLoad(t, edited))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"account/123456789012 unchanged", "protectiongroup/db-tier unchanged", "protectiongroup/app-tier unchanged", "recoveryplan/three-tier updated"}
	if got := changes(res); !slices.Equal(got, want) {
		t.Errorf("Apply = %v, want %v", got, want)
	}
	if p := f.plans["three-tier"]; p.Version != 2 || p.Waves[1].PauseBefore {
		t.Errorf("stored plan version %d, waves[1] %+v", p.Version, p.Waves[1])
	}

	// dependsOn: [] and an absent dependsOn differ (none / the previous wave).
	edited = strings.Replace(edited, "dependsOn: []", "dependsOn: [app]", 1)
	res, err = Apply(ctx, f, mustLoad(t, edited))
	if err != nil || res.Count(Updated) != 1 {
		t.Fatalf("Apply = %v, %v; want the plan updated", res, err)
	}
}

func TestApplyUsesStoredGroups(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	if _, err := Apply(ctx, f, mustLoad(t, dbGroup)); err != nil {
		t.Fatal(err)
	}
	plan := "kind: RecoveryPlan\nname: p\nwaves: [{name: a, groups: [DB-tier]}]\n"
	m := mustLoad(t, plan)
	if Validate(m) == nil {
		t.Fatal("Validate accepted a plan whose group is not in the file")
	}
	res, err := Apply(ctx, f, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := changes(res); !slices.Equal(got, []string{"recoveryplan/p created"}) {
		t.Errorf("Apply = %v", got)
	}
}

func TestApplyWritesNothingWhenInvalid(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	src := applyDoc + "---\nkind: RecoveryPlan\nname: other\nwaves: [{name: a, groups: [nowhere]}]\n"
	_, err := Apply(ctx, f, mustLoad(t, src))
	assertFields(t, err, []string{"t.yaml#5 (RecoveryPlan other) line 26: waves[0].groups[0]"})
	if f.writes != 0 {
		t.Errorf("Apply wrote %d objects", f.writes)
	}

	m, err := load(t, dbGroup+"bogus: 1\n")
	if err == nil {
		t.Fatal("Load accepted an unknown field")
	}
	if _, err := Apply(ctx, f, m); wavedr.ErrorCode(err) != wavedr.EINVALID || f.writes != 0 {
		t.Errorf("Apply of a manifest Load refused = %v, %d writes", err, f.writes)
	}
	if _, err := Apply(ctx, f, &Manifest{}); wavedr.ErrorCode(err) != wavedr.EINVALID {
		t.Errorf("Apply of an empty manifest = %v", err)
	}
}

func TestApplyReturnsServiceErrors(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.failOn, f.failErr = "app-tier", wavedr.Errorf(wavedr.ECONFLICT, "someone else changed it")
	_, err := Apply(ctx, f, mustLoad(t, applyDoc))
	if wavedr.ErrorCode(err) != wavedr.ECONFLICT || !strings.Contains(err.Error(), "protectiongroup/app-tier") {
		t.Errorf("Apply = %v, want ECONFLICT naming the group", err)
	}

	f = newFake()
	f.failOn, f.failErr = "db-tier", errors.New("connection reset")
	if _, err := Apply(ctx, f, mustLoad(t, applyDoc)); wavedr.ErrorCode(err) != wavedr.EINTERNAL {
		t.Errorf("Apply = %v, want the foreign error", err)
	}
}

func TestLookupErrorStopsApply(t *testing.T) {
	f := &brokenFinder{fakeServices: newFake()}
	_, err := Apply(context.Background(), f, mustLoad(t, "kind: RecoveryPlan\nname: p\nwaves: [{name: a, groups: [g]}]\n"))
	if err == nil || wavedr.ErrorCode(err) != wavedr.EUNAVAILABLE {
		t.Errorf("Apply = %v, want the lookup's EUNAVAILABLE", err)
	}
}

type brokenFinder struct{ *fakeServices }

func (b *brokenFinder) FindProtectionGroup(context.Context, string) (*wavedr.ProtectionGroup, error) {
	return nil, wavedr.Errorf(wavedr.EUNAVAILABLE, "database down")
}
