package wavedr

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// problemFields returns the field of each detail of err, which must be nil
// or an EINVALID *Error.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID {
		t.Fatalf("error %v (code %q), want an EINVALID *Error", err, ErrorCode(err))
	}
	fields := make([]string, len(e.Details))
	for i, d := range e.Details {
		if d.Rule == "" {
			t.Errorf("detail at %q has no rule", d.Field)
		}
		fields[i] = d.Field
	}
	return fields
}

func assertProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if got := problemFields(t, err); !slices.Equal(got, want) {
		t.Errorf("problems at %q, want %q (error: %v)", got, want, err)
	}
}

func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("context: %w", Errorf(ECONFLICT, "taken"))
	for _, tc := range []struct {
		err  error
		code string
		msg  string
	}{
		{nil, "", ""},
		{Errorf(ENOTFOUND, "plan %q not found", "p"), ENOTFOUND, `plan "p" not found`},
		{wrapped, ECONFLICT, "taken"},
		{errors.New("pq: secret detail"), EINTERNAL, "internal error"},
	} {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := ErrorMessage(tc.err); got != tc.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.msg)
		}
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if p.Err("x") != nil {
		t.Fatal("no problems is an error")
	}
	p.Add("name", "is required")
	var q Problems
	q.Add("dependsOn[0]", "unknown")
	q.Add("", "whole")
	q.Add("[2]", "index")
	p.Merge("waves[1]", q)
	assertProblems(t, p.Err("plan"), "name", "waves[1].dependsOn[0]", "waves[1]", "waves[1][2]")
	for _, tc := range [][3]string{{"", "a", "a"}, {"a", "", "a"}, {"a", "b", "a.b"}, {"a", "[0]", "a[0]"}} {
		if got := JoinField(tc[0], tc[1]); got != tc[2] {
			t.Errorf("JoinField(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
	if Indexed("waves", 3) != "waves[3]" {
		t.Error("Indexed")
	}
}
