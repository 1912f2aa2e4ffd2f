package engine

import (
	"testing"
	"time"

	"wavedr"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// threeWaves is database → app (gate) → web.
func threeWaves(t *testing.T, gateOn string) *wavedr.Execution {
	t.Helper()
	plan := &wavedr.RecoveryPlan{ID: wavedr.NewID(wavedr.PrefixRecoveryPlan, t0), Name: "three-tier", Version: 1, Waves: []wavedr.Wave{
		{Name: "database", Groups: []string{"db"}},
		{Name: "app", Groups: []string{"app"}},
		{Name: "web", Groups: []string{"web"}},
	}}
	for i := range plan.Waves {
		plan.Waves[i].PauseBefore = plan.Waves[i].Name == gateOn
	}
	if err := plan.Validate(nil); err != nil {
		t.Fatal(err)
	}
	e := wavedr.NewExecution(plan, wavedr.ModeDrill, "alice", t0)
	for _, w := range e.Waves {
		w.Servers = []*wavedr.ServerRun{{ServerDetail: wavedr.ServerDetail{SourceServerID: "s-" + w.Name}, Status: wavedr.ServerPending}}
	}
	return e
}

func mustAdvance(t *testing.T, e *wavedr.Execution, now time.Time) Decision {
	t.Helper()
	d, err := advance(e, now)
	if err != nil {
		t.Fatalf("advance: %v", err)
	}
	return d
}

// launchAndFinish plays DRS for one wave: a job that launches every server.
func launchAndFinish(t *testing.T, e *wavedr.Execution, wave string, launch wavedr.LaunchStatus, now time.Time) {
	t.Helper()
	w := e.Wave(wave)
	if w.Status != wavedr.WaveLaunching {
		t.Fatalf("wave %s is %s, want LAUNCHING", wave, w.Status)
	}
	job := &wavedr.Job{ID: "drsjob-" + wave, Status: wavedr.JobCompleted, CreatedAt: now, EndedAt: now}
	w.Jobs = []wavedr.WaveJob{{Chunk: 0, JobID: job.ID, RequestedAt: now, ServerIDs: []string{"s-" + wave}}}
	_ = w.SetStatus(wavedr.WaveInProgress, now)
	o := newObservation()
	for _, s := range w.Servers {
		job.Servers = append(job.Servers, wavedr.ParticipatingServer{SourceServerID: s.SourceServerID, LaunchStatus: launch})
	}
	o.jobs[job.ID] = job
	observe(e, o, now)
}

func TestNeverFinalizedEarly(t *testing.T) {
	// The seed's bug: wave 1 done while the others have not started must not
	// finalize the execution, however often it is polled and advanced.
	e := threeWaves(t, "")
	d := mustAdvance(t, e, t0)
	if e.Status != wavedr.ExecutionRunning || len(d.Launch) != 1 || d.Launch[0] != "database" {
		t.Fatalf("after start: status %s, launch %v", e.Status, d.Launch)
	}
	launchAndFinish(t, e, "database", wavedr.LaunchLaunched, t0.Add(time.Second))
	if e.Wave("database").Status != wavedr.WaveCompleted {
		t.Fatalf("database wave %s", e.Wave("database").Status)
	}
	if err := finalize(e, t0, &Decision{}); wavedr.ErrorCode(err) != wavedr.ECONFLICT {
		t.Fatalf("finalize with open waves: %v, want conflict", err)
	}
	d = mustAdvance(t, e, t0.Add(2*time.Second))
	if d.Finalized || e.Status.IsTerminal() {
		t.Fatalf("finalized early: %s", e.Status)
	}
	if len(d.Launch) != 1 || d.Launch[0] != "app" {
		t.Fatalf("launch %v, want app", d.Launch)
	}
	for i := 0; i < 10; i++ { // polls and advances while app is slow
		observe(e, newObservation(), t0.Add(time.Duration(3+i)*time.Second))
		mustAdvance(t, e, t0.Add(time.Duration(3+i)*time.Second))
		if e.Status.IsTerminal() {
			t.Fatalf("terminal at poll %d", i)
		}
	}
	launchAndFinish(t, e, "app", wavedr.LaunchLaunched, t0.Add(time.Minute))
	mustAdvance(t, e, t0.Add(time.Minute))
	launchAndFinish(t, e, "web", wavedr.LaunchLaunched, t0.Add(2*time.Minute))
	d = mustAdvance(t, e, t0.Add(2*time.Minute))
	if !d.Finalized || e.Status != wavedr.ExecutionCompleted {
		t.Fatalf("status %s finalized %v", e.Status, d.Finalized)
	}
	// Finalize again: a no-op.
	before := e.EndedAt
	if err := finalize(e, t0.Add(time.Hour), &Decision{}); err != nil || !e.EndedAt.Equal(before) {
		t.Fatalf("second finalize: %v, ended %v", err, e.EndedAt)
	}
}

func TestPauseGateOnFirstWave(t *testing.T) {
	e := threeWaves(t, "database")
	d := mustAdvance(t, e, t0)
	if e.Status != wavedr.ExecutionPaused || e.Pause == nil || !e.Pause.Gate || e.Pause.BeforeWave != "database" || len(d.Launch) != 0 {
		t.Fatalf("status %s pause %+v launch %v", e.Status, e.Pause, d.Launch)
	}
	if !e.CanResume() || e.CanPause() {
		t.Fatalf("canResume %v canPause %v", e.CanResume(), e.CanPause())
	}
	mustAdvance(t, e, t0.Add(time.Second)) // nothing moves while paused
	if e.Status != wavedr.ExecutionPaused {
		t.Fatalf("status %s", e.Status)
	}
	e.ResumeRequest = &wavedr.Request{By: "bob", At: t0}
	d = mustAdvance(t, e, t0.Add(2*time.Second))
	if e.Status != wavedr.ExecutionRunning || len(d.Launch) != 1 || e.Wave("database").GatePassedBy != "bob" {
		t.Fatalf("after resume: %s %v %q", e.Status, d.Launch, e.Wave("database").GatePassedBy)
	}
	// A second resume is harmless.
	e.ResumeRequest = &wavedr.Request{By: "bob", At: t0}
	d = mustAdvance(t, e, t0.Add(3*time.Second))
	if e.Status != wavedr.ExecutionRunning || len(d.Launch) != 0 {
		t.Fatalf("after second resume: %s %v", e.Status, d.Launch)
	}
}

func TestManualPauseBeforeNextWave(t *testing.T) {
	e := threeWaves(t, "")
	mustAdvance(t, e, t0)
	e.PauseRequest = &wavedr.Request{By: "carol", At: t0}
	mustAdvance(t, e, t0.Add(time.Second))
	if e.Status != wavedr.ExecutionPaused || e.Pause.Gate || e.Pause.By != "carol" || e.Pause.BeforeWave != "app" {
		t.Fatalf("status %s pause %+v", e.Status, e.Pause)
	}
	// The in-flight wave is still observed to its end; nothing new launches.
	launchAndFinish(t, e, "database", wavedr.LaunchLaunched, t0.Add(2*time.Second))
	d := mustAdvance(t, e, t0.Add(3*time.Second))
	if len(d.Launch) != 0 || e.Wave("app").Status != wavedr.WavePending {
		t.Fatalf("launched %v while paused", d.Launch)
	}
}

func TestCancelDuringSecondWave(t *testing.T) {
	e := threeWaves(t, "")
	mustAdvance(t, e, t0)
	launchAndFinish(t, e, "database", wavedr.LaunchLaunched, t0)
	mustAdvance(t, e, t0) // app launching
	w := e.Wave("app")
	w.Jobs = []wavedr.WaveJob{{Chunk: 0, JobID: "drsjob-app", RequestedAt: t0, ServerIDs: []string{"s-app"}}}
	_ = w.SetStatus(wavedr.WaveInProgress, t0)

	e.CancelRequest = &wavedr.Request{By: "dave", At: t0}
	mustAdvance(t, e, t0.Add(time.Second))
	if e.Status != wavedr.ExecutionCancelling || e.Wave("web").Status != wavedr.WaveCancelled || w.Status != wavedr.WaveInProgress {
		t.Fatalf("status %s web %s app %s", e.Status, e.Wave("web").Status, w.Status)
	}
	// App is observed to its end, then the execution ends.
	o := newObservation()
	o.jobs["drsjob-app"] = &wavedr.Job{ID: "drsjob-app", Status: wavedr.JobCompleted, Servers: []wavedr.ParticipatingServer{{SourceServerID: "s-app", LaunchStatus: wavedr.LaunchLaunched}}}
	observe(e, o, t0.Add(time.Minute))
	d := mustAdvance(t, e, t0.Add(time.Minute))
	c := e.Counts()
	if !d.Finalized || e.Status != wavedr.ExecutionPartial || c.Launched != 2 || c.Cancelled != 1 {
		t.Fatalf("status %s counts %+v", e.Status, c)
	}
}

func TestCancelBeforeStart(t *testing.T) {
	e := threeWaves(t, "")
	e.CancelRequest = &wavedr.Request{By: "erin", At: t0}
	d := mustAdvance(t, e, t0)
	if !d.Finalized || e.Status != wavedr.ExecutionCancelled || e.Counts().Cancelled != 3 {
		t.Fatalf("status %s counts %+v", e.Status, e.Counts())
	}
}

func TestFailurePolicy(t *testing.T) {
	for _, tc := range []struct {
		policy wavedr.FailurePolicy
		want   wavedr.ExecutionStatus
		web    wavedr.WaveStatus
	}{
		{wavedr.FailureStop, wavedr.ExecutionPartial, wavedr.WaveSkipped},
		{wavedr.FailureContinue, wavedr.ExecutionPartial, wavedr.WaveCompleted},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			e := threeWaves(t, "")
			e.Wave("app").OnFailure = tc.policy
			mustAdvance(t, e, t0)
			launchAndFinish(t, e, "database", wavedr.LaunchLaunched, t0)
			mustAdvance(t, e, t0)
			launchAndFinish(t, e, "app", wavedr.LaunchFailed, t0)
			if e.Wave("app").Status != wavedr.WaveFailed {
				t.Fatalf("app %s", e.Wave("app").Status)
			}
			d := mustAdvance(t, e, t0)
			if tc.policy == wavedr.FailureContinue {
				launchAndFinish(t, e, "web", wavedr.LaunchLaunched, t0)
				d = mustAdvance(t, e, t0)
			}
			if !d.Finalized || e.Status != tc.want || e.Wave("web").Status != tc.web {
				t.Fatalf("status %s web %s", e.Status, e.Wave("web").Status)
			}
		})
	}
}

func TestWaveDeadline(t *testing.T) {
	e := threeWaves(t, "")
	mustAdvance(t, e, t0)
	w := e.Wave("database")
	w.Jobs = []wavedr.WaveJob{{Chunk: 0, JobID: "drsjob-db", RequestedAt: t0, ServerIDs: []string{"s-database"}}}
	_ = w.SetStatus(wavedr.WaveInProgress, t0)
	o := newObservation()
	o.jobs["drsjob-db"] = &wavedr.Job{ID: "drsjob-db", Status: wavedr.JobStarted, Servers: []wavedr.ParticipatingServer{{SourceServerID: "s-database", LaunchStatus: wavedr.LaunchInProgress}}}
	observe(e, o, w.DeadlineAt.Add(-time.Second))
	if w.Status != wavedr.WaveInProgress {
		t.Fatalf("before deadline: %s", w.Status)
	}
	observe(e, o, w.DeadlineAt)
	if w.Status != wavedr.WaveFailed || w.Servers[0].Status != wavedr.ServerFailed || w.Reason == "" {
		t.Fatalf("after deadline: %s %s %q", w.Status, w.Servers[0].Status, w.Reason)
	}
}

// TestLaunchedAtIsWhenLaunchWasSeen: DRS gives no time for LAUNCHED and
// EC2's LaunchTime is the instance's creation, at the start of the launch;
// LaunchedAt is the first poll that saw LAUNCHED, or the job's end when
// that poll came later.
func TestLaunchedAtIsWhenLaunchWasSeen(t *testing.T) {
	created := t0.Add(time.Minute)
	job := &wavedr.Job{ID: "drsjob-1", Status: wavedr.JobStarted, CreatedAt: t0}
	detail := &wavedr.ServerDetail{SourceServerID: "s-1", LaunchStatus: wavedr.LaunchLaunched, LaunchTime: created}
	s := &wavedr.ServerRun{ServerDetail: wavedr.ServerDetail{SourceServerID: "s-1"}, Status: wavedr.ServerInProgress}
	seen := t0.Add(4 * time.Minute)
	observeServer(s, job, detail, nil, seen)
	if !s.LaunchedAt.Equal(seen) || !s.LaunchTime.Equal(created) {
		t.Fatalf("LaunchedAt %v LaunchTime %v; want %v and %v", s.LaunchedAt, s.LaunchTime, seen, created)
	}
	observeServer(s, job, detail, nil, seen.Add(time.Minute))
	if !s.LaunchedAt.Equal(seen) {
		t.Fatalf("a later poll moved LaunchedAt to %v", s.LaunchedAt)
	}

	late := &wavedr.ServerRun{ServerDetail: wavedr.ServerDetail{SourceServerID: "s-1"}, Status: wavedr.ServerInProgress}
	ended := t0.Add(5 * time.Minute)
	done := &wavedr.Job{ID: "drsjob-1", Status: wavedr.JobCompleted, CreatedAt: t0, EndedAt: ended}
	observeServer(late, done, detail, nil, t0.Add(time.Hour))
	if !late.LaunchedAt.Equal(ended) {
		t.Fatalf("first seen an hour later: LaunchedAt %v, want the job's end %v", late.LaunchedAt, ended)
	}
}
