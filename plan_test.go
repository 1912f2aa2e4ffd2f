package wavedr

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRecoveryPlanValidate(t *testing.T) {
	valid := func() *RecoveryPlan {
		return &RecoveryPlan{Name: "three-tier", Waves: []Wave{
			{Name: "db", Groups: []string{"db-tier"}},
			{Name: "app", Groups: []string{"app-tier"}, PauseBefore: true},
			{Name: "web", Groups: []string{"web-tier"}, DependsOn: []string{"app"}},
		}}
	}
	manyWaves := func(n int) []Wave {
		ws := make([]Wave, n)
		for i := range ws {
			ws[i] = Wave{Name: "w" + strings.Repeat("x", i%50) + string(rune('a'+i/50)), Groups: []string{"g"}}
		}
		return ws
	}
	for _, tc := range []struct {
		name string
		edit func(p *RecoveryPlan)
		want []string
	}{
		{"valid", func(*RecoveryPlan) {}, nil},
		{"valid with everything", func(p *RecoveryPlan) {
			p.ID = NewID(PrefixRecoveryPlan, t0)
			p.Description = strings.Repeat("d", 1024)
			p.Waves[0].Deadline = MinWaveDeadline
			p.Waves[1].Deadline = MaxWaveDeadline
			p.Waves[0].OnFailure = FailureContinue
			p.Waves[1].OnFailure = FailureStop
			p.Waves[2].DependsOn = []string{"db", "app"}
		}, nil},
		{"pause before the first wave", func(p *RecoveryPlan) { p.Waves[0].PauseBefore = true }, nil},
		{"ID of another kind", func(p *RecoveryPlan) { p.ID = NewID(PrefixExecution, t0) }, []string{"id"}},
		{"name missing", func(p *RecoveryPlan) { p.Name = "" }, []string{"name"}},
		{"name malformed", func(p *RecoveryPlan) { p.Name = "three tier" }, []string{"name"}},
		{"description too long", func(p *RecoveryPlan) { p.Description = strings.Repeat("d", 1025) }, []string{"description"}},
		{"no waves", func(p *RecoveryPlan) { p.Waves = nil }, []string{"waves"}},
		{"empty waves", func(p *RecoveryPlan) { p.Waves = []Wave{} }, []string{"waves"}},
		{"the most waves", func(p *RecoveryPlan) { p.Waves = manyWaves(MaxWaves) }, nil},
		{"too many waves", func(p *RecoveryPlan) { p.Waves = manyWaves(MaxWaves + 1) }, []string{"waves"}},
		{"wave name missing", func(p *RecoveryPlan) { p.Waves[1].Name = ""; p.Waves[2].DependsOn = []string{} }, []string{"waves[1].name"}},
		{"wave name malformed", func(p *RecoveryPlan) { p.Waves[0].Name = "_db" }, []string{"waves[0].name"}},
		{"duplicate wave names", func(p *RecoveryPlan) { p.Waves[2].Name = "db" }, []string{"waves[2].name"}},
		{"wave names are case-sensitive", func(p *RecoveryPlan) { p.Waves[2].Name = "DB" }, nil},
		{"deadline too short", func(p *RecoveryPlan) { p.Waves[0].Deadline = MinWaveDeadline - 1 }, []string{"waves[0].deadline"}},
		{"deadline too long", func(p *RecoveryPlan) { p.Waves[1].Deadline = MaxWaveDeadline + 1 }, []string{"waves[1].deadline"}},
		{"deadline negative", func(p *RecoveryPlan) { p.Waves[2].Deadline = -Duration(time.Hour) }, []string{"waves[2].deadline"}},
		{"onFailure unknown", func(p *RecoveryPlan) { p.Waves[0].OnFailure = "RETRY" }, []string{"waves[0].onFailure"}},
		{"onFailure in lower case", func(p *RecoveryPlan) { p.Waves[1].OnFailure = "continue" }, []string{"waves[1].onFailure"}},
		{"wave without groups", func(p *RecoveryPlan) { p.Waves[1].Groups = nil }, []string{"waves[1].groups"}},
		{"group twice in a wave, ignoring case", func(p *RecoveryPlan) { p.Waves[0].Groups = []string{"db-tier", "other", "DB-Tier"} },
			[]string{"waves[0].groups[2]"}},
		{"dependsOn an unknown wave", func(p *RecoveryPlan) { p.Waves[2].DependsOn = []string{"app", "nope"} }, []string{"waves[2].dependsOn[1]"}},
		{"dependsOn itself", func(p *RecoveryPlan) { p.Waves[1].DependsOn = []string{"app"} }, []string{"waves[1].dependsOn[0]"}},
		{"dependsOn twice", func(p *RecoveryPlan) { p.Waves[2].DependsOn = []string{"db", "app", "db"} }, []string{"waves[2].dependsOn[2]"}},
		{"dependsOn a later wave", func(p *RecoveryPlan) { p.Waves[0].DependsOn = []string{"web"}; p.Waves[2].DependsOn = []string{} }, nil},
		{"cycle through the default dependency", func(p *RecoveryPlan) { p.Waves[0].DependsOn = []string{"app"} }, []string{"waves"}},
		{"cycle of explicit dependencies", func(p *RecoveryPlan) {
			p.Waves[0].DependsOn = []string{"web"}
			p.Waves[1].DependsOn = []string{}
			p.Waves[2].DependsOn = []string{"db"}
		}, []string{"waves"}},
		{"every wave rule", func(p *RecoveryPlan) {
			p.Waves = []Wave{{Name: "a", Deadline: 1, OnFailure: "x", DependsOn: []string{"a", "z"}}}
		}, []string{"waves[0].deadline", "waves[0].onFailure", "waves[0].groups", "waves[0].dependsOn[0]", "waves[0].dependsOn[1]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.edit(p)
			assertProblems(t, p.Validate(nil), tc.want...)
		})
	}
}

func TestRecoveryPlanCyclePath(t *testing.T) {
	p := &RecoveryPlan{Name: "p", Waves: []Wave{
		{Name: "a", Groups: []string{"g"}, DependsOn: []string{}},
		{Name: "b", Groups: []string{"g"}, DependsOn: []string{"d"}},
		{Name: "c", Groups: []string{"g"}},
		{Name: "d", Groups: []string{"g"}, DependsOn: []string{"c", "a"}},
	}}
	err := p.Validate(nil)
	assertProblems(t, err, "waves")
	var e *Error
	if errors.As(err, &e) && !strings.Contains(e.Details[0].Rule, "b → d → c → b") {
		t.Errorf("cycle reported as %q, want the path b → d → c → b", e.Details[0].Rule)
	}
}

func TestRecoveryPlanGroups(t *testing.T) {
	groups := map[string]*ProtectionGroup{
		"db-tier":  {Name: "db-tier", ServerIDs: []string{"s-00000000000000001", "s-00000000000000002"}},
		"db-again": {Name: "db-again", ServerIDs: []string{"s-00000000000000002"}},
		"web":      {Name: "web", Selector: &TagSelector{Tags: map[string]string{"Tier": "web"}}},
	}
	lookup := func(name string) *ProtectionGroup { return groups[strings.ToLower(name)] }
	for _, tc := range []struct {
		name  string
		waves []Wave
		want  []string
	}{
		{"every group exists, found ignoring case", []Wave{{Name: "a", Groups: []string{"DB-Tier", "web"}}, {Name: "b", Groups: []string{"web"}}}, nil},
		{"missing groups", []Wave{{Name: "a", Groups: []string{"db-tier", "nope"}}, {Name: "b", Groups: []string{"gone"}}},
			[]string{"waves[0].groups[1]", "waves[1].groups[0]"}},
		{"a server in two waves", []Wave{{Name: "a", Groups: []string{"db-tier"}}, {Name: "b", Groups: []string{"web", "db-again"}}},
			[]string{"waves[1].groups[1]"}},
		{"a server in two groups of one wave", []Wave{{Name: "a", Groups: []string{"db-tier", "db-again"}}}, nil},
		{"tag selectors are checked at launch", []Wave{{Name: "a", Groups: []string{"web"}}, {Name: "b", Groups: []string{"web"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &RecoveryPlan{Name: "p", Waves: tc.waves}
			assertProblems(t, p.Validate(lookup), tc.want...)
			if err := p.Validate(nil); err != nil {
				t.Errorf("without a lookup: %v", err)
			}
		})
	}
}

func TestDependencies(t *testing.T) {
	p := &RecoveryPlan{Waves: []Wave{
		{Name: "a"},
		{Name: "b"},                           // nil: the previous wave
		{Name: "c", DependsOn: []string{}},    // none
		{Name: "d", DependsOn: []string{"a"}}, // as listed
		{Name: "e", DependsOn: nil},           // the previous wave
		{Name: "f", DependsOn: []string{"b", "c"}},
	}}
	want := [][]string{nil, {"a"}, {}, {"a"}, {"d"}, {"b", "c"}}
	for i := range p.Waves {
		if got := p.Dependencies(i); !slices.Equal(got, want[i]) || (want[i] != nil && got == nil) {
			t.Errorf("Dependencies(%d) = %#v, want %#v", i, got, want[i])
		}
	}
	if p.WaveIndex("d") != 3 || p.WaveIndex("D") != -1 || p.WaveIndex("z") != -1 {
		t.Error("WaveIndex")
	}
}

func TestWaveDefaults(t *testing.T) {
	w := Wave{}
	if w.EffectiveDeadline() != DefaultWaveDeadline || w.EffectivePolicy() != FailureStop {
		t.Errorf("defaults: %v %q", w.EffectiveDeadline(), w.EffectivePolicy())
	}
	w = Wave{Deadline: Duration(time.Minute), OnFailure: FailureContinue}
	if w.EffectiveDeadline() != Duration(time.Minute) || w.EffectivePolicy() != FailureContinue {
		t.Errorf("set: %v %q", w.EffectiveDeadline(), w.EffectivePolicy())
	}
}

func TestParseFailurePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FailurePolicy
		ok   bool
	}{
		{"", FailureStop, true}, {"stop", FailureStop, true}, {"STOP", FailureStop, true},
		{"Continue", FailureContinue, true}, {"retry", "", false}, {" stop", "", false},
	} {
		if got, ok := ParseFailurePolicy(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("ParseFailurePolicy(%q) = %q, %v", tc.in, got, ok)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var w Wave
	if err := json.Unmarshal([]byte(`{"deadline":"1h30m"}`), &w); err != nil || w.Deadline != Duration(90*time.Minute) {
		t.Fatalf("unmarshal: %v, %v", err, w.Deadline)
	}
	b, err := json.Marshal(Wave{Name: "a", Deadline: Duration(45 * time.Minute)})
	if err != nil || !strings.Contains(string(b), `"deadline":"45m0s"`) {
		t.Errorf("marshal: %s, %v", b, err)
	}
	for _, bad := range []string{`{"deadline":90}`, `{"deadline":"soon"}`} {
		if err := json.Unmarshal([]byte(bad), &w); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
