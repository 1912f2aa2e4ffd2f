package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"wavedr"
)

// problem is one broken rule, with where it was found.
type problem struct {
	file  string
	doc   int     // 1-based document; 0 for the file as a whole
	kind  Kind    // "" when the document's kind is not known
	name  string  // the object's name, if it was read
	obj   *Object // when set, the object's name at the time of reporting
	line  int     // 0 when not known
	field string  // path within the document, as the domain writes it
	rule  string
}

// location is the Field of the problem's wavedr.FieldError:
// "FILE#DOC (Kind name) line N: field.path".
func (p problem) location() string {
	var b strings.Builder
	b.WriteString(p.file)
	if p.doc > 0 {
		b.WriteString("#" + strconv.Itoa(p.doc))
	}
	if p.kind != "" {
		b.WriteString(" (" + string(p.kind))
		name := p.name
		if p.obj != nil {
			name = p.obj.Name()
		}
		if name != "" {
			b.WriteString(" " + displayName(name))
		}
		b.WriteString(")")
	}
	if p.line > 0 {
		b.WriteString(" line " + strconv.Itoa(p.line))
	}
	if p.field != "" {
		b.WriteString(": " + p.field)
	}
	return b.String()
}

// displayName shows a name as written when it is plain, quoted otherwise,
// and never longer than a line.
func displayName(s string) string {
	const max = 64
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '\\' || r == 0x7f || r == '\uFFFD' {
			return strconv.Quote(s)
		}
	}
	return s
}

// problems collects every problem of a load, a validation or an apply.
type problems []problem

func (ps *problems) add(p problem) { *ps = append(*ps, p) }

// err returns nil or an EINVALID *wavedr.Error with one detail per
// problem, in the order of the files, then of the documents and lines.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	files := map[string]int{}
	for _, p := range ps {
		if _, ok := files[p.file]; !ok {
			files[p.file] = len(files)
		}
	}
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b problem) int {
		return cmp.Or(cmp.Compare(files[a.file], files[b.file]), cmp.Compare(a.doc, b.doc), cmp.Compare(a.line, b.line))
	})
	details := make([]wavedr.FieldError, len(ps))
	for i, p := range ps {
		details[i] = wavedr.FieldError{Field: p.location(), Rule: p.rule}
	}
	what := "problem"
	if len(ps) > 1 {
		what = "problems"
	}
	return &wavedr.Error{Code: wavedr.EINVALID, Message: fmt.Sprintf("invalid manifest (%d %s)", len(ps), what), Details: details}
}

// problem returns a problem of o at the field path, placed on the line of
// the path or of its nearest parent that was read from YAML.
func (o *Object) problem(field, rule string, args ...any) problem {
	return problem{
		file: o.File, doc: o.Doc, kind: o.Kind, obj: o,
		line: o.line(field), field: field, rule: fmt.Sprintf(rule, args...),
	}
}

// line returns the YAML line of field, or of its nearest recorded parent.
func (o *Object) line(field string) int {
	for {
		if l, ok := o.lines[field]; ok {
			return l
		}
		if field == "" {
			return 0
		}
		field = parentPath(field)
	}
}

// parentPath drops the last element of a field path: "waves[1].name" →
// "waves[1]" → "waves" → "".
func parentPath(field string) string {
	if strings.HasSuffix(field, "]") {
		if i := strings.LastIndexByte(field, '['); i >= 0 {
			return field[:i]
		}
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[:i]
	}
	return ""
}

// domainProblems turns the error of a domain Validate into problems of o.
// An error that is not an EINVALID *wavedr.Error is returned as is.
func (o *Object) domainProblems(err error) (problems, error) {
	if err == nil {
		return nil, nil
	}
	var e *wavedr.Error
	if !errors.As(err, &e) || e.Code != wavedr.EINVALID {
		return nil, err
	}
	var ps problems
	for _, d := range e.Details {
		ps.add(o.problem(yamlField(d.Field), "%s", d.Rule))
	}
	if len(e.Details) == 0 {
		ps.add(o.problem("", "%s", e.Message))
	}
	return ps, nil
}

// yamlField spells a domain field path as the YAML does: a group's
// serverIds are its servers.
func yamlField(field string) string {
	if rest, ok := strings.CutPrefix(field, "serverIds"); ok {
		return "servers" + rest
	}
	return field
}
