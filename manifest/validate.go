package manifest

import (
	"slices"
	"strconv"
	"strings"

	"wavedr"
)

// Validate checks m without a server or a database: every object by the
// domain's rules, names unique within each kind (case-insensitively; an
// account's name is its ID), and each plan against the groups of m — every
// group a wave names must be in m, and no source server listed by ID may be
// in two waves. It returns nil or one EINVALID *wavedr.Error naming every
// problem in document order, including those Load reported for m. A
// problem Load reported for a field hides the problems of the domain's
// rules at that field, its parents and its children, which would only
// repeat it (a list that could not be read is also an empty list).
func Validate(m *Manifest) error {
	ps, err := check(m, nil)
	if err != nil {
		return err
	}
	return ps.err()
}

// check validates m; stored finds the groups that are not in m, or is nil.
func check(m *Manifest, stored wavedr.GroupLookup) (problems, error) {
	if m == nil {
		return nil, nil
	}
	ps := slices.Clone(m.loadProblems)
	duplicates(m, &ps)
	lookup := func(name string) *wavedr.ProtectionGroup {
		if g := m.group(name); g != nil {
			return g
		}
		if stored != nil {
			return stored(name)
		}
		return nil
	}
	for _, o := range m.Objects {
		var err error
		switch o.Kind {
		case KindAccount:
			err = o.Account.Validate()
		case KindProtectionGroup:
			err = o.Group.Validate()
		case KindRecoveryPlan:
			err = o.Plan.Validate(lookup)
		}
		found, err := o.domainProblems(err)
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			if !o.unreadRelated(p.field) {
				ps.add(p)
			}
		}
	}
	return ps, nil
}

// duplicates reports every object whose name an earlier object of the same
// kind already has.
func duplicates(m *Manifest, ps *problems) {
	first := map[Kind]map[string]*Object{}
	for _, o := range m.Objects {
		name := o.Name()
		if name == "" {
			continue
		}
		if first[o.Kind] == nil {
			first[o.Kind] = map[string]*Object{}
		}
		key := strings.ToLower(name)
		prev, dup := first[o.Kind][key]
		if !dup {
			first[o.Kind][key] = o
			continue
		}
		field, what := "name", "name"
		if o.Kind == KindAccount {
			field, what = "id", "ID"
		}
		ps.add(o.problem(field, "%s is also the %s of the %s in %s#%d (%ss are unique, ignoring case)",
			strconv.Quote(name), what, o.Kind, prev.File, prev.Doc, what))
	}
}

// unreadRelated reports whether field is, contains or is within a field
// that Load could not read.
func (o *Object) unreadRelated(field string) bool {
	for _, u := range o.unread {
		if within(field, u) || within(u, field) {
			return true
		}
	}
	return false
}

// within reports whether the path field is parent or the same as it.
func within(field, parent string) bool {
	if parent == "" || field == parent {
		return true
	}
	rest, ok := strings.CutPrefix(field, parent)
	return ok && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "["))
}
