package wavedr

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Wave deadlines: every wave has one (a wall-clock limit from its launch to
// the end of its DRS jobs); a plan that names none gets the default.
const (
	DefaultWaveDeadline = Duration(2 * time.Hour)
	MinWaveDeadline     = Duration(time.Minute)
	MaxWaveDeadline     = Duration(72 * time.Hour)
	MaxWaves            = 100
)

// FailurePolicy says what a wave with failed servers does to the plan.
type FailurePolicy string

const (
	// FailureStop ends the plan after the wave: waves not started are
	// skipped. It is the default: a later tier rarely works without an
	// earlier one.
	FailureStop FailurePolicy = "STOP"
	// FailureContinue lets the plan go on with the waves after it.
	FailureContinue FailurePolicy = "CONTINUE"
)

// ParseFailurePolicy reads a policy case-insensitively; "" is the default.
func ParseFailurePolicy(s string) (FailurePolicy, bool) {
	switch strings.ToUpper(s) {
	case "", string(FailureStop):
		return FailureStop, true
	case string(FailureContinue):
		return FailureContinue, true
	}
	return "", false
}

// RecoveryPlan orders protection groups into waves. Waves launch when the
// waves they depend on are over; waves without a dependency between them
// run in parallel.
type RecoveryPlan struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Waves       []Wave `json:"waves"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Wave is one step of a plan. Its Name is stable: executions, jobs and
// reports refer to waves by name, never by position.
type Wave struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"` // protection group names
	// PauseBefore stops the execution before this wave launches until an
	// operator resumes it (an approval gate). Allowed on the first wave.
	PauseBefore bool `json:"pauseBefore,omitempty"`
	// DependsOn names the waves that must be over before this one
	// launches. nil means the previous wave in the list (none for the
	// first); an empty list means none.
	DependsOn []string `json:"dependsOn"`
	// Deadline bounds the wave from launch to the end of its DRS jobs; 0
	// means DefaultWaveDeadline.
	Deadline Duration `json:"deadline,omitempty"`
	// OnFailure says whether failed servers stop the plan; "" means STOP.
	OnFailure FailurePolicy `json:"onFailure,omitempty"`
}

// Dependencies returns the names of the waves wave i waits for, applying
// the default (the previous wave) when DependsOn is nil.
func (p *RecoveryPlan) Dependencies(i int) []string {
	w := p.Waves[i]
	if w.DependsOn != nil {
		return w.DependsOn
	}
	if i == 0 {
		return nil
	}
	return []string{p.Waves[i-1].Name}
}

// EffectiveDeadline returns the wave's deadline or the default.
func (w *Wave) EffectiveDeadline() Duration {
	if w.Deadline == 0 {
		return DefaultWaveDeadline
	}
	return w.Deadline
}

// EffectivePolicy returns the wave's failure policy or the default.
func (w *Wave) EffectivePolicy() FailurePolicy {
	if w.OnFailure == "" {
		return FailureStop
	}
	return w.OnFailure
}

// WaveIndex returns the position of the wave with the name, or -1.
func (p *RecoveryPlan) WaveIndex(name string) int {
	for i := range p.Waves {
		if p.Waves[i].Name == name {
			return i
		}
	}
	return -1
}

// GroupLookup finds a protection group by (case-insensitive) name; it
// returns nil when there is none.
type GroupLookup func(name string) *ProtectionGroup

// Validate reports every broken rule of p. With groups non-nil it also
// checks that every group exists and that no source server listed by ID is
// in two waves (servers chosen by tag are checked again when a wave
// launches).
func (p *RecoveryPlan) Validate(groups GroupLookup) error {
	var pr Problems
	if p.ID != "" && !ValidID(PrefixRecoveryPlan, p.ID) {
		pr.Add("id", "must be a recovery plan ID (plan-...)")
	}
	if !ValidName(p.Name) {
		pr.Add("name", nameRule)
	}
	if len(p.Description) > 1024 {
		pr.Add("description", "must be at most 1024 characters")
	} else if !ValidText(p.Description) {
		pr.Add("description", textRule)
	}
	switch {
	case len(p.Waves) == 0:
		pr.Add("waves", "a plan needs at least one wave")
	case len(p.Waves) > MaxWaves:
		pr.Add("waves", "a plan has at most %d waves", MaxWaves)
	}

	index := map[string]int{} // wave name → position
	for i := range p.Waves {
		w := &p.Waves[i]
		f := Indexed("waves", i)
		if !ValidName(w.Name) {
			pr.Add(f+".name", nameRule)
		} else if j, dup := index[w.Name]; dup {
			pr.Add(f+".name", "%q is also the name of waves[%d]; wave names are unique in a plan", w.Name, j)
		} else {
			index[w.Name] = i
		}
		if w.Deadline != 0 && (w.Deadline < MinWaveDeadline || w.Deadline > MaxWaveDeadline) {
			pr.Add(f+".deadline", "must be between %s and %s", MinWaveDeadline, MaxWaveDeadline)
		}
		if w.OnFailure != "" && w.OnFailure != FailureStop && w.OnFailure != FailureContinue {
			pr.Add(f+".onFailure", "must be STOP or CONTINUE, not %q", w.OnFailure)
		}
		if len(w.Groups) == 0 {
			pr.Add(f+".groups", "a wave needs at least one protection group")
		}
		seen := map[string]bool{}
		for j, g := range w.Groups {
			key := strings.ToLower(g)
			if seen[key] {
				pr.Add(Indexed(f+".groups", j), "%q is listed twice", g)
			}
			seen[key] = true
		}
	}
	for i := range p.Waves {
		f := Indexed("waves", i)
		seen := map[string]bool{}
		for j, d := range p.Waves[i].DependsOn {
			df := Indexed(f+".dependsOn", j)
			switch k, ok := index[d]; {
			case !ok:
				pr.Add(df, "no wave is named %q", d)
			case k == i:
				pr.Add(df, "a wave cannot depend on itself")
			case seen[d]:
				pr.Add(df, "%q is listed twice", d)
			}
			seen[d] = true
		}
	}
	if len(pr) == 0 {
		if cycle := p.cycle(); cycle != nil {
			pr.Add("waves", "dependencies form a cycle: %s", strings.Join(cycle, " → "))
		}
	}
	if groups != nil {
		p.checkGroups(groups, &pr)
	}
	return pr.Err("recovery plan " + quoteName(p.Name))
}

// checkGroups checks group references and that no server is in two waves.
func (p *RecoveryPlan) checkGroups(groups GroupLookup, pr *Problems) {
	owner := map[string]string{} // source server ID → wave name
	for i := range p.Waves {
		w := &p.Waves[i]
		for j, name := range w.Groups {
			f := Indexed(Indexed("waves", i)+".groups", j)
			g := groups(name)
			if g == nil {
				pr.Add(f, "no protection group is named %q", name)
				continue
			}
			for _, id := range g.ServerIDs {
				if other, ok := owner[id]; ok && other != w.Name {
					pr.Add(f, "server %s of group %q is also in wave %q; a server may be in only one wave", id, g.Name, other)
				}
				owner[id] = w.Name
			}
		}
	}
}

// cycle returns the wave names of one dependency cycle, or nil.
func (p *RecoveryPlan) cycle() []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(p.Waves))
	var path []string
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = onPath
		path = append(path, p.Waves[i].Name)
		for _, d := range p.Dependencies(i) {
			k := p.WaveIndex(d)
			switch state[k] {
			case onPath:
				start := 0
				for path[start] != d {
					start++
				}
				return append(append([]string(nil), path[start:]...), d)
			case unseen:
				if c := visit(k); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range p.Waves {
		if state[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

// String names the plan for messages.
func (p *RecoveryPlan) String() string { return fmt.Sprintf("plan %s", quoteName(p.Name)) }

// RecoveryPlanFilter selects plans in a list.
type RecoveryPlanFilter struct {
	Cursor string
	Limit  int
}

// RecoveryPlanService manages recovery plans.
type RecoveryPlanService interface {
	// FindRecoveryPlan returns the plan with the ID or (case-insensitive)
	// name; ENOTFOUND if none.
	FindRecoveryPlan(ctx context.Context, idOrName string) (*RecoveryPlan, error)
	// ListRecoveryPlans returns a page of plans ordered by name.
	ListRecoveryPlans(ctx context.Context, f RecoveryPlanFilter) (*Page[*RecoveryPlan], error)
	// CreateRecoveryPlan validates p against the stored groups, gives it an
	// ID and version 1, and stores it; ECONFLICT if the name is taken.
	CreateRecoveryPlan(ctx context.Context, p *RecoveryPlan) error
	// UpdateRecoveryPlan stores p if p.Version is the stored version and
	// increments it; ECONFLICT on a stale version or a taken name.
	UpdateRecoveryPlan(ctx context.Context, p *RecoveryPlan) error
	// DeleteRecoveryPlan removes the plan at version; ECONFLICT while an
	// execution of it is active or on a stale version.
	DeleteRecoveryPlan(ctx context.Context, id string, version int64) error
}
