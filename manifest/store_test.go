package manifest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"wavedr"
	"wavedr/manifest"
	"wavedr/store"
	"wavedr/store/storetest"
)

func loadExample(t *testing.T, extra string) *manifest.Manifest {
	t.Helper()
	src, err := os.ReadFile("../examples/three-tier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load("three-tier.yaml", strings.NewReader(string(src)+extra))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

// apply applies m in one transaction of db, through wrap if it is not nil.
func apply(t *testing.T, db *store.DB, m *manifest.Manifest, wrap func(*store.Tx) manifest.Services) (*manifest.Result, error) {
	t.Helper()
	var res *manifest.Result
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		var svc manifest.Services = tx
		if wrap != nil {
			svc = wrap(tx)
		}
		var err error
		res, err = manifest.Apply(context.Background(), svc, m)
		return err
	})
	return res, err
}

// failingPlans fails every plan write, after the groups were written.
type failingPlans struct{ *store.Tx }

func (failingPlans) CreateRecoveryPlan(context.Context, *wavedr.RecoveryPlan) error {
	return wavedr.Errorf(wavedr.EUNAVAILABLE, "the plan could not be written")
}

func (failingPlans) UpdateRecoveryPlan(context.Context, *wavedr.RecoveryPlan) error {
	return wavedr.Errorf(wavedr.EUNAVAILABLE, "the plan could not be written")
}

func TestApplyToStore(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			db := d.Open(t)

			res, err := apply(t, db, loadExample(t, ""), nil)
			if err != nil {
				t.Fatalf("first apply: %v", err)
			}
			if res.Count(manifest.Created) != 4 {
				t.Fatalf("first apply: %v", res.Changes)
			}
			res, err = apply(t, db, loadExample(t, ""), nil)
			if err != nil {
				t.Fatalf("second apply: %v", err)
			}
			if res.Changed() {
				t.Fatalf("second apply changed %v, want everything unchanged", res.Changes)
			}
			plan, err := db.FindRecoveryPlan(ctx, "three-tier")
			if err != nil {
				t.Fatal(err)
			}
			if plan.Version != 1 || plan.Waves[1].DependsOn != nil || plan.Waves[2].DependsOn == nil {
				t.Errorf("stored plan version %d, waves %+v", plan.Version, plan.Waves)
			}

			// A new group with a bad second document: refused before any write.
			extra := "---\nkind: ProtectionGroup\nname: extra\nregion: us-east-1\nselector: {tags: {Tier: extra}}\n"
			bad := extra + "---\nkind: RecoveryPlan\nname: broken\nwaves: [{name: a, groups: [missing]}]\n"
			if _, err := apply(t, db, loadExample(t, bad), nil); wavedr.ErrorCode(err) != wavedr.EINVALID {
				t.Fatalf("apply with a bad document = %v, want EINVALID", err)
			}
			if _, err := db.FindProtectionGroup(ctx, "extra"); wavedr.ErrorCode(err) != wavedr.ENOTFOUND {
				t.Errorf("group of a refused apply: %v, want ENOTFOUND", err)
			}

			// A write failing after others: the transaction undoes them.
			edited := loadExample(t, extra+"---\nkind: RecoveryPlan\nname: more\nwaves: [{name: a, groups: [extra]}]\n")
			wrap := func(tx *store.Tx) manifest.Services { return failingPlans{tx} }
			if _, err := apply(t, db, edited, wrap); wavedr.ErrorCode(err) != wavedr.EUNAVAILABLE {
				t.Fatalf("apply with a failing plan write = %v, want EUNAVAILABLE", err)
			}
			if _, err := db.FindProtectionGroup(ctx, "extra"); wavedr.ErrorCode(err) != wavedr.ENOTFOUND {
				t.Errorf("group written before the failure: %v, want ENOTFOUND (rolled back)", err)
			}
			res, err = apply(t, db, edited, nil)
			if err != nil || res.Count(manifest.Created) != 2 || res.Count(manifest.Unchanged) != 4 {
				t.Errorf("apply with the new group and plan = %v, %v", res, err)
			}
		})
	}
}
