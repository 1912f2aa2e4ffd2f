package engine

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"wavedr"
	"wavedr/store"
)

// PollResult is the answer of Poll.
type PollResult struct {
	Execution        *wavedr.Execution `json:"execution"`
	AllWavesComplete bool              `json:"allWavesComplete"`
}

// Poll observes the execution's in-flight waves in DRS and EC2 and records
// what it saw — wave and server status, enrichment, lastPolledAt — and
// nothing else: it never changes the execution's status (DESIGN rule 1).
// AllWavesComplete says whether every wave is over.
func (e *Engine) Poll(ctx context.Context, id string) (*PollResult, error) {
	ex, err := e.db.FindExecution(ctx, id)
	if err != nil {
		return nil, err
	}
	o, err := e.gather(ctx, ex)
	if err != nil {
		return nil, err
	}
	r, err := e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		now := e.now()
		observe(cur, o, now)
		cur.LastPolledAt = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &PollResult{Execution: r.Execution, AllWavesComplete: r.Execution.AllWavesTerminal()}, nil
}

// gather reads from DRS what the in-flight waves of ex need: their jobs
// enriched with recovery and EC2 instances, per account and region, and the
// logs of the jobs not yet seen COMPLETED. A target that fails is skipped
// this cycle (logged); the others are still observed.
func (e *Engine) gather(ctx context.Context, ex *wavedr.Execution) (*observation, error) {
	o := newObservation()
	type want struct {
		target wavedr.Target
		jobs   []string
		logs   []string
	}
	byTarget := map[string]*want{}
	var t targets
	for _, w := range ex.Waves {
		if !inFlight(w) {
			continue
		}
		for _, j := range w.Jobs {
			if j.JobID == "" {
				continue
			}
			if t == nil {
				var err error
				if t, err = e.loadTargets(ctx); err != nil {
					return nil, err
				}
			}
			tg := t.target(j.AccountID, j.Region)
			wt := byTarget[tg.Key()]
			if wt == nil {
				wt = &want{target: tg}
				byTarget[tg.Key()] = wt
			}
			wt.jobs = append(wt.jobs, j.JobID)
			if j.Status != wavedr.JobCompleted {
				wt.logs = append(wt.logs, j.JobID)
			}
		}
	}
	for _, wt := range byTarget {
		// The servers' own details were resolved when the wave was planned.
		en, err := e.rec.Enrich(ctx, wt.target, wt.jobs, wavedr.EnrichOptions{SkipSourceServers: true})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			e.log.Warn("poll.target_failed", "executionId", ex.ID, "target", wt.target.Key(), "err", err)
			continue
		}
		o.add(en)
		for _, id := range wt.logs {
			items, err := e.rec.DescribeJobLog(ctx, wt.target, id)
			if err != nil {
				e.log.Warn("poll.joblog_failed", "executionId", ex.ID, "jobId", id, "err", err)
				continue
			}
			o.logs[id] = items
		}
	}
	return o, nil
}

// pollWorker is the loop of one execution: observe, advance, and snooze
// until the next cycle, until the execution is over.
type pollWorker struct {
	river.WorkerDefaults[pollArgs]
	e *Engine
}

func (w *pollWorker) Work(ctx context.Context, job *river.Job[pollArgs]) error {
	e := w.e
	start := time.Now()
	id := job.Args.ExecutionID
	ex, err := e.db.FindExecution(ctx, id)
	if wavedr.ErrorCode(err) == wavedr.ENOTFOUND {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if ex.Status.IsTerminal() {
		return nil
	}
	o, err := e.gather(ctx, ex)
	if err != nil {
		return err
	}
	if h := e.cfg.Hooks.AfterObserve; h != nil {
		if err := h(id); err != nil {
			return err
		}
	}
	r, err := e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		if cur.Status.IsTerminal() {
			return errNothing
		}
		now := e.now()
		observe(cur, o, now)
		cur.LastPolledAt = now
		d, err := advance(cur, now)
		if err != nil {
			return err
		}
		return e.afterDecision(ctx, tx, cur, d)
	})
	if err != nil {
		return err
	}
	if h := e.cfg.Hooks.AfterPollCycle; h != nil {
		h(id, time.Since(start))
	}
	if r.Execution.Status.IsTerminal() {
		return nil
	}
	// The next cycle starts one interval after this one started, not after
	// it ended, so the period is the interval however long a cycle takes
	// (but a slow cycle still leaves the database a breather).
	return river.JobSnooze(max(e.cfg.PollInterval-time.Since(start), e.cfg.PollInterval/4))
}

// Find makes sure every active execution has its poll scheduled, every
// LAUNCHING wave its launch, and every drill cleanup in progress its
// terminate job: the safety net for work lost to a crash or a discarded
// job. It returns how many executions are active and how many
// jobs it had to schedule again.
func (e *Engine) Find(ctx context.Context) (active, rescheduled int, err error) {
	ids, err := e.db.ActiveExecutionIDs(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, id := range ids {
		err := e.db.InTx(ctx, func(tx *store.Tx) error {
			ex, err := tx.FindExecution(ctx, id)
			if err != nil {
				return err
			}
			jobs := []river.JobArgs{pollArgs{ExecutionID: id}}
			for _, w := range ex.Waves {
				if w.Status == wavedr.WaveLaunching {
					jobs = append(jobs, launchArgs{ExecutionID: id, Wave: w.Name})
				}
			}
			for _, args := range jobs {
				res, err := e.river.InsertTx(ctx, tx.SQL(), args, nil)
				if err != nil {
					return err
				}
				if !res.UniqueSkippedAsDuplicate {
					rescheduled++
					e.log.Warn("find.rescheduled", "executionId", id, "job", args.Kind())
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			e.log.Error("find.failed", "executionId", id, "err", err)
		}
	}
	// A drill's cleanup runs after its execution is over: its terminate
	// job is looked after on its own.
	cleaning, err := e.db.CleaningExecutionIDs(ctx)
	if err != nil {
		return len(ids), rescheduled, err
	}
	for _, id := range cleaning {
		err := e.db.InTx(ctx, func(tx *store.Tx) error {
			res, err := e.river.InsertTx(ctx, tx.SQL(), terminateArgs{ExecutionID: id}, nil)
			if err != nil {
				return err
			}
			if !res.UniqueSkippedAsDuplicate {
				rescheduled++
				e.log.Warn("find.rescheduled", "executionId", id, "job", terminateArgs{}.Kind())
			}
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			e.log.Error("find.failed", "executionId", id, "err", err)
		}
	}
	return len(ids), rescheduled, nil
}

// findWorker runs Find periodically.
type findWorker struct {
	river.WorkerDefaults[findArgs]
	e *Engine
}

func (w *findWorker) Work(ctx context.Context, _ *river.Job[findArgs]) error {
	_, _, err := w.e.Find(ctx)
	return err
}
