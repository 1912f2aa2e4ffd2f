package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"wavedr"
	"wavedr/store"
)

// launchWorker starts the DRS jobs of one LAUNCHING wave.
type launchWorker struct {
	river.WorkerDefaults[launchArgs]
	e *Engine
}

func (w *launchWorker) Work(ctx context.Context, job *river.Job[launchArgs]) error {
	err := w.e.launch(ctx, job.Args.ExecutionID, job.Args.Wave)
	if wavedr.ErrorCode(err) == wavedr.ENOTFOUND {
		return river.JobCancel(err)
	}
	return err
}

// errWait ends a launch step that must wait (a DRS quota); the job snoozes.
var errWait = errors.New("waiting")

// launch starts the wave's DRS jobs one chunk at a time, each exactly once
// (DESIGN rule 4): the chunk's request is committed before StartRecovery;
// the job carries the execution, wave and chunk as tags; a step that finds
// a request without a job ID looks for a job with those tags and adopts it
// before it would start another. Quotas and conflicts are checked again
// right before each StartRecovery (rule 6).
func (e *Engine) launch(ctx context.Context, id, wave string) error {
	t, err := e.loadTargets(ctx)
	if err != nil {
		return err
	}
	for {
		ex, err := e.db.FindExecution(ctx, id)
		if err != nil {
			return err
		}
		w := ex.Wave(wave)
		if w == nil {
			return river.JobCancel(fmt.Errorf("execution %s has no wave %q", id, wave))
		}
		if w.Status != wavedr.WaveLaunching {
			return nil // launched, cancelled or failed meanwhile
		}
		if !w.DeadlineAt.IsZero() && !e.now().Before(w.DeadlineAt) {
			return nil // the poll fails the wave with its deadline reason
		}
		if len(w.Jobs) == 0 {
			if err := e.planChunks(ctx, ex, w, t); err != nil {
				return err
			}
			continue
		}
		chunk := nextChunk(w)
		if chunk == nil {
			_, err := e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
				cw := cur.Wave(wave)
				if cw.Status != wavedr.WaveLaunching || nextChunk(cw) != nil {
					return errNothing
				}
				return cw.SetStatus(wavedr.WaveInProgress, e.now())
			})
			return err
		}
		err = e.launchChunk(ctx, ex, w, chunk, t)
		if errors.Is(err, errWait) {
			return river.JobSnooze(e.cfg.PollInterval)
		}
		if err != nil {
			return err
		}
	}
}

// nextChunk returns the first chunk of w with servers to launch and no job.
func nextChunk(w *wavedr.WaveRun) *wavedr.WaveJob {
	for i := range w.Jobs {
		j := &w.Jobs[i]
		if j.JobID != "" {
			continue
		}
		for _, s := range serversOf(w, j.ServerIDs) {
			if s.Status == wavedr.ServerPending {
				return j
			}
		}
	}
	return nil
}

// planChunks resolves the wave's groups again (tag selectors are resolved
// when the wave launches), claims servers new since the start, fails
// servers that another execution or a DRS job holds, and splits the rest
// into chunks of at most MaxServersPerJob per account and region.
func (e *Engine) planChunks(ctx context.Context, ex *wavedr.Execution, w *wavedr.WaveRun, t targets) error {
	f := e.newFleet(t)
	var current []*wavedr.ServerRun
	for _, name := range w.Groups {
		g, err := e.db.FindProtectionGroup(ctx, name)
		if err != nil {
			return fmt.Errorf("wave %s: %w", w.Name, err)
		}
		servers, err := f.resolve(ctx, g)
		if err != nil {
			return err
		}
		if err := e.applyLaunchSettings(ctx, g, servers, t); err != nil {
			return err
		}
		current = append(current, servers...)
	}
	busy := map[string]*wavedr.Job{}
	for _, tg := range targetsOf(current, t) {
		jobs, err := e.activeJobs(ctx, tg)
		if err != nil {
			return err
		}
		for id, j := range foreignJobs(jobs, ex.ID) {
			busy[id] = j
		}
	}
	_, err := e.update(ctx, ex.ID, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		cw := cur.Wave(w.Name)
		if cw.Status != wavedr.WaveLaunching || len(cw.Jobs) > 0 {
			return errNothing
		}
		now := e.now()
		// Servers new since the start need a claim, made in this
		// transaction so that it cannot outlive an execution finalized
		// meanwhile; a server another execution holds fails here with that
		// execution named.
		claimed := map[string]string{}
		for _, s := range current {
			if cw.Server(s.SourceServerID) != nil || ownedElsewhere(cur, cw, s.SourceServerID) {
				continue
			}
			err := tx.ClaimServers(ctx, cur.ID, []string{s.SourceServerID})
			if wavedr.ErrorCode(err) == wavedr.ECONFLICT {
				claimed[s.SourceServerID] = wavedr.ErrorMessage(err)
				continue
			}
			if err != nil {
				return err
			}
		}
		var servers []*wavedr.ServerRun
		for _, s := range current {
			if ownedElsewhere(cur, cw, s.SourceServerID) {
				continue // resolved into an earlier wave of this execution: it stays there
			}
			if old := cw.Server(s.SourceServerID); old != nil {
				if old.Status != wavedr.ServerPending {
					servers = append(servers, old)
					continue
				}
				s = old
			}
			if msg, ok := claimed[s.SourceServerID]; ok {
				_ = s.SetStatus(wavedr.ServerFailed)
				s.Reason = "not launched: " + msg
			} else if j, ok := busy[s.SourceServerID]; ok {
				_ = s.SetStatus(wavedr.ServerFailed)
				s.Reason = "not launched: the server is in " + describeJob(j)
			}
			servers = append(servers, s)
		}
		cw.Servers = servers
		cw.Jobs = chunk(servers)
		if len(servers) == 0 {
			cw.Reason = "no server matched the wave's groups when it launched"
			return cw.SetStatus(wavedr.WaveCompleted, now)
		}
		if len(cw.Jobs) == 0 {
			settleWave(cw, now) // every server failed its checks
		}
		e.log.Info("wave.planned", "executionId", cur.ID, "wave", cw.Name, "servers", len(servers), "jobs", len(cw.Jobs))
		return nil
	})
	return err
}

// ownedElsewhere reports whether the server belongs to another wave of ex.
func ownedElsewhere(ex *wavedr.Execution, w *wavedr.WaveRun, id string) bool {
	for _, other := range ex.Waves {
		if other != w && other.Server(id) != nil {
			return true
		}
	}
	return false
}

// targetsOf lists the distinct targets of servers.
func targetsOf(servers []*wavedr.ServerRun, t targets) []wavedr.Target {
	seen := map[string]wavedr.Target{}
	for _, s := range servers {
		tg := t.target(s.AccountID, s.Region)
		seen[tg.Key()] = tg
	}
	out := make([]wavedr.Target, 0, len(seen))
	for _, tg := range seen {
		out = append(out, tg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// chunk splits the pending servers into DRS jobs of at most
// MaxServersPerJob servers in one account and region, numbering them from 0
// in a stable order.
func chunk(servers []*wavedr.ServerRun) []wavedr.WaveJob {
	byTarget := map[string][]*wavedr.ServerRun{}
	var keys []string
	for _, s := range servers {
		if s.Status != wavedr.ServerPending {
			continue
		}
		k := s.AccountID + "/" + s.Region
		if _, ok := byTarget[k]; !ok {
			keys = append(keys, k)
		}
		byTarget[k] = append(byTarget[k], s)
	}
	sort.Strings(keys)
	jobs := []wavedr.WaveJob{}
	for _, k := range keys {
		group := byTarget[k]
		sort.Slice(group, func(i, j int) bool { return group[i].SourceServerID < group[j].SourceServerID })
		for start := 0; start < len(group); start += wavedr.MaxServersPerJob {
			part := group[start:min(start+wavedr.MaxServersPerJob, len(group))]
			j := wavedr.WaveJob{Chunk: len(jobs), AccountID: part[0].AccountID, Region: part[0].Region}
			for _, s := range part {
				s.Chunk = j.Chunk
				j.ServerIDs = append(j.ServerIDs, s.SourceServerID)
			}
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// launchChunk starts (or adopts) the DRS job of one chunk.
func (e *Engine) launchChunk(ctx context.Context, ex *wavedr.Execution, w *wavedr.WaveRun, c *wavedr.WaveJob, t targets) error {
	tg := t.target(c.AccountID, c.Region)
	tags := map[string]string{
		wavedr.TagExecution: ex.ID,
		wavedr.TagWave:      w.Name,
		wavedr.TagChunk:     strconv.Itoa(c.Chunk),
	}
	if !c.RequestedAt.IsZero() {
		// An earlier attempt got as far as StartRecovery: its job, if DRS
		// started one, is adopted rather than started again.
		job, err := e.findTagged(ctx, tg, tags, c.RequestedAt)
		if err != nil {
			return err
		}
		if job != nil {
			e.log.Warn("wave.job_adopted", "executionId", ex.ID, "wave", w.Name, "chunk", c.Chunk, "jobId", job.ID)
			return e.recordJob(ctx, ex.ID, w.Name, c.Chunk, job)
		}
	}
	if ex.Status == wavedr.ExecutionCancelling {
		return e.cancelChunk(ctx, ex.ID, w.Name, c.Chunk)
	}

	jobs, err := e.activeJobs(ctx, tg)
	if err != nil {
		return err
	}
	if reason := quotaWait(jobs, len(c.ServerIDs), tg); reason != "" {
		return e.wait(ctx, ex.ID, w.Name, reason)
	}
	busy := foreignJobs(jobs, ex.ID)
	var launchable []string
	refused := map[string]string{}
	for _, id := range c.ServerIDs {
		if s := w.Server(id); s == nil || s.Status != wavedr.ServerPending {
			continue
		}
		if j, ok := busy[id]; ok {
			refused[id] = "not launched: the server is in " + describeJob(j)
			continue
		}
		launchable = append(launchable, id)
	}

	// Record the request before sending it: the step that finds it
	// recorded without a job looks for the job before starting another.
	_, err = e.update(ctx, ex.ID, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		cw := cur.Wave(w.Name)
		cc := cw.Job(c.Chunk)
		if cw.Status != wavedr.WaveLaunching || cc == nil || cc.JobID != "" || cur.Status == wavedr.ExecutionCancelling {
			return errStale
		}
		now := e.now()
		cc.RequestedAt = now
		cc.ServerIDs = launchable
		cw.Reason = ""
		for _, s := range serversOf(cw, c.ServerIDs) {
			if why, ok := refused[s.SourceServerID]; ok {
				_ = s.SetStatus(wavedr.ServerFailed)
				s.Reason = why
				continue
			}
			s.LaunchRequestedAt = now
		}
		return nil
	})
	if errors.Is(err, errStale) {
		return nil // re-read by the caller's loop
	}
	if err != nil {
		return err
	}
	if len(launchable) == 0 {
		return nil
	}
	if h := e.cfg.Hooks.BeforeStartRecovery; h != nil {
		if err := h(ex.ID, w.Name, c.Chunk); err != nil {
			return err
		}
	}
	job, err := e.rec.StartRecovery(ctx, tg, wavedr.StartRecoveryInput{
		SourceServerIDs: launchable,
		IsDrill:         ex.Mode == wavedr.ModeDrill,
		Tags:            tags,
	})
	switch wavedr.ErrorCode(err) {
	case "":
	case wavedr.ECONFLICT:
		// "Look again, not launch again": the conflict may be our own job.
		adopted, ferr := e.findTagged(ctx, tg, tags, e.now().Add(-time.Hour))
		if ferr != nil {
			return ferr
		}
		if adopted != nil {
			return e.recordJob(ctx, ex.ID, w.Name, c.Chunk, adopted)
		}
		return err // retried: the next step re-checks which server is busy
	case wavedr.EQUOTA:
		return e.wait(ctx, ex.ID, w.Name, "DRS refused the launch for its quota: "+wavedr.ErrorMessage(err))
	case wavedr.EINVALID:
		return e.refuseChunk(ctx, ex.ID, w.Name, c.Chunk, "DRS refused the launch: "+wavedr.ErrorMessage(err))
	default:
		return err
	}
	if h := e.cfg.Hooks.AfterStartRecovery; h != nil {
		if err := h(ex.ID, w.Name, c.Chunk, job.ID); err != nil {
			return err
		}
	}
	return e.recordJob(ctx, ex.ID, w.Name, c.Chunk, job)
}

// errStale ends a step whose premise changed under it; the loop re-reads.
var errStale = errors.New("stale")

// findTagged returns the LAUNCH job with exactly these tags created since
// shortly before since, or nil.
func (e *Engine) findTagged(ctx context.Context, tg wavedr.Target, tags map[string]string, since time.Time) (*wavedr.Job, error) {
	jobs, err := e.rec.DescribeJobs(ctx, tg, wavedr.JobFilter{From: since.Add(-5 * time.Minute)})
	if err != nil {
		return nil, err
	}
	var found *wavedr.Job
	for _, j := range jobs {
		if j.Type != wavedr.JobTypeLaunch || !hasTags(j.Tags, tags) {
			continue
		}
		if found != nil {
			e.log.Error("wave.duplicate_jobs", "jobId", found.ID, "other", j.ID, "tags", tags)
		}
		if found == nil || j.CreatedAt.Before(found.CreatedAt) {
			found = j
		}
	}
	return found, nil
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// recordJob stores the job ID of a chunk, and moves the wave IN_PROGRESS
// once every chunk has its job.
func (e *Engine) recordJob(ctx context.Context, id, wave string, chunkIdx int, job *wavedr.Job) error {
	_, err := e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		cw := cur.Wave(wave)
		c := cw.Job(chunkIdx)
		if c == nil || c.JobID == job.ID {
			return errNothing
		}
		if c.JobID != "" {
			return fmt.Errorf("wave %s chunk %d already has job %s, not %s", wave, chunkIdx, c.JobID, job.ID)
		}
		now := e.now()
		c.JobID, c.Status, c.CreatedAt = job.ID, job.Status, job.CreatedAt
		if c.RequestedAt.IsZero() {
			c.RequestedAt = now
		}
		if cw.StartedAt.IsZero() {
			cw.StartedAt = job.CreatedAt
		}
		for _, s := range serversOf(cw, c.ServerIDs) {
			s.JobID = job.ID
			if s.LaunchRequestedAt.IsZero() {
				s.LaunchRequestedAt = c.RequestedAt
			}
		}
		if cw.Status == wavedr.WaveLaunching && nextChunk(cw) == nil {
			if err := cw.SetStatus(wavedr.WaveInProgress, now); err != nil {
				return err
			}
		}
		e.log.Info("wave.job_started", "executionId", id, "wave", wave, "chunk", chunkIdx, "jobId", job.ID, "servers", len(c.ServerIDs))
		return nil
	})
	return err
}

// cancelChunk cancels the servers of a chunk that never got a job because
// the execution was cancelled first.
func (e *Engine) cancelChunk(ctx context.Context, id, wave string, chunkIdx int) error {
	return e.endChunk(ctx, id, wave, chunkIdx, wavedr.ServerCancelled, "execution cancelled before launch")
}

// refuseChunk fails the servers of a chunk DRS refused to launch.
func (e *Engine) refuseChunk(ctx context.Context, id, wave string, chunkIdx int, reason string) error {
	return e.endChunk(ctx, id, wave, chunkIdx, wavedr.ServerFailed, reason)
}

func (e *Engine) endChunk(ctx context.Context, id, wave string, chunkIdx int, to wavedr.ServerStatus, reason string) error {
	_, err := e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		cw := cur.Wave(wave)
		c := cw.Job(chunkIdx)
		if c == nil || c.JobID != "" {
			return errNothing
		}
		for _, s := range serversOf(cw, c.ServerIDs) {
			if s.Status == wavedr.ServerPending {
				_ = s.SetStatus(to)
				s.Reason = reason
			}
		}
		// A LAUNCHING wave's reason only ever says why it waits; this
		// chunk waits no more.
		cw.Reason = ""
		if nextChunk(cw) == nil {
			settleWave(cw, e.now())
		}
		return nil
	})
	return err
}

// quotaWait says why a launch of n servers must wait, or "".
func quotaWait(active []*wavedr.Job, n int, tg wavedr.Target) string {
	servers := 0
	for _, j := range active {
		servers += len(j.Servers)
	}
	switch {
	case len(active) >= wavedr.MaxConcurrentJobs:
		return fmt.Sprintf("waiting for DRS quota in %s: %d of %d concurrent jobs in progress", tg.Key(), len(active), wavedr.MaxConcurrentJobs)
	case servers+n > wavedr.MaxServersInActiveJobs:
		return fmt.Sprintf("waiting for DRS quota in %s: %d servers in active jobs, %d more would pass %d", tg.Key(), servers, n, wavedr.MaxServersInActiveJobs)
	}
	return ""
}

// wait records why the wave waits and ends the step with errWait.
func (e *Engine) wait(ctx context.Context, id, wave, reason string) error {
	_, err := e.update(ctx, id, func(tx *store.Tx, cur *wavedr.Execution, _ *Result) error {
		cw := cur.Wave(wave)
		if cw.Reason == reason {
			return errNothing
		}
		cw.Reason = reason
		e.log.Info("wave.waiting", "executionId", id, "wave", wave, "reason", reason)
		return nil
	})
	if err != nil {
		return err
	}
	return errWait
}

// applyLaunchSettings makes the DRS launch configuration of each server of
// g match the group's launch settings before the wave launches. Only
// differing configurations are updated, so a retried step changes nothing.
func (e *Engine) applyLaunchSettings(ctx context.Context, g *wavedr.ProtectionGroup, servers []*wavedr.ServerRun, t targets) error {
	ls := g.LaunchSettings
	if ls == nil {
		return nil
	}
	tg := t.target(g.AccountID, g.Region)
	for _, s := range servers {
		cur, err := e.rec.GetLaunchConfiguration(ctx, tg, s.SourceServerID)
		if err != nil {
			return fmt.Errorf("launch settings of %s: %w", s.SourceServerID, err)
		}
		want := *cur
		setBool := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		setBool(&want.CopyPrivateIP, ls.CopyPrivateIP)
		setBool(&want.CopyTags, ls.CopyTags)
		setBool(&want.OSByol, ls.OSByol)
		if ls.LaunchDisposition != "" {
			want.LaunchDisposition = ls.LaunchDisposition
		}
		if ls.RightSizingMethod != "" {
			want.RightSizingMethod = ls.RightSizingMethod
		}
		if want == *cur {
			continue
		}
		if _, err := e.rec.UpdateLaunchConfiguration(ctx, tg, &want); err != nil {
			return fmt.Errorf("launch settings of %s: %w", s.SourceServerID, err)
		}
		e.log.Info("server.launch_settings", "group", g.Name, "sourceServerId", s.SourceServerID)
	}
	return nil
}
