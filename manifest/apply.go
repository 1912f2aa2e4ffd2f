package manifest

import (
	"context"
	"fmt"
	"strings"

	"wavedr"
)

// Services is what Apply writes to: the domain's account, protection
// group and recovery plan services. A store transaction implements it;
// callers run Apply inside one transaction so that a manifest is applied
// whole or not at all.
type Services interface {
	wavedr.AccountService
	wavedr.ProtectionGroupService
	wavedr.RecoveryPlanService
}

// Action is what Apply did (or, from Diff, would do) to one object.
type Action string

const (
	Created   Action = "created"   // no object of the kind had the name
	Updated   Action = "updated"   // the stored object differed; it now matches the manifest
	Unchanged Action = "unchanged" // the stored object already matched the manifest
)

// Change is the action on one object.
type Change struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Action Action `json:"action"`
}

// String reads "protectiongroup/db-tier created".
func (c Change) String() string {
	return strings.ToLower(string(c.Kind)) + "/" + c.Name + " " + string(c.Action)
}

// Result lists the action on every object of a manifest, in the order
// they were applied: accounts, groups, plans, each in file order.
type Result struct {
	Changes []Change `json:"changes"`
}

// Count returns the number of objects with the action.
func (r *Result) Count(a Action) int {
	n := 0
	for _, c := range r.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Changed reports whether some object was (or would be) created or updated.
func (r *Result) Changed() bool { return r.Count(Created)+r.Count(Updated) > 0 }

// Summary reads "1 created, 2 updated, 3 unchanged", or "no changes".
func (r *Result) Summary() string {
	if !r.Changed() {
		return "no changes"
	}
	return fmt.Sprintf("%d created, %d updated, %d unchanged", r.Count(Created), r.Count(Updated), r.Count(Unchanged))
}

// step is one object to write, with what is stored under its name.
type step struct {
	obj    *Object
	action Action
	stored any // *wavedr.Account, *wavedr.ProtectionGroup or *wavedr.RecoveryPlan; nil when created
}

// Diff reports what Apply would do with m, writing nothing. Its errors are
// those of Apply before the first write.
func Diff(ctx context.Context, svc Services, m *Manifest) (*Result, error) {
	steps, err := prepare(ctx, svc, m)
	if err != nil {
		return nil, err
	}
	return result(steps), nil
}

// Apply makes the stored objects match m: accounts first, then groups,
// then plans. Each object is found by its name (an account by its ID) and
// created if missing, updated at the stored version if its user-set fields
// differ, and left alone if they are equal; applying the same manifest
// twice writes nothing the second time.
//
// Before writing anything Apply validates m as Validate does (including
// the problems Load reported), except that a plan may also name groups
// that are already stored; problems are one EINVALID *wavedr.Error. Errors of the services (ECONFLICT for a version
// changed meanwhile, ...) are returned wrapped with the object's name; the
// caller's transaction then undoes what was written.
func Apply(ctx context.Context, svc Services, m *Manifest) (*Result, error) {
	steps, err := prepare(ctx, svc, m)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		if err := write(ctx, svc, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s.obj, err)
		}
	}
	return result(steps), nil
}

func result(steps []step) *Result {
	r := &Result{Changes: make([]Change, 0, len(steps))}
	for _, s := range steps {
		r.Changes = append(r.Changes, Change{Kind: s.obj.Kind, Name: s.obj.Name(), Action: s.action})
	}
	return r
}

// prepare validates m against itself and the stored groups, and finds the
// stored object of each of its objects.
func prepare(ctx context.Context, svc Services, m *Manifest) ([]step, error) {
	if m == nil || len(m.Objects) == 0 {
		return nil, wavedr.Errorf(wavedr.EINVALID, "the manifest has no object to apply")
	}
	var lookupErr error
	stored := func(name string) *wavedr.ProtectionGroup {
		g, err := svc.FindProtectionGroup(ctx, name)
		if err != nil {
			if wavedr.ErrorCode(err) != wavedr.ENOTFOUND && lookupErr == nil {
				lookupErr = err
			}
			return nil
		}
		return g
	}
	ps, err := check(m, stored)
	switch {
	case err != nil:
		return nil, err
	case lookupErr != nil:
		return nil, lookupErr
	case len(ps) > 0:
		return nil, ps.err()
	}

	var steps []step
	for _, k := range kinds {
		for _, o := range m.Of(k) {
			s, err := find(ctx, svc, o)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o, err)
			}
			steps = append(steps, s)
		}
	}
	return steps, nil
}

// find returns the step for o: what is stored under its name and whether
// it differs.
func find(ctx context.Context, svc Services, o *Object) (step, error) {
	s := step{obj: o, action: Created}
	var err error
	switch o.Kind {
	case KindAccount:
		var a *wavedr.Account
		if a, err = svc.FindAccount(ctx, o.Account.ID); err == nil {
			s.stored, s.action = a, changed(sameAccount(o.Account, a))
		}
	case KindProtectionGroup:
		var g *wavedr.ProtectionGroup
		if g, err = svc.FindProtectionGroup(ctx, o.Group.Name); err == nil {
			s.stored, s.action = g, changed(sameGroup(o.Group, g))
		}
	case KindRecoveryPlan:
		var p *wavedr.RecoveryPlan
		if p, err = svc.FindRecoveryPlan(ctx, o.Plan.Name); err == nil {
			s.stored, s.action = p, changed(samePlan(o.Plan, p))
		}
	}
	if err != nil && wavedr.ErrorCode(err) != wavedr.ENOTFOUND {
		return s, err
	}
	return s, nil
}

func changed(same bool) Action {
	if same {
		return Unchanged
	}
	return Updated
}

// write creates or updates the object of s. It writes copies, so the
// manifest is not changed by the IDs and versions the services set.
func write(ctx context.Context, svc Services, s step) error {
	if s.action == Unchanged {
		return nil
	}
	switch s.obj.Kind {
	case KindAccount:
		a := *s.obj.Account
		if old, ok := s.stored.(*wavedr.Account); ok {
			a.Version, a.CreatedAt = old.Version, old.CreatedAt
			return svc.UpdateAccount(ctx, &a)
		}
		return svc.CreateAccount(ctx, &a)
	case KindProtectionGroup:
		g := *s.obj.Group
		if old, ok := s.stored.(*wavedr.ProtectionGroup); ok {
			g.ID, g.Version, g.CreatedAt = old.ID, old.Version, old.CreatedAt
			return svc.UpdateProtectionGroup(ctx, &g)
		}
		return svc.CreateProtectionGroup(ctx, &g)
	case KindRecoveryPlan:
		p := *s.obj.Plan
		if old, ok := s.stored.(*wavedr.RecoveryPlan); ok {
			p.ID, p.Version, p.CreatedAt = old.ID, old.Version, old.CreatedAt
			return svc.UpdateRecoveryPlan(ctx, &p)
		}
		return svc.CreateRecoveryPlan(ctx, &p)
	}
	return nil
}
