package manifest

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"wavedr"
)

// reader walks the YAML nodes of one document into its object, recording
// the line of every field and a problem for every node of the wrong shape.
// A field whose value is null is treated as absent.
type reader struct {
	obj   *Object
	probs *problems
}

// fail reports that the value of field could not be read.
func (r *reader) fail(n *yaml.Node, field, rule string, args ...any) {
	r.reject(n, field, rule, args...)
	r.obj.unread = append(r.obj.unread, field)
}

// reject reports a problem that leaves the other fields as they were read
// (an unknown key, a key set twice).
func (r *reader) reject(n *yaml.Node, field, rule string, args ...any) {
	p := r.obj.problem(field, rule, args...)
	if n != nil && n.Line > 0 {
		p.line = n.Line
	}
	r.probs.add(p)
}

func (r *reader) mark(field string, n *yaml.Node) {
	if n != nil && n.Line > 0 {
		if _, ok := r.obj.lines[field]; !ok {
			r.obj.lines[field] = n.Line
		}
	}
}

// isNull reports whether n is absent or a YAML null.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// usable reports whether n may be read: it is not an alias. Aliases are
// refused so that no document can expand into more than its own text.
func (r *reader) usable(n *yaml.Node, field string) bool {
	if n.Kind == yaml.AliasNode {
		r.fail(n, field, "aliases (*%s) are not supported; write the value out", n.Value)
		return false
	}
	return true
}

// fields reads the mapping n at path field. It returns the value of each
// allowed key that is set and not null, and reports unknown keys, keys set
// twice and keys that are not plain strings. ok is false when n is not a
// mapping.
func (r *reader) fields(n *yaml.Node, field string, allowed ...string) (map[string]*yaml.Node, bool) {
	if !r.usable(n, field) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode || n.ShortTag() != "!!map" {
		r.fail(n, field, "must be a mapping (key: value)")
		return nil, false
	}
	out := map[string]*yaml.Node{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			r.reject(k, field, "keys must be plain field names")
			continue
		}
		f := wavedr.JoinField(field, k.Value)
		if !slices.Contains(allowed, k.Value) {
			r.reject(k, f, "is not a known field (known: %s)", strings.Join(allowed, ", "))
			continue
		}
		if seen[k.Value] {
			r.reject(k, f, "is set twice")
			continue
		}
		seen[k.Value] = true
		r.mark(f, k)
		if !isNull(v) {
			out[k.Value] = v
		}
	}
	return out, true
}

// str reads a string scalar. Numbers are taken as written (an account ID
// may be left unquoted); booleans must be quoted to be strings.
func (r *reader) str(n *yaml.Node, field string) (string, bool) {
	if n == nil || !r.usable(n, field) {
		return "", false
	}
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float":
			return n.Value, true
		case "!!bool":
			r.fail(n, field, "must be a string, not a boolean (quote it: %q)", n.Value)
			return "", false
		}
	}
	r.fail(n, field, "must be a string")
	return "", false
}

// boolean reads true or false.
func (r *reader) boolean(n *yaml.Node, field string) (bool, bool) {
	if n == nil || !r.usable(n, field) {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		switch strings.ToLower(n.Value) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	r.fail(n, field, "must be true or false")
	return false, false
}

// boolPtr reads an optional boolean; absent is nil.
func (r *reader) boolPtr(n *yaml.Node, field string) *bool {
	if n == nil {
		return nil
	}
	if b, ok := r.boolean(n, field); ok {
		return &b
	}
	return nil
}

// stringList reads a list of strings. Absent is nil; [] is an empty, non-nil list.
func (r *reader) stringList(n *yaml.Node, field string) []string {
	if n == nil || !r.usable(n, field) {
		return nil
	}
	if n.Kind != yaml.SequenceNode || n.ShortTag() != "!!seq" {
		r.fail(n, field, "must be a list")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		f := wavedr.Indexed(field, i)
		r.mark(f, item)
		if s, ok := r.str(item, f); ok {
			out = append(out, s)
		}
	}
	return out
}

// stringMap reads a mapping of strings to strings (tags).
func (r *reader) stringMap(n *yaml.Node, field string) map[string]string {
	if n == nil || !r.usable(n, field) {
		return nil
	}
	if n.Kind != yaml.MappingNode || n.ShortTag() != "!!map" {
		r.fail(n, field, "must be a mapping (key: value)")
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, ok := r.str(k, field)
		if !ok {
			continue
		}
		f := field + "." + key
		r.mark(f, k)
		if _, dup := out[key]; dup {
			r.reject(k, f, "is set twice")
			continue
		}
		if isNull(v) {
			r.fail(v, f, "must have a value (use \"\" for an empty one)")
			continue
		}
		if val, ok := r.str(v, f); ok {
			out[key] = val
		}
	}
	return out
}

// duration reads a duration written as text ("45m", "2h30m").
func (r *reader) duration(n *yaml.Node, field string) wavedr.Duration {
	s, ok := r.str(n, field)
	if !ok {
		return 0
	}
	if n.ShortTag() != "!!str" {
		r.fail(n, field, "must be a duration with a unit, like 45m or 2h")
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.fail(n, field, "%q is not a duration like 45m or 2h", s)
		return 0
	}
	return wavedr.Duration(d)
}

// seq returns the items of the list n, or reports that n is not a list.
func (r *reader) seq(n *yaml.Node, field string) ([]*yaml.Node, bool) {
	if n == nil || !r.usable(n, field) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode || n.ShortTag() != "!!seq" {
		r.fail(n, field, "must be a list")
		return nil, false
	}
	return n.Content, true
}
