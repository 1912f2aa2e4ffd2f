package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"wavedr"
	"wavedr/store"
)

// Result is the answer of a verb that acts on an execution: the execution
// as it is afterwards, whether the verb changed anything, and what it did
// (or why it did nothing) in words.
type Result struct {
	Execution *wavedr.Execution `json:"execution"`
	Changed   bool              `json:"changed"`
	Message   string            `json:"message"`
}

// StartInput starts an execution of a plan.
type StartInput struct {
	Plan        string      // plan ID or name
	Mode        wavedr.Mode // DRILL or RECOVERY
	InitiatedBy string      // the authenticated principal, never taken from a request body
}

// Start creates an execution of the plan with every wave PENDING and every
// server resolved, claims the servers, and schedules its poll — all in one
// transaction. It refuses (ECONFLICT, naming the other execution or DRS
// job) a server already in an active execution or in an active DRS job,
// and (EINVALID) a server in two waves or a plan without servers.
func (e *Engine) Start(ctx context.Context, in StartInput) (*wavedr.Execution, error) {
	var p wavedr.Problems
	if !in.Mode.Valid() {
		p.Add("mode", "must be DRILL or RECOVERY")
	}
	if strings.TrimSpace(in.InitiatedBy) == "" {
		p.Add("initiatedBy", "is required")
	}
	if err := p.Err("start request"); err != nil {
		return nil, err
	}
	plan, err := e.db.FindRecoveryPlan(ctx, in.Plan)
	if err != nil {
		return nil, err
	}
	groups := map[string]*wavedr.ProtectionGroup{}
	for _, w := range plan.Waves {
		for _, name := range w.Groups {
			if groups[strings.ToLower(name)] != nil {
				continue
			}
			g, err := e.db.FindProtectionGroup(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("plan %s, wave %s: %w", plan.Name, w.Name, err)
			}
			groups[strings.ToLower(name)] = g
		}
	}
	if err := plan.Validate(func(n string) *wavedr.ProtectionGroup { return groups[strings.ToLower(n)] }); err != nil {
		return nil, err
	}
	t, err := e.loadTargets(ctx)
	if err != nil {
		return nil, err
	}

	ex := wavedr.NewExecution(plan, in.Mode, in.InitiatedBy, e.now())
	f := e.newFleet(t)
	owner := map[string]string{} // server → wave
	var ids []string
	for _, w := range ex.Waves {
		for _, name := range w.Groups {
			servers, err := f.resolve(ctx, groups[strings.ToLower(name)])
			if err != nil {
				return nil, err
			}
			for _, s := range servers {
				if other, dup := owner[s.SourceServerID]; dup {
					return nil, wavedr.Errorf(wavedr.EINVALID, "server %s (%s) is in wave %s and wave %s; a server may be in only one wave",
						s.SourceServerID, s.Hostname, other, w.Name)
				}
				owner[s.SourceServerID] = w.Name
				ids = append(ids, s.SourceServerID)
				w.Servers = append(w.Servers, s)
			}
		}
	}
	if len(ids) == 0 {
		return nil, wavedr.Errorf(wavedr.EINVALID, "plan %s has no servers: its groups match no DRS source server", plan.Name)
	}
	if err := e.checkDRSConflicts(ctx, ex, t); err != nil {
		return nil, err
	}

	err = e.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateExecution(ctx, ex); err != nil {
			return err
		}
		if err := tx.ClaimServers(ctx, ex.ID, ids); err != nil {
			return err
		}
		return e.insert(ctx, tx, pollArgs{ExecutionID: ex.ID}, nil)
	})
	if err != nil {
		return nil, err
	}
	e.log.Info("execution.created", "executionId", ex.ID, "plan", plan.Name, "mode", ex.Mode,
		"initiatedBy", ex.InitiatedBy, "waves", len(ex.Waves), "servers", len(ids))
	return ex, nil
}

// checkDRSConflicts refuses servers that are in an active DRS job, in the
// account and region of each server.
func (e *Engine) checkDRSConflicts(ctx context.Context, ex *wavedr.Execution, t targets) error {
	byTarget := map[string][]*wavedr.ServerRun{}
	keys := map[string]wavedr.Target{}
	for _, w := range ex.Waves {
		for _, s := range w.Servers {
			tg := t.target(s.AccountID, s.Region)
			byTarget[tg.Key()] = append(byTarget[tg.Key()], s)
			keys[tg.Key()] = tg
		}
	}
	var conflicts []string
	for key, servers := range byTarget {
		jobs, err := e.activeJobs(ctx, keys[key])
		if err != nil {
			return err
		}
		busy := foreignJobs(jobs, "")
		for _, s := range servers {
			if j, ok := busy[s.SourceServerID]; ok {
				conflicts = append(conflicts, fmt.Sprintf("server %s (%s) is in %s", s.SourceServerID, s.Hostname, describeJob(j)))
			}
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return wavedr.Errorf(wavedr.ECONFLICT, "%s", strings.Join(conflicts, "; "))
	}
	return nil
}

// Get returns the execution with every wave and server.
func (e *Engine) Get(ctx context.Context, id string) (*wavedr.Execution, error) {
	return e.db.FindExecution(ctx, id)
}

// Pause asks a running execution to pause before its next wave launches.
// Waves in flight go on and are still observed. ECONFLICT when the
// execution is not running or has no wave left to hold back.
func (e *Engine) Pause(ctx context.Context, id, by string) (*Result, error) {
	return e.act(ctx, id, func(tx *store.Tx, ex *wavedr.Execution, r *Result) error {
		if !ex.CanPause() {
			return wavedr.Errorf(wavedr.ECONFLICT, "execution %s cannot be paused: it is %s%s", ex.ID, ex.Status, pendingNote(ex))
		}
		ex.PauseRequest = &wavedr.Request{By: by, At: e.now()}
		return nil
	})
}

// Resume resumes a paused execution (passing the pause gate it waits at),
// or withdraws a pause not yet in effect. Resuming an execution that is not
// paused is harmless: nothing changes and the answer says so.
func (e *Engine) Resume(ctx context.Context, id, by string) (*Result, error) {
	return e.act(ctx, id, func(tx *store.Tx, ex *wavedr.Execution, r *Result) error {
		if !ex.CanResume() {
			r.Message = fmt.Sprintf("execution %s is %s, not paused: nothing to resume", ex.ID, ex.Status)
			return errNothing
		}
		ex.ResumeRequest = &wavedr.Request{By: by, At: e.now()}
		return nil
	})
}

// Cancel cancels an execution: waves not launched are CANCELLED at once;
// DRS jobs in flight are left to finish and observed to their end.
// Cancelling twice is harmless; cancelling an execution that is over is
// ECONFLICT.
func (e *Engine) Cancel(ctx context.Context, id, by string) (*Result, error) {
	return e.act(ctx, id, func(tx *store.Tx, ex *wavedr.Execution, r *Result) error {
		if ex.CancelRequest != nil && !ex.Status.IsTerminal() {
			r.Message = fmt.Sprintf("execution %s is already being cancelled (by %s)", ex.ID, ex.CancelRequest.By)
			return errNothing
		}
		if !ex.CanCancel() {
			return wavedr.Errorf(wavedr.ECONFLICT, "execution %s cannot be cancelled: it is %s", ex.ID, ex.Status)
		}
		ex.CancelRequest = &wavedr.Request{By: by, At: e.now()}
		return nil
	})
}

// Finalize gives an execution whose waves are all over its outcome. It
// refuses (ECONFLICT, naming the open waves) while any wave is not over,
// and does nothing to an execution already final.
func (e *Engine) Finalize(ctx context.Context, id string) (*Result, error) {
	return e.update(ctx, id, func(tx *store.Tx, ex *wavedr.Execution, r *Result) error {
		if ex.Status.IsTerminal() {
			r.Message = fmt.Sprintf("execution %s is already final: %s", ex.ID, ex.Status)
			return errNothing
		}
		var d Decision
		if err := finalize(ex, e.now(), &d); err != nil {
			return err
		}
		r.Message = strings.Join(d.Notes, "; ")
		return e.afterDecision(ctx, tx, ex, d)
	})
}

// pendingNote explains why a running execution cannot pause.
func pendingNote(ex *wavedr.Execution) string {
	if ex.Status == wavedr.ExecutionRunning && ex.PauseRequest != nil {
		return " and a pause is already requested"
	}
	if ex.Status == wavedr.ExecutionRunning {
		return " and every wave has launched"
	}
	return ""
}

// errNothing ends a verb that found nothing to do; it is not an error.
var errNothing = fmt.Errorf("nothing to do")

// act records an operator's request with fn and runs the advance step at
// once, in one transaction: the request takes effect (or is refused)
// before the verb answers.
func (e *Engine) act(ctx context.Context, id string, fn func(tx *store.Tx, ex *wavedr.Execution, r *Result) error) (*Result, error) {
	return e.update(ctx, id, func(tx *store.Tx, ex *wavedr.Execution, r *Result) error {
		if err := fn(tx, ex, r); err != nil {
			return err
		}
		d, err := advance(ex, e.now())
		if err != nil {
			return err
		}
		r.Message = strings.Join(d.Notes, "; ")
		return e.afterDecision(ctx, tx, ex, d)
	})
}

// afterDecision enqueues what an advance step decided, in its transaction.
func (e *Engine) afterDecision(ctx context.Context, tx *store.Tx, ex *wavedr.Execution, d Decision) error {
	for _, w := range d.Launch {
		if err := e.insert(ctx, tx, launchArgs{ExecutionID: ex.ID, Wave: w}, nil); err != nil {
			return err
		}
		e.log.Info("wave.launching", "executionId", ex.ID, "wave", w)
	}
	if d.Finalized {
		if err := tx.ReleaseServers(ctx, ex.ID); err != nil {
			return err
		}
		c := ex.Counts()
		e.log.Info("execution.finalized", "executionId", ex.ID, "status", ex.Status,
			"launched", c.Launched+c.Terminated, "failed", c.Failed, "cancelled", c.Cancelled, "reason", ex.Reason)
	}
	return nil
}

// maxConflictRetries bounds how often a step re-reads an execution that
// another writer changed under it.
const maxConflictRetries = 5

// update reads the execution, lets fn change it, and saves it, all in one
// transaction and conditional on the version read; on a version conflict
// (another replica or request wrote first) it reads again and retries.
func (e *Engine) update(ctx context.Context, id string, fn func(tx *store.Tx, ex *wavedr.Execution, r *Result) error) (*Result, error) {
	for attempt := 0; ; attempt++ {
		r := &Result{}
		err := e.db.InTx(ctx, func(tx *store.Tx) error {
			ex, err := tx.FindExecution(ctx, id)
			if err != nil {
				return err
			}
			r.Execution = ex
			if err := fn(tx, ex, r); err != nil {
				return err
			}
			r.Changed = true
			return tx.UpdateExecution(ctx, ex)
		})
		switch {
		case err == errNothing:
			return r, nil
		case wavedr.IsStaleVersion(err) && attempt < maxConflictRetries:
			continue
		case err != nil:
			return nil, err
		}
		return r, nil
	}
}
