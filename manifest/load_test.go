package manifest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"wavedr"
)

const dbGroup = `kind: ProtectionGroup
name: db-tier
region: us-east-1
selector: {tags: {Tier: db}}
`

func TestLoadReadsEveryField(t *testing.T) {
	m := mustLoad(t, `
kind: Account
id: 123456789012
name: prod
roleArn: arn:aws:iam::123456789012:role/wavedr
externalId: 0123456789abcdef-x
regions: [us-east-1, eu-west-1]
---
kind: ProtectionGroup
name: db-tier
description: databases
accountId: "123456789012"
region: us-east-1
servers: [s-0123456789abcdef0]
launchSettings:
  copyPrivateIp: true
  copyTags: false
  launchDisposition: stopped
  rightSizingMethod: in_aws
  osByol: true
---
kind: ProtectionGroup
name: web
region: us-east-1
selector:
  tags: {Tier: web, Version: 2}
---
kind: RecoveryPlan
name: p
description: the plan
waves:
  - name: one
    groups: [db-tier]
    pauseBefore: true
    deadline: 45m
    onFailure: Continue
  - name: two
    groups: [web]
    dependsOn: []
  - name: three
    groups: [web]
    dependsOn: ~
    onFailure: STOP
`)
	if len(m.Objects) != 4 {
		t.Fatalf("%d objects, want 4", len(m.Objects))
	}
	a := m.Objects[0].Account
	if a.ID != "123456789012" || a.Name != "prod" || a.RoleARN == "" || a.ExternalID != "0123456789abcdef-x" || len(a.Regions) != 2 {
		t.Errorf("account = %+v", a)
	}
	g := m.Objects[1].Group
	ls := g.LaunchSettings
	if g.Name != "db-tier" || g.Description != "databases" || g.AccountID != "123456789012" || g.Region != "us-east-1" ||
		len(g.ServerIDs) != 1 || g.Selector != nil || ls == nil || !*ls.CopyPrivateIP || *ls.CopyTags || !*ls.OSByol ||
		ls.LaunchDisposition != "STOPPED" || ls.RightSizingMethod != "IN_AWS" {
		t.Errorf("group = %+v, launch settings %+v", g, ls)
	}
	if sel := m.Objects[2].Group.Selector; sel == nil || sel.Tags["Tier"] != "web" || sel.Tags["Version"] != "2" {
		t.Errorf("selector = %+v", sel)
	}
	p := m.Objects[3].Plan
	if p.Name != "p" || p.Description != "the plan" || len(p.Waves) != 3 {
		t.Fatalf("plan = %+v", p)
	}
	w := p.Waves[0]
	if w.Name != "one" || w.Groups[0] != "db-tier" || !w.PauseBefore || w.Deadline != wavedr.Duration(45*time.Minute) || w.OnFailure != wavedr.FailureContinue {
		t.Errorf("waves[0] = %+v", w)
	}
	if p.Waves[1].DependsOn == nil || len(p.Waves[1].DependsOn) != 0 {
		t.Errorf("dependsOn: [] read as %#v, want an empty list", p.Waves[1].DependsOn)
	}
	if p.Waves[2].DependsOn != nil || p.Waves[2].OnFailure != wavedr.FailureStop {
		t.Errorf("waves[2] = %+v, want dependsOn nil and STOP", p.Waves[2])
	}
	if p.Waves[0].DependsOn != nil {
		t.Errorf("absent dependsOn read as %#v, want nil", p.Waves[0].DependsOn)
	}
	if err := Validate(m); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"empty file", "", []string{"t.yaml"}},
		{"only comments", "# nothing\n", []string{"t.yaml"}},
		{"only empty documents", "---\n---\n", []string{"t.yaml"}},
		{"syntax error", dbGroup + "---\nkind: [\n", []string{"t.yaml#2 line 6"}},
		{"not a mapping", "- a\n- b\n", []string{"t.yaml#1 line 1"}},
		{"missing kind", "name: x\n", []string{"t.yaml#1 line 1: kind"}},
		{"kind not a string", "kind: {a: b}\n", []string{"t.yaml#1 line 1: kind"}},
		{"unknown kind", "kind: Server\nname: x\n", []string{"t.yaml#1 line 1: kind"}},
		{"kind in the wrong case", "kind: protectiongroup\n", []string{"t.yaml#1 line 1: kind"}},
		{"unknown field", dbGroup + "tier: db\n", []string{"t.yaml#1 (ProtectionGroup db-tier) line 5: tier"}},
		{"serverIds is not the YAML spelling", dbGroup + "serverIds: []\n", []string{"t.yaml#1 (ProtectionGroup db-tier) line 5: serverIds"}},
		{"id of a group is not settable", dbGroup + "id: pg-x\n", []string{"t.yaml#1 (ProtectionGroup db-tier) line 5: id"}},
		{"field set twice", dbGroup + "region: us-west-2\n", []string{"t.yaml#1 (ProtectionGroup db-tier) line 5: region"}},
		{"unknown selector field", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector: {tag: {a: b}}\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 4: selector.tag"}},
		{"selector not a mapping", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector: [a]\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 4: selector"}},
		{"tag without value", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector:\n  tags:\n    Tier:\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 6: selector.tags.Tier"}},
		{"tag set twice", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector:\n  tags: {a: x, a: y}\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 5: selector.tags.a"}},
		{"servers not a list", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nservers: s-0123456789abcdef0\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 4: servers"}},
		{"server not a string", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nservers:\n  - {id: x}\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 5: servers[0]"}},
		{"name a boolean", "kind: ProtectionGroup\nname: true\nregion: us-east-1\nservers: [s-0123456789abcdef0]\n",
			[]string{"t.yaml#1 (ProtectionGroup) line 2: name"}},
		{"launch setting not a boolean", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nservers: [s-0123456789abcdef0]\nlaunchSettings: {copyTags: yes}\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 5: launchSettings.copyTags"}},
		{"unknown launch setting", "kind: ProtectionGroup\nname: g\nregion: us-east-1\nservers: [s-0123456789abcdef0]\nlaunchSettings: {bootMode: UEFI}\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 5: launchSettings.bootMode"}},
		{"waves not a list", "kind: RecoveryPlan\nname: p\nwaves: {name: a}\n",
			[]string{"t.yaml#1 (RecoveryPlan p) line 3: waves"}},
		{"wave not a mapping", "kind: RecoveryPlan\nname: p\nwaves:\n  - a\n",
			[]string{"t.yaml#1 (RecoveryPlan p) line 4: waves[0]"}},
		{"wave problems", `kind: RecoveryPlan
name: p
waves:
  - name: a
    groups: db
    pauseBefore: "yes"
    deadline: 45
    onFailure: retry
    depends: [b]
  - name: b
    groups: [db]
    dependsOn: a
    deadline: soon
`, []string{
			"t.yaml#1 (RecoveryPlan p) line 5: waves[0].groups",
			"t.yaml#1 (RecoveryPlan p) line 6: waves[0].pauseBefore",
			"t.yaml#1 (RecoveryPlan p) line 7: waves[0].deadline",
			"t.yaml#1 (RecoveryPlan p) line 8: waves[0].onFailure",
			"t.yaml#1 (RecoveryPlan p) line 9: waves[0].depends",
			"t.yaml#1 (RecoveryPlan p) line 12: waves[1].dependsOn",
			"t.yaml#1 (RecoveryPlan p) line 13: waves[1].deadline",
		}},
		{"empty onFailure", "kind: RecoveryPlan\nname: p\nwaves: [{name: a, groups: [g], onFailure: ''}]\n",
			[]string{"t.yaml#1 (RecoveryPlan p) line 3: waves[0].onFailure"}},
		{"alias", "kind: ProtectionGroup\nname: &n g\nregion: *n\nservers: [s-0123456789abcdef0]\n",
			[]string{"t.yaml#1 (ProtectionGroup g) line 3: region"}},
		{"non-string key", dbGroup + "1: x\n", []string{"t.yaml#1 (ProtectionGroup db-tier) line 5"}},
		{"custom tag", dbGroup + "description: !secret x\n", []string{"t.yaml#1 (ProtectionGroup db-tier) line 5: description"}},
		{"problems in several documents, empty ones counted", "kind: Nope\n---\n---\n" + dbGroup + "extra: 1\n",
			[]string{"t.yaml#1 line 1: kind", "t.yaml#3 (ProtectionGroup db-tier) line 8: extra"}},
		{"account fields", "kind: Account\nid: 123456789012\nname: [a]\nregions: us-east-1\nrole: x\n", []string{
			"t.yaml#1 (Account 123456789012) line 3: name",
			"t.yaml#1 (Account 123456789012) line 4: regions",
			"t.yaml#1 (Account 123456789012) line 5: role",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.src)
			assertFields(t, err, tc.want)
		})
	}
}

func TestLoadIgnoresEmptyDocuments(t *testing.T) {
	m := mustLoad(t, "---\n# first\n---\n"+dbGroup+"---\n")
	if len(m.Objects) != 1 || m.Objects[0].Doc != 2 {
		t.Fatalf("objects %v, want db-tier as document 2", m.Objects)
	}
}

func TestLoadRefusesLargeInput(t *testing.T) {
	big := dbGroup + "description: " + strings.Repeat("x", MaxSize) + "\n"
	_, err := Load("big.yaml", strings.NewReader(big))
	assertFields(t, err, []string{"big.yaml"})
}

func TestLoadAliasBomb(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("kind: RecoveryPlan\nname: p\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	b.WriteString("waves: *a29\n")
	_, err := Load("bomb.yaml", &b)
	if wavedr.ErrorCode(err) != wavedr.EINVALID {
		t.Fatalf("Load = %v, want EINVALID", err)
	}
}

func TestLoadReadError(t *testing.T) {
	m, err := Load("broken", errReader{})
	if m != nil || err == nil || wavedr.ErrorCode(err) == wavedr.EINVALID {
		t.Fatalf("Load = %v, %v; want no manifest and a read error", m, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
