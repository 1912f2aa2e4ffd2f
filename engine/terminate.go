package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"wavedr"
	"wavedr/store"
)

// Terminate starts the cleanup of a finished drill: the recovery instances
// this execution launched — and only those, in their own accounts and
// regions — are terminated, and the TERMINATE jobs watched to their end.
// ECONFLICT when the execution is not a finished drill with instances left.
func (e *Engine) Terminate(ctx context.Context, id, by string) (*Result, error) {
	return e.update(ctx, id, func(tx *store.Tx, ex *wavedr.Execution, r *Result) error {
		if !ex.CanTerminate() {
			return wavedr.Errorf(wavedr.ECONFLICT, "execution %s has nothing to terminate: %s", ex.ID, whyNoTerminate(ex))
		}
		ex.Cleanup = wavedr.Cleanup{Status: wavedr.CleanupTerminating, RequestedBy: by, StartedAt: e.now()}
		r.Message = "terminating the drill's recovery instances"
		e.log.Info("cleanup.started", "executionId", ex.ID, "by", by)
		return e.insert(ctx, tx, terminateArgs{ExecutionID: ex.ID}, nil)
	})
}

func whyNoTerminate(ex *wavedr.Execution) string {
	switch {
	case ex.Mode != wavedr.ModeDrill:
		return "it is a recovery, not a drill; its instances are the recovered workload"
	case !ex.Status.IsTerminal():
		return fmt.Sprintf("it is still %s", ex.Status)
	case ex.Cleanup.Status == wavedr.CleanupTerminating:
		return "its instances are being terminated"
	case ex.Cleanup.Status == wavedr.CleanupCompleted:
		return "its instances are terminated"
	}
	return "no server launched an instance"
}

// terminateWorker starts the TERMINATE jobs of a drill and watches them.
type terminateWorker struct {
	river.WorkerDefaults[terminateArgs]
	e *Engine
}

func (w *terminateWorker) Work(ctx context.Context, job *river.Job[terminateArgs]) error {
	done, err := w.e.cleanup(ctx, job.Args.ExecutionID)
	if wavedr.ErrorCode(err) == wavedr.ENOTFOUND {
		return river.JobCancel(err)
	}
	if err != nil || done {
		return err
	}
	return river.JobSnooze(w.e.cfg.PollInterval)
}

// cleanup takes one step of a drill's termination: start the TERMINATE
// jobs not yet started (one per account and region, at most
// MaxRecoveryInstanceIDsPerCall instances each), then observe them. It
// reports done when the cleanup has ended.
func (e *Engine) cleanup(ctx context.Context, id string) (bool, error) {
	ex, err := e.db.FindExecution(ctx, id)
	if err != nil {
		return false, err
	}
	if ex.Cleanup.Status != wavedr.CleanupTerminating {
		return true, nil
	}
	t, err := e.loadTargets(ctx)
	if err != nil {
		return false, err
	}
	if len(ex.Cleanup.Jobs) == 0 {
		return false, e.startTerminations(ctx, ex, t)
	}
	// Observe the TERMINATE jobs.
	jobs := map[string]*wavedr.Job{}
	for _, c := range ex.Cleanup.Jobs {
		if c.JobID == "" {
			continue
		}
		found, err := e.rec.DescribeJobs(ctx, t.target(c.AccountID, c.Region), wavedr.JobFilter{IDs: []string{c.JobID}})
		if err != nil {
			return false, err
		}
		for _, j := range found {
			jobs[j.ID] = j
		}
	}
	var done bool
	_, err = e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		if cur.Cleanup.Status != wavedr.CleanupTerminating {
			done = true
			return errNothing
		}
		now := e.now()
		all := true
		for i := range cur.Cleanup.Jobs {
			c := &cur.Cleanup.Jobs[i]
			j := jobs[c.JobID]
			if j == nil {
				all = false
				continue
			}
			c.Status, c.EndedAt = j.Status, j.EndedAt
			if j.Status != wavedr.JobCompleted {
				all = false
			}
			terminated := map[string]bool{}
			for _, ps := range j.Servers {
				if ps.LaunchStatus == wavedr.LaunchTerminated {
					terminated[ps.SourceServerID] = true
				}
			}
			for _, w := range cur.Waves {
				for _, s := range w.Servers {
					if terminated[s.SourceServerID] && s.Status == wavedr.ServerLaunched {
						_ = s.SetStatus(wavedr.ServerTerminated)
						s.TerminatedAt = now
					}
				}
			}
		}
		if !all {
			return nil
		}
		var left []string
		for _, w := range cur.Waves {
			for _, s := range w.Servers {
				if s.Status == wavedr.ServerLaunched && s.RecoveryInstanceID != "" {
					left = append(left, s.RecoveryInstanceID)
				}
			}
		}
		cur.Cleanup.EndedAt = now
		if len(left) > 0 {
			sort.Strings(left)
			cur.Cleanup.Status = wavedr.CleanupFailed
			cur.Cleanup.Reason = "DRS did not terminate " + strings.Join(left, ", ")
		} else {
			cur.Cleanup.Status = wavedr.CleanupCompleted
		}
		done = true
		e.log.Info("cleanup.ended", "executionId", id, "status", cur.Cleanup.Status, "reason", cur.Cleanup.Reason)
		return nil
	})
	return done, err
}

// startTerminations starts the TERMINATE jobs and records them. A step
// retried after a crash first adopts the TERMINATE jobs created since the
// cleanup began that already cover some of the servers, and asks DRS only
// for the rest.
func (e *Engine) startTerminations(ctx context.Context, ex *wavedr.Execution, t targets) error {
	byTarget := map[string]map[string]string{} // target → source server → recovery instance
	tgs := map[string]wavedr.Target{}
	for _, w := range ex.Waves {
		for _, s := range w.Servers {
			if s.Status != wavedr.ServerLaunched || s.RecoveryInstanceID == "" {
				continue
			}
			tg := t.target(s.AccountID, s.Region)
			if byTarget[tg.Key()] == nil {
				byTarget[tg.Key()] = map[string]string{}
			}
			byTarget[tg.Key()][s.SourceServerID] = s.RecoveryInstanceID
			tgs[tg.Key()] = tg
		}
	}
	keys := make([]string, 0, len(byTarget))
	for k := range byTarget {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var started []wavedr.WaveJob
	add := func(tg wavedr.Target, j *wavedr.Job) {
		ids := []string{} // the job's servers, as DRS lists them
		for _, p := range j.Servers {
			ids = append(ids, p.SourceServerID)
		}
		started = append(started, wavedr.WaveJob{Chunk: len(started), JobID: j.ID, AccountID: tg.AccountID, Region: tg.Region,
			ServerIDs: ids, Status: j.Status, RequestedAt: e.now(), CreatedAt: j.CreatedAt})
	}
	for _, k := range keys {
		tg, servers := tgs[k], byTarget[k]
		earlier, err := e.rec.DescribeJobs(ctx, tg, wavedr.JobFilter{From: ex.Cleanup.StartedAt.Add(-5 * time.Minute)})
		if err != nil {
			return err
		}
		for _, j := range earlier {
			if j.Type != wavedr.JobTypeTerminate {
				continue
			}
			covers := false
			for _, ps := range j.Servers {
				if _, ok := servers[ps.SourceServerID]; ok {
					covers = true
					delete(servers, ps.SourceServerID)
				}
			}
			if covers {
				add(tg, j)
				e.log.Warn("cleanup.job_adopted", "executionId", ex.ID, "jobId", j.ID, "target", k)
			}
		}
		if len(servers) == 0 {
			continue
		}
		ids := make([]string, 0, len(servers))
		for _, ri := range servers {
			ids = append(ids, ri)
		}
		sort.Strings(ids)
		jobs, err := e.rec.TerminateRecoveryInstances(ctx, tg, ids)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			add(tg, j)
			e.log.Info("cleanup.job_started", "executionId", ex.ID, "jobId", j.ID, "target", k)
		}
	}
	_, err := e.update(ctx, ex.ID, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		if cur.Cleanup.Status != wavedr.CleanupTerminating || len(cur.Cleanup.Jobs) > 0 {
			return errNothing
		}
		if len(started) == 0 {
			cur.Cleanup.Status, cur.Cleanup.EndedAt = wavedr.CleanupCompleted, e.now()
			return nil
		}
		cur.Cleanup.Jobs = started
		return nil
	})
	return err
}
