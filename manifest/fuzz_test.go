package manifest

import (
	"bytes"
	"os"
	"testing"
	"time"

	"wavedr"
)

// loadSeeds are inputs of every shape Load handles: the example, each kind,
// and the error cases of the tests.
var loadSeeds = []string{
	"",
	"---\n---\n",
	dbGroup,
	applyDoc,
	"kind: Nope\n---\n---\n" + dbGroup + "extra: 1\n",
	"kind: RecoveryPlan\nname: p\nwaves:\n  - {name: a, groups: [db], dependsOn: [b], deadline: 45m, onFailure: continue}\n  - {name: b, groups: [db], dependsOn: [a]}\n",
	"kind: RecoveryPlan\nname: p\nwaves:\n  - name: a\n    groups: db\n    pauseBefore: \"yes\"\n    deadline: 45\n    onFailure: retry\n",
	"kind: ProtectionGroup\nname: &n g\nregion: *n\nservers: [s-0123456789abcdef0]\n",
	"kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector:\n  tags: {a: x, a: y, b: ~}\nlaunchSettings: {copyTags: yes, launchDisposition: started}\n",
	"kind: Account\nid: 123456789012\nname: a\nroleArn: arn:aws:iam::123456789012:role/r\nexternalId: 0123456789abcdef\nregions: [us-east-1]\n",
	"- a\n- b\n",
	"kind: [\n",
	"a: {b: c",
	dbGroup + "description: !secret x\n1: x\n",
}

func FuzzLoad(f *testing.F) {
	if example, err := os.ReadFile("../examples/three-tier.yaml"); err == nil {
		f.Add(example)
	}
	for _, s := range loadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			if code := wavedr.ErrorCode(err); code != wavedr.EINVALID {
				t.Fatalf("Load error %v has code %q, want EINVALID", err, code)
			}
			if m == nil {
				t.Fatal("Load returned no manifest with EINVALID")
			}
		} else if len(m.Objects) == 0 {
			t.Fatal("Load returned an empty manifest without error")
		}
		if code := wavedr.ErrorCode(Validate(m)); code != "" && code != wavedr.EINVALID {
			t.Fatalf("Validate error has code %q", code)
		}
	})
}

// fuzzPlan builds a plan from bytes: a few names from a small alphabet so
// that duplicates, self-references and cycles are common.
func fuzzPlan(data []byte) (*wavedr.RecoveryPlan, wavedr.GroupLookup) {
	names := []string{"a", "b", "c", "A", "", "-x", "d.e", "f_g"}
	servers := []string{"s-00000000000000001", "s-00000000000000002", "bad"}
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := int(data[0])
		data = data[1:]
		return b
	}
	p := &wavedr.RecoveryPlan{Name: names[next()%len(names)]}
	for n := next() % 8; n > 0; n-- {
		w := wavedr.Wave{Name: names[next()%len(names)], PauseBefore: next()%2 == 0}
		for g := next() % 4; g > 0; g-- {
			w.Groups = append(w.Groups, names[next()%len(names)])
		}
		switch next() % 3 {
		case 0: // nil: the previous wave
		case 1:
			w.DependsOn = []string{}
		default:
			for d := next()%3 + 1; d > 0; d-- {
				w.DependsOn = append(w.DependsOn, names[next()%len(names)])
			}
		}
		w.Deadline = wavedr.Duration(time.Duration(next()-64) * time.Minute * 20)
		w.OnFailure = []wavedr.FailurePolicy{"", wavedr.FailureStop, wavedr.FailureContinue, "stop"}[next()%4]
		p.Waves = append(p.Waves, w)
	}
	groups := map[string]*wavedr.ProtectionGroup{}
	for _, n := range names[:4] {
		if next()%2 == 0 {
			continue
		}
		g := &wavedr.ProtectionGroup{Name: n}
		for s := next() % 3; s > 0; s-- {
			g.ServerIDs = append(g.ServerIDs, servers[next()%len(servers)])
		}
		groups[n] = g
	}
	return p, func(name string) *wavedr.ProtectionGroup { return groups[name] }
}

func FuzzPlanValidate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 3, 0, 0, 1, 0, 0, 64, 0, 1, 1, 1, 1, 2, 1, 0, 64, 1})
	f.Add([]byte{1, 2, 0, 1, 1, 0, 2, 0, 1, 64, 1, 1, 0, 1, 2, 1, 0, 0, 64, 2, 1, 1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, lookup := fuzzPlan(data)
		for _, l := range []wavedr.GroupLookup{nil, lookup} {
			if code := wavedr.ErrorCode(p.Validate(l)); code != "" && code != wavedr.EINVALID {
				t.Fatalf("Validate error has code %q", code)
			}
		}
	})
}
