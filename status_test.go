package wavedr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// constantsOf returns the values of every constant of the named type
// declared in the package's source, so that tables built from it cover a
// status added later without anyone remembering to list it in a test.
func constantsOf(t *testing.T, typeName string) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("a %s constant is not a string literal", typeName)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, s)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no constant of type %s found", typeName)
	}
	return out
}

// edges is the expected transition table of a test: "FROM>TO" for every
// allowed transition.
type edges map[string]bool

// checkTable checks every pair of the cross product of statuses against
// want, with allows the function under test, and that want names only
// statuses that exist.
func checkTable(t *testing.T, statuses []string, want edges, allows func(from, to string) bool) {
	t.Helper()
	known := map[string]bool{}
	for _, s := range statuses {
		known[s] = true
	}
	for e := range want {
		from, to, _ := strings.Cut(e, ">")
		if !known[from] || !known[to] {
			t.Errorf("expected transition %s names an unknown status", e)
		}
	}
	for _, from := range statuses {
		for _, to := range statuses {
			e := from + ">" + to
			if got := allows(from, to); got != want[e] {
				t.Errorf("%s → %s allowed = %v, want %v", from, to, got, want[e])
			}
		}
		if allows(from, "BOGUS") || allows("BOGUS", from) || allows(from, "") {
			t.Errorf("a transition between %s and an unknown status is allowed", from)
		}
	}
}
