package wavedr

import (
	"strings"
	"testing"
)

func TestProtectionGroupValidate(t *testing.T) {
	yes := true
	byID := func() *ProtectionGroup {
		return &ProtectionGroup{Name: "db-tier", Region: "us-east-1", ServerIDs: []string{"s-0123456789abcdef0", "s-00000000000000001"}}
	}
	byTag := func() *ProtectionGroup {
		return &ProtectionGroup{Name: "web", Region: "us-east-1", Selector: &TagSelector{Tags: map[string]string{"Tier": "web"}}}
	}
	for _, tc := range []struct {
		name  string
		group func() *ProtectionGroup
		edit  func(g *ProtectionGroup)
		want  []string
	}{
		{"valid by ID", byID, func(*ProtectionGroup) {}, nil},
		{"valid by tag", byTag, func(*ProtectionGroup) {}, nil},
		{"valid with everything", byTag, func(g *ProtectionGroup) {
			g.ID = NewID(PrefixProtectionGroup, t0)
			g.Description = strings.Repeat("d", 1024)
			g.AccountID = "123456789012"
			g.LaunchSettings = &LaunchSettings{CopyPrivateIP: &yes, LaunchDisposition: "STOPPED", RightSizingMethod: "IN_AWS"}
		}, nil},
		{"ID of another kind", byID, func(g *ProtectionGroup) { g.ID = NewID(PrefixRecoveryPlan, t0) }, []string{"id"}},
		{"name missing", byID, func(g *ProtectionGroup) { g.Name = "" }, []string{"name"}},
		{"name starting with a dash", byID, func(g *ProtectionGroup) { g.Name = "-db" }, []string{"name"}},
		{"name with a space", byID, func(g *ProtectionGroup) { g.Name = "db tier" }, []string{"name"}},
		{"name of 63 characters", byID, func(g *ProtectionGroup) { g.Name = strings.Repeat("a", 63) }, nil},
		{"name of 64 characters", byID, func(g *ProtectionGroup) { g.Name = strings.Repeat("a", 64) }, []string{"name"}},
		{"description too long", byID, func(g *ProtectionGroup) { g.Description = strings.Repeat("d", 1025) }, []string{"description"}},
		{"NUL in the description", byID, func(g *ProtectionGroup) { g.Description = "a\x00b" }, []string{"description"}},
		{"invalid UTF-8 in the description", byID, func(g *ProtectionGroup) { g.Description = "a\xffb" }, []string{"description"}},
		{"account ID malformed", byID, func(g *ProtectionGroup) { g.AccountID = "1234" }, []string{"accountId"}},
		{"region missing", byID, func(g *ProtectionGroup) { g.Region = "" }, []string{"region"}},
		{"region malformed", byID, func(g *ProtectionGroup) { g.Region = "virginia" }, []string{"region"}},
		{"servers and selector", byID, func(g *ProtectionGroup) { g.Selector = byTag().Selector }, []string{""}},
		{"neither servers nor selector", byID, func(g *ProtectionGroup) { g.ServerIDs = nil }, []string{""}},
		{"empty server list", byID, func(g *ProtectionGroup) { g.ServerIDs = []string{} }, []string{""}},
		{"malformed server IDs", byID, func(g *ProtectionGroup) {
			g.ServerIDs = []string{"s-0123456789abcdef", "S-0123456789ABCDEF0", "i-0123456789abcdef0", "s-0123456789abcdefg", "s-0123456789abcdef0"}
		}, []string{"serverIds[0]", "serverIds[1]", "serverIds[2]", "serverIds[3]"}},
		{"duplicate server IDs", byID, func(g *ProtectionGroup) {
			g.ServerIDs = append(g.ServerIDs, "s-00000000000000001", "s-0123456789abcdef0")
		}, []string{"serverIds[2]", "serverIds[3]"}},
		{"selector without tags", byTag, func(g *ProtectionGroup) { g.Selector.Tags = nil }, []string{"selector.tags"}},
		{"tag key empty", byTag, func(g *ProtectionGroup) { g.Selector.Tags[""] = "x" }, []string{"selector.tags."}},
		{"tag key too long", byTag, func(g *ProtectionGroup) { g.Selector.Tags[strings.Repeat("k", 129)] = "x" }, []string{"selector.tags." + strings.Repeat("k", 129)}},
		{"tag key of 128", byTag, func(g *ProtectionGroup) { g.Selector.Tags[strings.Repeat("k", 128)] = "x" }, nil},
		{"reserved tag key", byTag, func(g *ProtectionGroup) { g.Selector.Tags["AWS:cloudformation:stack"] = "x" }, []string{"selector.tags.AWS:cloudformation:stack"}},
		{"tag value too long", byTag, func(g *ProtectionGroup) { g.Selector.Tags["Tier"] = strings.Repeat("v", 257) }, []string{"selector.tags.Tier"}},
		{"empty tag value", byTag, func(g *ProtectionGroup) { g.Selector.Tags["Empty"] = "" }, nil},
		{"tag problems in key order", byTag, func(g *ProtectionGroup) {
			g.Selector.Tags["aws:b"] = "x"
			g.Selector.Tags["aws:a"] = "x"
		}, []string{"selector.tags.aws:a", "selector.tags.aws:b"}},
		{"launch settings enums", byID, func(g *ProtectionGroup) {
			g.LaunchSettings = &LaunchSettings{LaunchDisposition: "started", RightSizingMethod: "AUTO"}
		}, []string{"launchSettings.launchDisposition", "launchSettings.rightSizingMethod"}},
		{"launch settings: every valid value", byID, func(g *ProtectionGroup) {
			g.LaunchSettings = &LaunchSettings{LaunchDisposition: "STARTED", RightSizingMethod: "NONE"}
		}, nil},
		{"launch settings: BASIC", byID, func(g *ProtectionGroup) { g.LaunchSettings = &LaunchSettings{RightSizingMethod: "BASIC"} }, nil},
		{"every rule", byID, func(g *ProtectionGroup) {
			*g = ProtectionGroup{ID: "x", Description: strings.Repeat("d", 2000), AccountID: "x"}
		},
			[]string{"id", "name", "description", "accountId", "region", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.group()
			tc.edit(g)
			assertProblems(t, g.Validate(), tc.want...)
		})
	}
}

func TestTagSelectorMatches(t *testing.T) {
	s := &TagSelector{Tags: map[string]string{"Tier": "db", "Env": "prod"}}
	for _, tc := range []struct {
		tags map[string]string
		want bool
	}{
		{map[string]string{"Tier": "db", "Env": "prod"}, true},
		{map[string]string{"Tier": "db", "Env": "prod", "Extra": "x"}, true},
		{map[string]string{"Tier": "db"}, false},
		{map[string]string{"Tier": "DB", "Env": "prod"}, false},
		{nil, false},
	} {
		if got := s.Matches(tc.tags); got != tc.want {
			t.Errorf("Matches(%v) = %v, want %v", tc.tags, got, tc.want)
		}
	}
	var none *TagSelector
	if none.Matches(map[string]string{"a": "b"}) || (&TagSelector{}).Matches(map[string]string{"a": "b"}) {
		t.Error("a nil or empty selector matches")
	}
}

func TestProtectionGroupTarget(t *testing.T) {
	acct := &Account{ID: "123456789012", RoleARN: "arn:aws:iam::123456789012:role/r", ExternalID: "x"}
	g := &ProtectionGroup{AccountID: acct.ID, Region: "us-west-2"}
	if tg := g.Target(map[string]*Account{acct.ID: acct}); tg.RoleARN != acct.RoleARN || tg.Region != "us-west-2" {
		t.Errorf("Target = %+v", tg)
	}
	local := &ProtectionGroup{Region: "us-east-1"}
	if tg := local.Target(nil); tg.AccountID != "" || tg.RoleARN != "" || tg.Region != "us-east-1" {
		t.Errorf("local Target = %+v", tg)
	}
}
