package manifest

import (
	"os"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	const groups = dbGroup + `---
kind: ProtectionGroup
name: app-tier
region: us-east-1
servers: [s-00000000000000001, s-00000000000000002]
---
kind: ProtectionGroup
name: app-copy
region: us-east-1
servers: [s-00000000000000002]
---
`
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"valid", groups + "kind: RecoveryPlan\nname: p\nwaves:\n  - {name: a, groups: [DB-TIER]}\n  - {name: b, groups: [app-tier], dependsOn: []}\n", nil},
		{"domain rules of a group, placed on their lines", `kind: ProtectionGroup
name: -bad
region: mars-1
servers: [s-00000000000000001, S-1, s-00000000000000001]
selector: {tags: {"aws:x": y}}
launchSettings: {launchDisposition: paused}
`, []string{
			"t.yaml#1 (ProtectionGroup -bad) line 1",
			"t.yaml#1 (ProtectionGroup -bad) line 2: name",
			"t.yaml#1 (ProtectionGroup -bad) line 3: region",
			"t.yaml#1 (ProtectionGroup -bad) line 4: servers[1]",
			"t.yaml#1 (ProtectionGroup -bad) line 4: servers[2]",
			"t.yaml#1 (ProtectionGroup -bad) line 5: selector.tags.aws:x",
			"t.yaml#1 (ProtectionGroup -bad) line 6: launchSettings.launchDisposition",
		}},
		{"account rules", "kind: Account\nid: '12345'\nname: a\nroleArn: arn:aws:iam::210987654321:role/r\nexternalId: short\nregions: [us-east-1, us-east-1]\n", []string{
			"t.yaml#1 (Account 12345) line 2: id",
			"t.yaml#1 (Account 12345) line 4: roleArn",
			"t.yaml#1 (Account 12345) line 5: externalId",
			"t.yaml#1 (Account 12345) line 6: regions[1]",
		}},
		{"duplicate names ignore case, per kind", dbGroup + "---\nkind: ProtectionGroup\nname: DB-Tier\nregion: us-east-1\nservers: [s-00000000000000009]\n---\n" +
			"kind: RecoveryPlan\nname: db-tier\nwaves: [{name: w, groups: [db-tier]}]\n---\n" +
			"kind: Account\nid: '123456789012'\nname: a\nregions: [us-east-1]\n---\nkind: Account\nid: '123456789012'\nname: b\nregions: [us-east-1]\n",
			[]string{"t.yaml#2 (ProtectionGroup DB-Tier) line 7: name", "t.yaml#5 (Account 123456789012) line 21: id"}},
		{"missing group, unknown wave, cycle hidden by them", groups + "kind: RecoveryPlan\nname: p\nwaves:\n  - {name: a, groups: [nope], dependsOn: [b]}\n  - {name: b, groups: [db-tier], dependsOn: [zz]}\n",
			[]string{"t.yaml#4 (RecoveryPlan p) line 19: waves[0].groups[0]", "t.yaml#4 (RecoveryPlan p) line 20: waves[1].dependsOn[0]"}},
		{"cycle", groups + "kind: RecoveryPlan\nname: p\nwaves:\n  - {name: a, groups: [db-tier], dependsOn: [c]}\n  - {name: b, groups: [app-tier]}\n  - {name: c, groups: [db-tier]}\n",
			[]string{"t.yaml#4 (RecoveryPlan p) line 18: waves"}},
		{"server in two waves", groups + "kind: RecoveryPlan\nname: p\nwaves:\n  - {name: a, groups: [app-tier]}\n  - {name: b, groups: [db-tier, app-copy]}\n",
			[]string{"t.yaml#4 (RecoveryPlan p) line 20: waves[1].groups[1]"}},
		{"plan rules", groups + "kind: RecoveryPlan\nname: p\nwaves:\n  - {name: a, groups: [db-tier, DB-tier], deadline: 30s}\n  - {name: a, groups: []}\n  - {name: c, groups: [app-tier], dependsOn: [c, a, a], deadline: 100h}\n", []string{
			"t.yaml#4 (RecoveryPlan p) line 19: waves[0].deadline",
			"t.yaml#4 (RecoveryPlan p) line 19: waves[0].groups[1]",
			"t.yaml#4 (RecoveryPlan p) line 20: waves[1].name",
			"t.yaml#4 (RecoveryPlan p) line 20: waves[1].groups",
			"t.yaml#4 (RecoveryPlan p) line 21: waves[2].deadline",
			"t.yaml#4 (RecoveryPlan p) line 21: waves[2].dependsOn[0]",
			"t.yaml#4 (RecoveryPlan p) line 21: waves[2].dependsOn[2]",
		}},
		{"no waves", "kind: RecoveryPlan\nname: p\n", []string{"t.yaml#1 (RecoveryPlan p) line 1: waves"}},
		{"load problem hides its repetition", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector: [Tier]\n---\n" +
			"kind: RecoveryPlan\nname: p\nwaves: [{name: a, groups: g}]\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 4: selector", "t.yaml#2 (RecoveryPlan p) line 8: waves[0].groups"}},
		{"unknown field hides nothing", "kind: ProtectionGroup\nname: g\nregion: us-east-1\ntags: {Tier: db}\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 1", "t.yaml#1 (ProtectionGroup g) line 4: tags"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := load(t, tc.src)
			got := fieldsOf(t, Validate(m))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems at\n\t%s\nwant\n\t%s\n(error: %v)", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"), Validate(m))
			}
		})
	}
}

func TestValidateAcrossFiles(t *testing.T) {
	groups, err := Load("groups.yaml", strings.NewReader(dbGroup))
	if err != nil {
		t.Fatal(err)
	}
	plans, err := Load("plans.yaml", strings.NewReader("kind: RecoveryPlan\nname: p\nwaves: [{name: a, groups: [db-tier]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(plans); err == nil {
		t.Error("a plan without its group validated alone")
	}
	if err := Validate(Merge(groups, plans)); err != nil {
		t.Errorf("Validate(groups+plans) = %v", err)
	}
	again, _ := Load("again.yaml", strings.NewReader(dbGroup))
	assertFields(t, Validate(Merge(groups, plans, again)), []string{"again.yaml#1 (ProtectionGroup db-tier) line 2: name"})
}

func TestValidateNil(t *testing.T) {
	if err := Validate(nil); err != nil {
		t.Errorf("Validate(nil) = %v", err)
	}
}

func TestExampleThreeTier(t *testing.T) {
	f, err := os.Open("../examples/three-tier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Load("three-tier.yaml", f)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := Validate(m); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	var names []string
	for _, o := range m.Objects {
		names = append(names, o.String())
		if o.Kind == KindProtectionGroup {
			if o.Group.Region != "us-east-1" || o.Group.AccountID != "" || o.Group.Selector == nil {
				t.Errorf("%s: want a tag selector in the local account, us-east-1", o)
			} else if tier := o.Group.Selector.Tags["Tier"]; tier == "legacy" || tier == "" {
				t.Errorf("%s selects Tier=%q", o, tier)
			}
		}
	}
	want := "protectiongroup/db-tier protectiongroup/app-tier protectiongroup/web-tier recoveryplan/three-tier"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("objects %s, want %s", got, want)
	}
	p := m.Objects[3].Plan
	if p.Waves[0].Name != "database" || p.Waves[1].Name != "app" || !p.Waves[1].PauseBefore ||
		p.Waves[2].Name != "web" || strings.Join(p.Dependencies(2), ",") != "app" {
		t.Errorf("waves = %+v", p.Waves)
	}
}
