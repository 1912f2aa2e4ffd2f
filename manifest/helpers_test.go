package manifest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"wavedr"
)

// load reads src as the file t.yaml, failing the test on an error that is
// not EINVALID.
func load(t *testing.T, src string) (*Manifest, error) {
	t.Helper()
	m, err := Load("t.yaml", strings.NewReader(src))
	if err != nil && wavedr.ErrorCode(err) != wavedr.EINVALID {
		t.Fatalf("Load: %v (code %q), want nil or EINVALID", err, wavedr.ErrorCode(err))
	}
	if m == nil {
		t.Fatalf("Load returned no manifest with %v", err)
	}
	return m, err
}

// mustLoad reads src and fails the test on any error.
func mustLoad(t *testing.T, src string) *Manifest {
	t.Helper()
	m, err := load(t, src)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

// fieldsOf returns the Field of each detail of an EINVALID error, or nil
// for nil, failing the test on any other error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *wavedr.Error
	if !errors.As(err, &e) || e.Code != wavedr.EINVALID {
		t.Fatalf("error %v (code %q), want an EINVALID *wavedr.Error", err, wavedr.ErrorCode(err))
	}
	out := make([]string, len(e.Details))
	for i, d := range e.Details {
		if d.Rule == "" {
			t.Errorf("detail %q has no rule", d.Field)
		}
		out[i] = d.Field
	}
	return out
}

func assertFields(t *testing.T, err error, want []string) {
	t.Helper()
	got := fieldsOf(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("problems at\n\t%s\nwant\n\t%s\n(error: %v)", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"), err)
	}
}
