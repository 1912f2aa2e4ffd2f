package manifest

import (
	"context"
	"strings"
	"time"

	"wavedr"
)

// fakeServices keeps accounts, groups and plans in maps, as a store
// transaction would, and counts the writes.
type fakeServices struct {
	accounts map[string]*wavedr.Account
	groups   map[string]*wavedr.ProtectionGroup // by lower-case name
	plans    map[string]*wavedr.RecoveryPlan    // by lower-case name
	writes   int
	failOn   string // the name whose write fails with failErr
	failErr  error
	now      time.Time
}

func newFake() *fakeServices {
	return &fakeServices{
		accounts: map[string]*wavedr.Account{},
		groups:   map[string]*wavedr.ProtectionGroup{},
		plans:    map[string]*wavedr.RecoveryPlan{},
		now:      time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

var _ Services = (*fakeServices)(nil)

func notFound(what string) error { return wavedr.Errorf(wavedr.ENOTFOUND, "%s not found", what) }

func conflict(what string) error { return wavedr.Errorf(wavedr.ECONFLICT, "%s: stale version", what) }

func (f *fakeServices) write(name string) error {
	if f.failOn != "" && strings.EqualFold(f.failOn, name) {
		return f.failErr
	}
	f.writes++
	return nil
}

func (f *fakeServices) FindAccount(_ context.Context, id string) (*wavedr.Account, error) {
	if a, ok := f.accounts[id]; ok {
		c := *a
		return &c, nil
	}
	return nil, notFound("account")
}

func (f *fakeServices) ListAccounts(context.Context) ([]*wavedr.Account, error) { return nil, nil }

func (f *fakeServices) CreateAccount(_ context.Context, a *wavedr.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if _, ok := f.accounts[a.ID]; ok {
		return conflict("account")
	}
	if err := f.write(a.ID); err != nil {
		return err
	}
	a.Version, a.CreatedAt, a.UpdatedAt = 1, f.now, f.now
	c := *a
	f.accounts[a.ID] = &c
	return nil
}

func (f *fakeServices) UpdateAccount(_ context.Context, a *wavedr.Account) error {
	old, ok := f.accounts[a.ID]
	if !ok {
		return notFound("account")
	}
	if old.Version != a.Version {
		return conflict("account")
	}
	if err := f.write(a.ID); err != nil {
		return err
	}
	a.Version++
	c := *a
	f.accounts[a.ID] = &c
	return nil
}

func (f *fakeServices) DeleteAccount(context.Context, string, int64) error { return nil }

func (f *fakeServices) FindProtectionGroup(_ context.Context, name string) (*wavedr.ProtectionGroup, error) {
	if g, ok := f.groups[strings.ToLower(name)]; ok {
		c := *g
		return &c, nil
	}
	return nil, notFound("protection group")
}

func (f *fakeServices) ListProtectionGroups(context.Context, wavedr.ProtectionGroupFilter) (*wavedr.Page[*wavedr.ProtectionGroup], error) {
	return &wavedr.Page[*wavedr.ProtectionGroup]{}, nil
}

func (f *fakeServices) CreateProtectionGroup(_ context.Context, g *wavedr.ProtectionGroup) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if _, ok := f.groups[strings.ToLower(g.Name)]; ok {
		return conflict("group")
	}
	if err := f.write(g.Name); err != nil {
		return err
	}
	g.ID, g.Version, g.CreatedAt, g.UpdatedAt = wavedr.NewID(wavedr.PrefixProtectionGroup, f.now), 1, f.now, f.now
	c := *g
	f.groups[strings.ToLower(g.Name)] = &c
	return nil
}

func (f *fakeServices) UpdateProtectionGroup(_ context.Context, g *wavedr.ProtectionGroup) error {
	old, ok := f.groups[strings.ToLower(g.Name)]
	if !ok || old.ID != g.ID {
		return notFound("protection group")
	}
	if old.Version != g.Version {
		return conflict("group")
	}
	if err := f.write(g.Name); err != nil {
		return err
	}
	g.Version++
	c := *g
	f.groups[strings.ToLower(g.Name)] = &c
	return nil
}

func (f *fakeServices) DeleteProtectionGroup(context.Context, string, int64) error { return nil }

func (f *fakeServices) FindRecoveryPlan(_ context.Context, name string) (*wavedr.RecoveryPlan, error) {
	if p, ok := f.plans[strings.ToLower(name)]; ok {
		c := *p
		return &c, nil
	}
	return nil, notFound("recovery plan")
}

func (f *fakeServices) ListRecoveryPlans(context.Context, wavedr.RecoveryPlanFilter) (*wavedr.Page[*wavedr.RecoveryPlan], error) {
	return &wavedr.Page[*wavedr.RecoveryPlan]{}, nil
}

func (f *fakeServices) lookup(name string) *wavedr.ProtectionGroup {
	return f.groups[strings.ToLower(name)]
}

func (f *fakeServices) CreateRecoveryPlan(_ context.Context, p *wavedr.RecoveryPlan) error {
	if err := p.Validate(f.lookup); err != nil {
		return err
	}
	if _, ok := f.plans[strings.ToLower(p.Name)]; ok {
		return conflict("plan")
	}
	if err := f.write(p.Name); err != nil {
		return err
	}
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = wavedr.NewID(wavedr.PrefixRecoveryPlan, f.now), 1, f.now, f.now
	c := *p
	f.plans[strings.ToLower(p.Name)] = &c
	return nil
}

func (f *fakeServices) UpdateRecoveryPlan(_ context.Context, p *wavedr.RecoveryPlan) error {
	old, ok := f.plans[strings.ToLower(p.Name)]
	if !ok || old.ID != p.ID {
		return notFound("recovery plan")
	}
	if old.Version != p.Version {
		return conflict("plan")
	}
	if err := p.Validate(f.lookup); err != nil {
		return err
	}
	if err := f.write(p.Name); err != nil {
		return err
	}
	p.Version++
	c := *p
	f.plans[strings.ToLower(p.Name)] = &c
	return nil
}

func (f *fakeServices) DeleteRecoveryPlan(context.Context, string, int64) error { return nil }
