package wavedr

import (
	"strings"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	for _, prefix := range []string{PrefixProtectionGroup, PrefixRecoveryPlan, PrefixExecution} {
		id := NewID(prefix, t0)
		if len(id) != len(prefix)+1+26 || !strings.HasPrefix(id, prefix+"-") || !ValidID(prefix, id) {
			t.Errorf("NewID(%q) = %q", prefix, id)
		}
		for _, other := range []string{PrefixProtectionGroup, PrefixRecoveryPlan, PrefixExecution} {
			if other != prefix && ValidID(other, id) {
				t.Errorf("ValidID(%q, %q) = true", other, id)
			}
		}
	}
	seen := map[string]bool{}
	prev := NewID(PrefixExecution, t0)
	for i := 1; i <= 1000; i++ {
		id := NewID(PrefixExecution, t0.Add(time.Duration(i)*time.Millisecond))
		if id <= prev {
			t.Fatalf("%s made later does not sort after %s", id, prev)
		}
		if seen[id] {
			t.Fatalf("%s made twice", id)
		}
		seen[id] = true
		prev = id
	}
	if a, b := NewID(PrefixExecution, t0), NewID(PrefixExecution, t0); a == b {
		t.Error("two IDs of the same millisecond are equal")
	}
	if late := NewID(PrefixExecution, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)); late <= prev || !ValidID(PrefixExecution, late) {
		t.Errorf("an ID of 2200 (%s) does not sort later or is invalid", late)
	}
}

func TestValidID(t *testing.T) {
	good := "ex-" + strings.Repeat("0", 26)
	for _, tc := range []struct {
		prefix, id string
		want       bool
	}{
		{PrefixExecution, good, true},
		{PrefixExecution, "ex-0123456789abcdefghjkmnpqrs", true},
		{PrefixExecution, "ex-" + strings.Repeat("0", 25), false},
		{PrefixExecution, "ex-" + strings.Repeat("0", 27), false},
		{PrefixExecution, "ex-" + strings.Repeat("0", 25) + "i", false},
		{PrefixExecution, "ex-" + strings.Repeat("0", 25) + "u", false},
		{PrefixExecution, "ex-" + strings.Repeat("0", 25) + "A", false},
		{PrefixExecution, "EX-" + strings.Repeat("0", 26), false},
		{PrefixRecoveryPlan, good, false},
		{"e", good, false},
		{"", good, false},
		{PrefixProtectionGroup, "pg-" + strings.Repeat("z", 26), true},
		{PrefixRecoveryPlan, "plan-" + strings.Repeat("1", 26), true},
		{"job", "job-" + strings.Repeat("1", 26), false},
		{PrefixExecution, "", false},
	} {
		if got := ValidID(tc.prefix, tc.id); got != tc.want {
			t.Errorf("ValidID(%q, %q) = %v, want %v", tc.prefix, tc.id, got, tc.want)
		}
	}
}
