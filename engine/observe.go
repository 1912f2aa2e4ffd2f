package engine

import (
	"fmt"
	"time"

	"wavedr"
)

// observation is what one poll learned from DRS and EC2 about the jobs of
// an execution's in-flight waves.
type observation struct {
	jobs    map[string]*wavedr.Job             // by job ID; a job DRS did not return is absent
	servers map[jobServer]*wavedr.ServerDetail // by job and source server
	logs    map[string][]wavedr.JobLogItem     // by job ID, for the jobs whose log was read
}

type jobServer struct{ job, server string }

func newObservation() *observation {
	return &observation{
		jobs:    map[string]*wavedr.Job{},
		servers: map[jobServer]*wavedr.ServerDetail{},
		logs:    map[string][]wavedr.JobLogItem{},
	}
}

// add records an enrichment of one account and region.
func (o *observation) add(en *wavedr.Enrichment) {
	for _, j := range en.Jobs {
		o.jobs[j.ID] = j
	}
	for _, s := range en.Servers {
		o.servers[jobServer{s.JobID, s.SourceServerID}] = s
	}
}

// inFlight reports whether the wave has DRS jobs to watch.
func inFlight(w *wavedr.WaveRun) bool {
	return w.Status == wavedr.WaveLaunching || w.Status == wavedr.WaveInProgress
}

// observe applies o to e's in-flight waves at now: job statuses, server
// details, phases, times and failure reasons, wave outcomes and deadlines.
// It writes observations only, never the execution's status (DESIGN rule 1);
// a wave that ends here is acted on by the next advance step.
func observe(e *wavedr.Execution, o *observation, now time.Time) {
	for _, w := range e.Waves {
		if !inFlight(w) {
			continue
		}
		for i := range w.Jobs {
			j := &w.Jobs[i]
			if j.JobID == "" {
				continue
			}
			job := o.jobs[j.JobID]
			if job == nil {
				continue // not returned this time (eventual consistency); keep what we knew
			}
			j.Status = job.Status
			j.CreatedAt = job.CreatedAt
			j.EndedAt = job.EndedAt
			events := serverEvents(o.logs[j.JobID])
			for _, s := range serversOf(w, j.ServerIDs) {
				observeServer(s, job, o.servers[jobServer{job.ID, s.SourceServerID}], events[s.SourceServerID], now)
			}
		}
		settleWave(w, now)
	}
}

// serverEvents groups a job log by source server.
func serverEvents(items []wavedr.JobLogItem) map[string][]wavedr.JobLogItem {
	out := map[string][]wavedr.JobLogItem{}
	for _, it := range items {
		if it.SourceServerID != "" {
			out[it.SourceServerID] = append(out[it.SourceServerID], it)
		}
	}
	return out
}

// observeServer updates one server from its job, its enrichment and its
// log events. Details learned earlier are kept when a later poll lacks
// them (an EC2 instance briefly not found, say).
func observeServer(s *wavedr.ServerRun, job *wavedr.Job, detail *wavedr.ServerDetail, events []wavedr.JobLogItem, now time.Time) {
	if s.Status.IsTerminal() {
		// Only enrichment of a launched server can still improve.
		if s.Status == wavedr.ServerLaunched && detail != nil {
			mergeDetail(s, detail)
		}
		return
	}
	s.JobID = job.ID
	if s.JobStartedAt.IsZero() {
		s.JobStartedAt = job.CreatedAt
	}
	failure := ""
	for _, ev := range events {
		switch ev.Event {
		case wavedr.EventSnapshotStart:
			s.Phase = wavedr.PhaseSnapshot
		case wavedr.EventSnapshotEnd, wavedr.EventUsingPreviousSnapshot:
			s.SnapshotAt = ev.Time
		case wavedr.EventConversionStart:
			s.Phase = wavedr.PhaseConversion
		case wavedr.EventConversionEnd:
			s.ConversionAt = ev.Time
		case wavedr.EventLaunchStart:
			s.Phase = wavedr.PhaseLaunch
		case wavedr.EventSnapshotFail, wavedr.EventConversionFail, wavedr.EventLaunchFailed, wavedr.EventServerSkipped:
			failure = fmt.Sprintf("%s at %s", ev.Event, ev.Time.UTC().Format(time.RFC3339))
			if ev.RawError != "" {
				failure += ": " + ev.RawError
			}
		}
	}
	status := wavedr.LaunchPending
	if detail != nil {
		status = detail.LaunchStatus
		mergeDetail(s, detail)
	} else if ps := participant(job, s.SourceServerID); ps != nil {
		status = ps.LaunchStatus
	}
	switch status {
	case wavedr.LaunchLaunched, wavedr.LaunchTerminated:
		_ = s.SetStatus(wavedr.ServerLaunched)
		s.Reason = ""
		if s.LaunchedAt.IsZero() {
			// DRS records no time for LAUNCHED (there is no LAUNCH_END
			// event), and EC2's LaunchTime is when the instance was
			// created, at the start of the launch. So this is when the
			// launch was first seen over, accurate to one poll — or the
			// job's end, when this poll comes late (after a restart).
			s.LaunchedAt = now
			if !job.EndedAt.IsZero() && job.EndedAt.Before(now) {
				s.LaunchedAt = job.EndedAt
			}
		}
		if status == wavedr.LaunchTerminated {
			_ = s.SetStatus(wavedr.ServerTerminated)
			s.TerminatedAt = now
			s.Reason = "recovery instance terminated outside this execution"
		}
	case wavedr.LaunchFailed:
		_ = s.SetStatus(wavedr.ServerFailed)
		s.Reason = failure
		if s.Reason == "" {
			s.Reason = "DRS reported launch status FAILED with no error in the job log"
		}
	default:
		if job.Status == wavedr.JobCompleted {
			_ = s.SetStatus(wavedr.ServerFailed)
			s.Reason = fmt.Sprintf("job %s completed with the server still %s", job.ID, status)
			return
		}
		_ = s.SetStatus(wavedr.ServerInProgress)
		if s.Phase == "" {
			s.Phase = wavedr.PhaseQueued
		}
	}
}

func participant(job *wavedr.Job, id string) *wavedr.ParticipatingServer {
	for i := range job.Servers {
		if job.Servers[i].SourceServerID == id {
			return &job.Servers[i]
		}
	}
	return nil
}

// mergeDetail copies what the enrichment knows into s, keeping earlier
// values the enrichment lacks this time.
func mergeDetail(s *wavedr.ServerRun, d *wavedr.ServerDetail) {
	keep := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	keep(&s.Hostname, d.Hostname)
	keep(&s.SourceIP, d.SourceIP)
	keep(&s.SourceInstanceID, d.SourceInstanceID)
	keep((*string)(&s.ReplicationState), string(d.ReplicationState))
	keep(&s.RecoveryInstanceID, d.RecoveryInstanceID)
	keep(&s.EC2InstanceID, d.EC2InstanceID)
	keep(&s.EC2InstanceState, d.EC2InstanceState)
	keep(&s.InstanceType, d.InstanceType)
	keep(&s.PrivateIP, d.PrivateIP)
	keep(&s.PrivateDNS, d.PrivateDNS)
	keep(&s.InstanceState, d.InstanceState)
	if len(d.Tags) > 0 {
		s.Tags = d.Tags
	}
	if d.LaunchStatus != "" {
		s.LaunchStatus = d.LaunchStatus
	}
	s.IsDrill = d.IsDrill || s.IsDrill
	if !d.PointInTimeSnapshot.IsZero() {
		s.PointInTimeSnapshot = d.PointInTimeSnapshot
	}
	if !d.LaunchTime.IsZero() {
		s.LaunchTime = d.LaunchTime
	}
	s.Missing = d.Missing
}

// settleWave ends an in-flight wave whose jobs are all over, or whose
// deadline has passed (DESIGN rule 5: wall-clock deadlines).
func settleWave(w *wavedr.WaveRun, now time.Time) {
	if !inFlight(w) {
		return
	}
	// Over when every server is and every started job has ended; a chunk
	// never started (cancelled, or refused) holds nothing back.
	over := len(w.Servers) > 0
	for _, j := range w.Jobs {
		if j.JobID != "" && j.Status != wavedr.JobCompleted {
			over = false
		}
	}
	for _, s := range w.Servers {
		if !s.Status.IsTerminal() {
			over = false
		}
	}
	if !over && (w.DeadlineAt.IsZero() || now.Before(w.DeadlineAt)) {
		return
	}
	if !over {
		reason := fmt.Sprintf("deadline of %s passed at %s", w.EffectiveDeadline(), w.DeadlineAt.UTC().Format(time.RFC3339))
		for _, s := range w.Servers {
			if s.Status.IsTerminal() {
				continue
			}
			_ = s.SetStatus(wavedr.ServerFailed)
			if s.JobID != "" {
				s.Reason = fmt.Sprintf("%s with DRS job %s still running", reason, s.JobID)
			} else {
				s.Reason = reason + " before the server's job started"
			}
		}
		w.Reason = reason
	}
	c := w.Counts()
	launched := c.Launched + c.Terminated
	switch {
	case launched == c.Total:
		_ = w.SetStatus(wavedr.WaveCompleted, now)
	case launched == 0 && c.Failed == 0 && w.Status == wavedr.WaveLaunching:
		// Every server was cancelled before its chunk got a DRS job (a
		// cancel while the launch waited for quota): nothing failed.
		_ = w.SetStatus(wavedr.WaveCancelled, now)
		w.Reason = "cancelled before launch"
	case launched > 0:
		_ = w.SetStatus(wavedr.WavePartial, now)
	default:
		_ = w.SetStatus(wavedr.WaveFailed, now)
	}
	if w.Reason == "" && w.Status != wavedr.WaveCompleted {
		w.Reason = fmt.Sprintf("%d of %d servers failed", c.Failed, c.Total)
	}
}
