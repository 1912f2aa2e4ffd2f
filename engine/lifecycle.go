package engine

import (
	"fmt"
	"strings"
	"time"

	"wavedr"
)

// Decision is what one advance step did to an execution: which waves it
// marked LAUNCHING (their launch jobs are enqueued in the same transaction)
// and whether it finalized the execution.
type Decision struct {
	Changed   bool     // the execution was modified and must be saved
	Launch    []string // waves marked LAUNCHING by this step
	Finalized bool     // the execution reached its terminal status in this step
	Notes     []string // what happened, for logs and for the caller's answer
}

func (d *Decision) note(format string, args ...any) {
	d.Changed = true
	d.Notes = append(d.Notes, fmt.Sprintf(format, args...))
}

// advance moves e forward from what is recorded in it, at now. It is the
// one writer of Execution.Status (DESIGN rule 1): the workers, the API and
// the CLI all change an execution's status only by recording a request and
// calling advance. It makes no AWS call: launching a wave is recording it
// LAUNCHING, and the caller enqueues its launch job in the same transaction.
func advance(e *wavedr.Execution, now time.Time) (Decision, error) {
	var d Decision
	if e.Status.IsTerminal() {
		return d, nil
	}
	if e.Status == wavedr.ExecutionPending {
		if e.CancelRequest != nil {
			cancelPending(e, now, &d)
			return d, finalize(e, now, &d)
		}
		if err := e.SetStatus(wavedr.ExecutionRunning, now); err != nil {
			return d, err
		}
		d.note("execution started")
	}
	if e.CancelRequest != nil && e.Status != wavedr.ExecutionCancelling {
		if err := e.SetStatus(wavedr.ExecutionCancelling, now); err != nil {
			return d, err
		}
		e.PauseRequest, e.ResumeRequest = nil, nil
		d.note("cancelled by %s", e.CancelRequest.By)
	}
	if e.Status == wavedr.ExecutionCancelling {
		cancelPending(e, now, &d)
	}
	if err := applyResume(e, now, &d); err != nil {
		return d, err
	}
	skipAfterStop(e, now, &d)
	if err := applyPause(e, now, &d); err != nil {
		return d, err
	}
	if e.Status == wavedr.ExecutionRunning {
		if err := launchReady(e, now, &d); err != nil {
			return d, err
		}
	}
	if e.AllWavesTerminal() {
		return d, finalize(e, now, &d)
	}
	return d, nil
}

// finalize gives an execution whose waves are all over its outcome. It is
// idempotent: an execution already final is left alone. It refuses while a
// wave is not terminal (DESIGN rule 3).
func finalize(e *wavedr.Execution, now time.Time, d *Decision) error {
	if e.Status.IsTerminal() {
		return nil
	}
	if open := openWaves(e); len(open) > 0 {
		return wavedr.Errorf(wavedr.ECONFLICT, "execution %s cannot be finalized: %d of %d waves are not over (%s)",
			e.ID, len(open), len(e.Waves), strings.Join(open, ", "))
	}
	outcome := e.Outcome()
	if e.Status == wavedr.ExecutionPending {
		// Cancelled before it started: PENDING may only end CANCELLED or FAILED.
		if outcome != wavedr.ExecutionFailed {
			outcome = wavedr.ExecutionCancelled
		}
	}
	if e.Status == wavedr.ExecutionPaused {
		// Every wave is over, so the pause holds nothing back any more.
		if err := e.SetStatus(wavedr.ExecutionRunning, now); err != nil {
			return err
		}
	}
	if err := e.SetStatus(outcome, now); err != nil {
		return err
	}
	if e.Reason == "" {
		e.Reason = outcomeReason(e)
	}
	d.Finalized = true
	d.note("execution finalized as %s", outcome)
	return nil
}

// openWaves names the waves that are not over, with their status.
func openWaves(e *wavedr.Execution) []string {
	var open []string
	for _, w := range e.Waves {
		if !w.Status.IsTerminal() {
			open = append(open, fmt.Sprintf("%s %s", w.Name, w.Status))
		}
	}
	return open
}

// outcomeReason explains a non-COMPLETED outcome in one line.
func outcomeReason(e *wavedr.Execution) string {
	if e.Status == wavedr.ExecutionCompleted {
		return ""
	}
	c := e.Counts()
	var parts []string
	if e.CancelRequest != nil {
		parts = append(parts, "cancelled by "+e.CancelRequest.By)
	}
	for _, w := range e.Waves {
		if w.Status != wavedr.WaveCompleted && w.Status != wavedr.WaveCancelled && w.Reason != "" {
			parts = append(parts, fmt.Sprintf("wave %s %s: %s", w.Name, w.Status, w.Reason))
		}
	}
	parts = append(parts, fmt.Sprintf("%d launched, %d failed, %d cancelled of %d servers",
		c.Launched+c.Terminated, c.Failed, c.Cancelled, c.Total))
	return strings.Join(parts, "; ")
}

// cancelPending cancels every wave that has not sent a launch request:
// PENDING waves, and the chunks of LAUNCHING waves for which StartRecovery
// was never about to be sent. Chunks already requested are left to the
// launch job, which adopts a job an earlier attempt may have started.
func cancelPending(e *wavedr.Execution, now time.Time, d *Decision) {
	for _, w := range e.Waves {
		switch w.Status {
		case wavedr.WavePending:
			cancelServers(w.Servers)
			_ = w.SetStatus(wavedr.WaveCancelled, now)
			w.Reason = "cancelled before launch"
			d.note("wave %s cancelled", w.Name)
		case wavedr.WaveLaunching:
			if len(w.Jobs) == 0 {
				// Not yet split into chunks: no request was sent, and the
				// launch step will not plan a wave that is cancelled.
				cancelServers(w.Servers)
			}
			requested := false
			for i := range w.Jobs {
				j := &w.Jobs[i]
				if j.RequestedAt.IsZero() {
					cancelServers(serversOf(w, j.ServerIDs))
					continue
				}
				requested = true
			}
			if !requested {
				_ = w.SetStatus(wavedr.WaveCancelled, now)
				w.Reason = "cancelled before launch"
				d.note("wave %s cancelled", w.Name)
			}
		}
	}
}

func cancelServers(servers []*wavedr.ServerRun) {
	for _, s := range servers {
		if s.Status == wavedr.ServerPending {
			_ = s.SetStatus(wavedr.ServerCancelled)
			s.Reason = "execution cancelled before launch"
		}
	}
}

func serversOf(w *wavedr.WaveRun, ids []string) []*wavedr.ServerRun {
	out := make([]*wavedr.ServerRun, 0, len(ids))
	for _, id := range ids {
		if s := w.Server(id); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// applyResume acts on a resume request: a paused execution runs again (its
// pause gate counts as passed); a pause request not yet in effect is
// withdrawn. A resume with nothing to resume is dropped.
func applyResume(e *wavedr.Execution, now time.Time, d *Decision) error {
	r := e.ResumeRequest
	if r == nil {
		return nil
	}
	e.ResumeRequest = nil
	switch {
	case e.Status == wavedr.ExecutionPaused:
		if p := e.Pause; p != nil && p.Gate {
			if w := e.Wave(p.BeforeWave); w != nil {
				w.GatePassedBy = r.By
			}
		}
		if err := e.SetStatus(wavedr.ExecutionRunning, now); err != nil {
			return err
		}
		e.PauseRequest = nil
		d.note("resumed by %s", r.By)
	case e.PauseRequest != nil:
		e.PauseRequest = nil
		d.note("pause request withdrawn by %s", r.By)
	default:
		d.Changed = true
	}
	return nil
}

// applyPause turns an operator's pause request into PAUSED, before the next
// wave launches. With no wave left to hold back, the request is dropped.
func applyPause(e *wavedr.Execution, now time.Time, d *Decision) error {
	r := e.PauseRequest
	if r == nil || e.Status != wavedr.ExecutionRunning {
		return nil
	}
	e.PauseRequest = nil
	next := nextPendingWave(e)
	if next == nil {
		d.note("pause request by %s dropped: every wave has launched", r.By)
		return nil
	}
	if err := e.SetStatus(wavedr.ExecutionPaused, now); err != nil {
		return err
	}
	e.Pause = &wavedr.Pause{BeforeWave: next.Name, By: r.By, At: now}
	d.note("paused by %s before wave %s", r.By, next.Name)
	return nil
}

func nextPendingWave(e *wavedr.Execution) *wavedr.WaveRun {
	for _, w := range e.Waves {
		if w.Status == wavedr.WavePending {
			return w
		}
	}
	return nil
}

// skipAfterStop skips every pending wave once a wave under the STOP policy
// has failed servers: the plan stops there.
func skipAfterStop(e *wavedr.Execution, now time.Time, d *Decision) {
	var stopper *wavedr.WaveRun
	for _, w := range e.Waves {
		if w.Status.IsFailure() && w.EffectivePolicy() == wavedr.FailureStop {
			stopper = w
			break
		}
	}
	if stopper == nil {
		return
	}
	for _, w := range e.Waves {
		if w.Status != wavedr.WavePending {
			continue
		}
		for _, s := range w.Servers {
			if s.Status == wavedr.ServerPending {
				_ = s.SetStatus(wavedr.ServerCancelled)
				s.Reason = fmt.Sprintf("not launched: wave %s %s and its policy is STOP", stopper.Name, stopper.Status)
			}
		}
		_ = w.SetStatus(wavedr.WaveSkipped, now)
		w.Reason = fmt.Sprintf("wave %s %s and its failure policy is STOP", stopper.Name, stopper.Status)
		d.note("wave %s skipped", w.Name)
	}
}

// launchReady marks LAUNCHING every pending wave whose dependencies are
// over, in plan order, and pauses at the first one with a pause gate not
// yet passed (waves before it in order still launch).
func launchReady(e *wavedr.Execution, now time.Time, d *Decision) error {
	for _, w := range e.Waves {
		if w.Status != wavedr.WavePending || !dependenciesOver(e, w) {
			continue
		}
		if w.PauseBefore && w.GatePassedBy == "" {
			if err := e.SetStatus(wavedr.ExecutionPaused, now); err != nil {
				return err
			}
			e.Pause = &wavedr.Pause{BeforeWave: w.Name, Gate: true, At: now}
			d.note("paused at the gate before wave %s", w.Name)
			return nil
		}
		if err := w.SetStatus(wavedr.WaveLaunching, now); err != nil {
			return err
		}
		w.LaunchRequestedAt = now
		w.DeadlineAt = now.Add(time.Duration(w.EffectiveDeadline()))
		w.Reason = ""
		d.Launch = append(d.Launch, w.Name)
		d.note("wave %s launching", w.Name)
	}
	return nil
}

// dependenciesOver reports whether every wave w depends on is over.
func dependenciesOver(e *wavedr.Execution, w *wavedr.WaveRun) bool {
	for _, name := range w.DependsOn {
		dep := e.Wave(name)
		if dep == nil || !dep.Status.IsTerminal() {
			return false
		}
	}
	return true
}
