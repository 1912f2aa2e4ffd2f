package engine_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"wavedr"
	"wavedr/engine"
	"wavedr/sim"
	"wavedr/store/storetest"
)

// The scenarios below run the real engine against the simulator on both
// databases. Plans are written in the test as YAML; the groups db-tier,
// app-tier and web-tier come from examples/three-tier.yaml, which every
// harness applies. Nothing edits stored rows: progress is DRS's (the
// simulator's), seen through the engine's own polling.

// local is the simulator's local account and region, as the adapter
// reaches it with the harness's credentials.
var local = wavedr.Target{Region: sim.LocalRegion}

// plans used by several scenarios.
const (
	// singlePlan is one wave: the database servers.
	singlePlan = `
kind: RecoveryPlan
name: single
waves:
  - name: database
    groups: [db-tier]
`
	// threePlan is database → app → web with no gate.
	threePlan = `
kind: RecoveryPlan
name: three
waves:
  - name: database
    groups: [db-tier]
  - name: app
    groups: [app-tier]
  - name: web
    groups: [web-tier]
`
	// gatedPlan has a pause gate before its first and its second wave.
	gatedPlan = `
kind: RecoveryPlan
name: gated
waves:
  - name: database
    groups: [db-tier]
    pauseBefore: true
  - name: app
    groups: [app-tier]
    pauseBefore: true
  - name: web
    groups: [web-tier]
`
	// legacyGroup selects the two legacy servers: legacy-01 launches from
	// its last snapshot, legacy-02 (INITIAL_SYNC) fails.
	legacyGroup = `
kind: ProtectionGroup
name: legacy-tier
region: us-east-1
selector:
  tags:
    Tier: legacy
`
)

// start starts an execution of the plan, failing the test on error.
func (h *harness) start(plan string, mode wavedr.Mode) *wavedr.Execution {
	h.t.Helper()
	ex, err := h.eng.Start(context.Background(), engine.StartInput{Plan: plan, Mode: mode, InitiatedBy: "alice"})
	if err != nil {
		h.t.Fatalf("start %s: %v", plan, err)
	}
	return ex
}

// waitEnd waits for the execution to be over.
func (h *harness) waitEnd(id string) *wavedr.Execution {
	h.t.Helper()
	return h.waitFor(id, "the end", func(e *wavedr.Execution) bool { return e.Status.IsTerminal() })
}

// sourceServers returns the simulator's local fleet by hostname, as the
// adapter reads it.
func (h *harness) sourceServers() map[string]*wavedr.SourceServer {
	h.t.Helper()
	all, err := h.rec.DescribeSourceServers(context.Background(), local, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make(map[string]*wavedr.SourceServer, len(all))
	for _, s := range all {
		out[s.Hostname] = s
	}
	return out
}

// tierIDs returns the source server IDs of a tier, ordered by hostname.
func (h *harness) tierIDs(tiers ...string) []string {
	h.t.Helper()
	want := map[string]bool{}
	for _, t := range tiers {
		want[t] = true
	}
	var hosts []string
	all := h.sourceServers()
	for host, s := range all {
		if want[s.Tags["Tier"]] {
			hosts = append(hosts, host)
		}
	}
	sort.Strings(hosts)
	ids := make([]string, len(hosts))
	for i, host := range hosts {
		ids[i] = all[host].ID
	}
	return ids
}

// launchJobs returns every LAUNCH job DRS knows in the local account and
// region, oldest first.
func (h *harness) launchJobs() []*wavedr.Job {
	h.t.Helper()
	jobs, err := h.rec.DescribeJobs(context.Background(), local, wavedr.JobFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*wavedr.Job
	for i := len(jobs) - 1; i >= 0; i-- {
		if jobs[i].Type == wavedr.JobTypeLaunch {
			out = append(out, jobs[i])
		}
	}
	return out
}

// jobsOf returns the LAUNCH jobs an execution started, by wave name.
func (h *harness) jobsOf(executionID string) map[string][]*wavedr.Job {
	h.t.Helper()
	out := map[string][]*wavedr.Job{}
	for _, j := range h.launchJobs() {
		if j.Tags[wavedr.TagExecution] == executionID {
			w := j.Tags[wavedr.TagWave]
			out[w] = append(out[w], j)
		}
	}
	return out
}

// startOutside starts a DRS drill job for the servers directly through the
// adapter, as someone using the DRS console would: no wavedr tag.
func (h *harness) startOutside(ids ...string) *wavedr.Job {
	h.t.Helper()
	j, err := h.rec.StartRecovery(context.Background(), local, wavedr.StartRecoveryInput{SourceServerIDs: ids, IsDrill: true})
	if err != nil {
		h.t.Fatalf("start a job outside wavedr: %v", err)
	}
	return j
}

// slow makes the launches of the servers (IDs or hostnames) factor times
// slower, for jobs started from now on.
func (h *harness) slow(factor float64, servers ...string) {
	h.t.Helper()
	if err := h.sim.AddFault(sim.Fault{Kind: sim.FaultSlowLaunch, Servers: servers, Factor: factor}); err != nil {
		h.t.Fatal(err)
	}
}

// startRecoveries counts the StartRecovery calls DRS accepted.
func (h *harness) startRecoveries() int64 { return h.sim.Stats()["drs:StartRecovery"].OK }

// wantCode fails the test unless err carries the wavedr code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := wavedr.ErrorCode(err); got != code {
		t.Fatalf("error %v (code %q), want code %s", err, got, code)
	}
}

// wantCounts compares an execution's server counts.
func wantCounts(t *testing.T, ex *wavedr.Execution, launched, failed, cancelled int) {
	t.Helper()
	c := ex.Counts()
	if c.Launched+c.Terminated != launched || c.Failed != failed || c.Cancelled != cancelled || c.Pending+c.InProgress != 0 {
		t.Errorf("counts %+v, want launched %d, failed %d, cancelled %d and none pending or in progress", c, launched, failed, cancelled)
	}
}

// wantWave checks a wave's status and that its servers all have the status.
func wantWave(t *testing.T, ex *wavedr.Execution, name string, status wavedr.WaveStatus, servers wavedr.ServerStatus) *wavedr.WaveRun {
	t.Helper()
	w := ex.Wave(name)
	if w == nil {
		t.Fatalf("no wave %s in %s", name, waveStatuses(ex))
	}
	if w.Status != status {
		t.Errorf("wave %s is %s (%s), want %s", name, w.Status, w.Reason, status)
	}
	if servers == "" {
		return w
	}
	for _, s := range w.Servers {
		if s.Status != servers {
			t.Errorf("wave %s server %s is %s (%s), want %s", name, s.Hostname, s.Status, s.Reason, servers)
		}
	}
	return w
}

// wantEnriched checks that a launched server carries what DRS and EC2 know
// of its recovery instance.
func wantEnriched(t *testing.T, w *wavedr.WaveRun, drill bool) {
	t.Helper()
	for _, s := range w.Servers {
		if s.Status != wavedr.ServerLaunched || s.EC2InstanceID == "" || s.InstanceType == "" || s.PrivateIP == "" ||
			s.LaunchTime.IsZero() || s.RecoveryInstanceID == "" || s.JobID == "" || s.LaunchedAt.IsZero() || s.IsDrill != drill {
			t.Errorf("wave %s server %s: %s ec2=%q type=%q ip=%q launchTime=%v recoveryInstance=%q job=%q launchedAt=%v drill=%v (want %v)",
				w.Name, s.Hostname, s.Status, s.EC2InstanceID, s.InstanceType, s.PrivateIP, s.LaunchTime,
				s.RecoveryInstanceID, s.JobID, s.LaunchedAt, s.IsDrill, drill)
		}
	}
}

// TestSingleWaveDrillAndRecovery: a one-wave drill ends COMPLETED with every
// server's recovered instance known; a one-wave recovery also completes,
// and its instances — the recovered workload — cannot be terminated.
func TestSingleWaveDrillAndRecovery(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1})
			h.applyYAML("single.yaml", singlePlan)
			ctx := context.Background()

			drill := h.start("single", wavedr.ModeDrill)
			if drill.Status != wavedr.ExecutionPending || len(drill.Waves) != 1 || drill.Counts().Total != 3 {
				t.Fatalf("created %s with %d waves and %d servers; want PENDING, 1 and 3", drill.Status, len(drill.Waves), drill.Counts().Total)
			}
			done := h.waitEnd(drill.ID)
			if done.Status != wavedr.ExecutionCompleted || done.Reason != "" || done.EndedAt.IsZero() || done.StartedAt.IsZero() {
				t.Fatalf("drill %s (%q), started %v, ended %v", done.Status, done.Reason, done.StartedAt, done.EndedAt)
			}
			w := wantWave(t, done, "database", wavedr.WaveCompleted, wavedr.ServerLaunched)
			wantEnriched(t, w, true)
			wantCounts(t, done, 3, 0, 0)
			if len(w.Jobs) != 1 || w.Jobs[0].JobID == "" || w.Jobs[0].Status != wavedr.JobCompleted {
				t.Errorf("wave jobs %+v, want one COMPLETED job", w.Jobs)
			}
			for _, s := range w.Servers {
				if s.InstanceType != "r6i.2xlarge" || s.JobID != w.Jobs[0].JobID {
					t.Errorf("%s: type %s, job %s; want r6i.2xlarge and %s", s.Hostname, s.InstanceType, s.JobID, w.Jobs[0].JobID)
				}
			}
			if !done.CanTerminate() {
				t.Error("a finished drill with instances cannot be terminated")
			}

			rec := h.start("single", wavedr.ModeRecovery)
			done = h.waitEnd(rec.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("recovery %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			wantEnriched(t, wantWave(t, done, "database", wavedr.WaveCompleted, wavedr.ServerLaunched), false)
			if done.CanTerminate() {
				t.Error("CanTerminate on a recovery")
			}
			_, err := h.eng.Terminate(ctx, rec.ID, "alice")
			wantCode(t, err, wavedr.ECONFLICT)
			if !strings.Contains(wavedr.ErrorMessage(err), "recovery") {
				t.Errorf("terminate refused with %q; want it to say it is a recovery", wavedr.ErrorMessage(err))
			}
			if after, _ := h.eng.Get(ctx, rec.ID); after.Cleanup.Status != wavedr.CleanupNone {
				t.Errorf("cleanup %s after a refused terminate", after.Cleanup.Status)
			}
			if n := h.startRecoveries(); n != 2 {
				t.Errorf("StartRecovery accepted %d times, want 2", n)
			}
		})
	}
}

// TestNeverFinalizedWhileAWaveIsOpen is the seed's bug: the first wave
// ends in seconds, the last one takes long. However often the execution is
// polled, found and asked to finalize meanwhile, it stays open, Poll
// reports allWavesComplete=false, and Finalize refuses naming the open
// wave. At the end it completes, and a late Finalize changes nothing.
func TestNeverFinalizedWhileAWaveIsOpen(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1, Faults: []sim.Fault{
				{Kind: sim.FaultSlowLaunch, Servers: []string{"web-01", "web-02", "web-03"}, Factor: 8},
			}})
			h.applyYAML("slow-last.yaml", `
kind: RecoveryPlan
name: slow-last
waves:
  - name: database
    groups: [db-tier]
  - name: app
    groups: [app-tier]
  - name: web
    groups: [web-tier]
    deadline: 6h
`)
			ctx := context.Background()
			ex := h.start("slow-last", wavedr.ModeDrill)

			// check holds after every call: a terminal execution has every
			// wave over, and an execution with an open wave is running.
			check := func(call string, e *wavedr.Execution) {
				t.Helper()
				open := !e.AllWavesTerminal()
				if open && e.Status != wavedr.ExecutionRunning && e.Status != wavedr.ExecutionPending {
					t.Fatalf("after %s: execution %s with waves %s", call, e.Status, waveStatuses(e))
				}
				if e.Status.IsTerminal() && open {
					t.Fatalf("after %s: finalized early: %s with waves %s", call, e.Status, waveStatuses(e))
				}
			}
			h.waitFor(ex.ID, "the web wave in flight", func(e *wavedr.Execution) bool {
				check("get", e)
				w := e.Wave("web")
				return w.Status == wavedr.WaveLaunching || w.Status == wavedr.WaveInProgress
			})

			polls, refusals, rescheduled := 0, 0, 0
			guard := time.Now().Add(2 * time.Minute)
			for {
				cur, err := h.eng.Get(ctx, ex.ID)
				if err != nil {
					t.Fatal(err)
				}
				check("get", cur)
				if cur.Wave("web").Status.IsTerminal() {
					break
				}
				if time.Now().After(guard) {
					t.Fatalf("gave up waiting for the web wave: %s", waveStatuses(cur))
				}
				for _, name := range []string{"database", "app"} {
					if cur.Wave(name).Status != wavedr.WaveCompleted {
						t.Fatalf("wave %s is %s while web is in flight", name, cur.Wave(name).Status)
					}
				}

				pr, err := h.eng.Poll(ctx, ex.ID)
				if err != nil {
					t.Fatalf("poll: %v", err)
				}
				polls++
				check("poll", pr.Execution)
				if pr.AllWavesComplete != pr.Execution.AllWavesTerminal() {
					t.Fatalf("poll says allWavesComplete=%v with waves %s", pr.AllWavesComplete, waveStatuses(pr.Execution))
				}
				if !pr.Execution.Wave("web").Status.IsTerminal() && pr.AllWavesComplete {
					t.Fatalf("poll says allWavesComplete with web %s", pr.Execution.Wave("web").Status)
				}

				active, again, err := h.eng.Find(ctx)
				rescheduled += again
				if err != nil {
					t.Fatalf("find: %v", err)
				}
				if after, err := h.eng.Get(ctx, ex.ID); err != nil {
					t.Fatal(err)
				} else {
					check("find", after)
					if active < 1 && !after.Status.IsTerminal() {
						t.Fatalf("find saw %d active executions while %s is %s", active, ex.ID, after.Status)
					}
				}

				fr, err := h.eng.Finalize(ctx, ex.ID)
				switch {
				case err == nil:
					// Only possible once the web wave is over (observed
					// between the poll and here).
					check("finalize", fr.Execution)
					if !fr.Execution.AllWavesTerminal() {
						t.Fatalf("finalize succeeded with waves %s", waveStatuses(fr.Execution))
					}
				case wavedr.ErrorCode(err) == wavedr.ECONFLICT:
					refusals++
					if msg := wavedr.ErrorMessage(err); !strings.Contains(msg, "web") || strings.Contains(msg, "database") {
						t.Fatalf("finalize refused with %q; want it to name the open web wave only", msg)
					}
				default:
					t.Fatalf("finalize: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if refusals == 0 {
				t.Fatalf("finalize was never refused in %d polls while the web wave was in flight", polls)
			}
			t.Logf("%d polls, finds and finalizes while the web wave was in flight; %d finalizes refused; find rescheduled %d jobs",
				polls, refusals, rescheduled)

			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			wantCounts(t, done, 10, 0, 0)
			r, err := h.eng.Finalize(ctx, ex.ID)
			if err != nil {
				t.Fatalf("finalize after the end: %v", err)
			}
			if r.Changed || !strings.Contains(r.Message, "already final") || r.Execution.Status != wavedr.ExecutionCompleted {
				t.Errorf("finalize after the end: changed=%v message=%q status=%s", r.Changed, r.Message, r.Execution.Status)
			}
			pr, err := h.eng.Poll(ctx, ex.ID)
			if err != nil || !pr.AllWavesComplete || pr.Execution.Status != wavedr.ExecutionCompleted {
				t.Errorf("poll after the end: %v, allWavesComplete=%v", err, pr != nil && pr.AllWavesComplete)
			}
		})
	}
}

// TestPauseGatesBeforeWaveOneAndTwo: a gate on the first wave holds the
// execution before any launch; resuming passes it; the gate on the second
// wave holds it again after the first wave; a second resume is harmless.
func TestPauseGatesBeforeWaveOneAndTwo(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1})
			h.applyYAML("gated.yaml", gatedPlan)
			ctx := context.Background()
			ex := h.start("gated", wavedr.ModeDrill)

			// The first advance step starts the execution and stops it at
			// the gate in one write: it goes from PENDING to PAUSED.
			paused := h.waitFor(ex.ID, "the gate before database", func(e *wavedr.Execution) bool {
				if e.Status != wavedr.ExecutionPending && e.Status != wavedr.ExecutionPaused {
					t.Fatalf("execution %s before the first gate", e.Status)
				}
				return e.Status == wavedr.ExecutionPaused
			})
			if p := paused.Pause; p == nil || !p.Gate || p.BeforeWave != "database" || p.By != "" {
				t.Fatalf("pause %+v, want the gate before database", p)
			}
			for _, w := range paused.Waves {
				if w.Status != wavedr.WavePending {
					t.Errorf("wave %s is %s at the first gate", w.Name, w.Status)
				}
			}
			if n := h.sim.Stats()["drs:StartRecovery"].Calls; n != 0 {
				t.Fatalf("StartRecovery called %d times before the first gate was passed", n)
			}
			if !paused.CanResume() || paused.CanPause() {
				t.Errorf("at the gate: canResume=%v canPause=%v", paused.CanResume(), paused.CanPause())
			}

			r, err := h.eng.Resume(ctx, ex.ID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			if !r.Changed || r.Execution.Status != wavedr.ExecutionRunning || r.Execution.Wave("database").Status != wavedr.WaveLaunching {
				t.Fatalf("resume: changed=%v, %s, database %s (%q)", r.Changed, r.Execution.Status, r.Execution.Wave("database").Status, r.Message)
			}

			paused = h.waitFor(ex.ID, "the gate before app", func(e *wavedr.Execution) bool {
				return e.Status == wavedr.ExecutionPaused && e.Pause != nil && e.Pause.BeforeWave == "app"
			})
			if !paused.Pause.Gate || paused.Wave("database").Status != wavedr.WaveCompleted || paused.Wave("app").Status != wavedr.WavePending {
				t.Fatalf("at the app gate: pause %+v, waves %s", paused.Pause, waveStatuses(paused))
			}
			if n := h.startRecoveries(); n != 1 {
				t.Fatalf("StartRecovery accepted %d times at the app gate, want 1", n)
			}

			r, err = h.eng.Resume(ctx, ex.ID, "carol")
			if err != nil || !r.Changed || r.Execution.Status != wavedr.ExecutionRunning {
				t.Fatalf("resume at app: %v, %+v", err, r)
			}
			again, err := h.eng.Resume(ctx, ex.ID, "carol")
			if err != nil {
				t.Fatalf("second resume: %v", err)
			}
			if again.Changed || again.Message == "" || again.Execution.Status != wavedr.ExecutionRunning {
				t.Errorf("second resume: changed=%v message=%q status=%s", again.Changed, again.Message, again.Execution.Status)
			}

			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			for name, by := range map[string]string{"database": "bob", "app": "carol", "web": ""} {
				if got := done.Wave(name).GatePassedBy; got != by {
					t.Errorf("wave %s gate passed by %q, want %q", name, got, by)
				}
			}
			wantCounts(t, done, 10, 0, 0)
		})
	}
}

// TestManualPauseTakesEffectBeforeNextWave: an operator's pause while the
// first wave is in flight holds the second wave back; the first is
// watched to its end; resume runs the rest.
func TestManualPauseTakesEffectBeforeNextWave(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1, Faults: []sim.Fault{
				{Kind: sim.FaultSlowLaunch, Servers: []string{"db-01", "db-02", "db-03"}, Factor: 4},
			}})
			h.applyYAML("three.yaml", threePlan)
			ctx := context.Background()
			ex := h.start("three", wavedr.ModeDrill)
			h.waitFor(ex.ID, "database in flight", func(e *wavedr.Execution) bool {
				return e.Wave("database").Status == wavedr.WaveInProgress
			})

			r, err := h.eng.Pause(ctx, ex.ID, "carol")
			if err != nil {
				t.Fatal(err)
			}
			p := r.Execution.Pause
			if !r.Changed || r.Execution.Status != wavedr.ExecutionPaused || p == nil || p.Gate || p.By != "carol" || p.BeforeWave != "app" {
				t.Fatalf("pause: changed=%v status=%s pause=%+v (%q)", r.Changed, r.Execution.Status, p, r.Message)
			}
			_, err = h.eng.Pause(ctx, ex.ID, "carol")
			wantCode(t, err, wavedr.ECONFLICT)

			held := func(e *wavedr.Execution) {
				t.Helper()
				if e.Status != wavedr.ExecutionPaused || e.Wave("app").Status != wavedr.WavePending || e.Wave("web").Status != wavedr.WavePending {
					t.Fatalf("while paused: %s, waves %s", e.Status, waveStatuses(e))
				}
			}
			first := h.waitFor(ex.ID, "database observed to its end", func(e *wavedr.Execution) bool {
				held(e)
				return e.Wave("database").Status.IsTerminal()
			})
			wantWave(t, first, "database", wavedr.WaveCompleted, wavedr.ServerLaunched)
			// Let the engine poll and advance a few more times: still held.
			settled := first.Wave("database").EndedAt.Add(5 * time.Minute)
			still := h.waitFor(ex.ID, "more polls", func(e *wavedr.Execution) bool {
				held(e)
				return e.LastPolledAt.After(settled)
			})
			if still.Pause == nil || still.Pause.By != "carol" {
				t.Errorf("pause %+v after the wave ended", still.Pause)
			}
			if n := h.startRecoveries(); n != 1 {
				t.Fatalf("StartRecovery accepted %d times while paused, want 1", n)
			}

			r, err = h.eng.Resume(ctx, ex.ID, "dave")
			if err != nil || !r.Changed || r.Execution.Wave("app").Status != wavedr.WaveLaunching {
				t.Fatalf("resume: %v, %+v", err, r)
			}
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			if done.Wave("app").GatePassedBy != "" {
				t.Errorf("an operator's pause passed a gate: %q", done.Wave("app").GatePassedBy)
			}
			wantCounts(t, done, 10, 0, 0)
		})
	}
}

// TestCancel: cancelled during its second wave, an execution cancels the
// third at once and watches the second to its end; it ends PARTIAL, since
// servers launched (DESIGN: CANCELLED is for a cancel before anything
// launched). Cancelled at the gate before its first wave, it ends
// CANCELLED without a launch.
func TestCancel(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name+"/during-wave-2", func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1, Faults: []sim.Fault{
				{Kind: sim.FaultSlowLaunch, Servers: []string{"app-01", "app-02", "app-03", "app-04"}, Factor: 4},
			}})
			h.applyYAML("three.yaml", threePlan)
			ctx := context.Background()
			ex := h.start("three", wavedr.ModeDrill)
			h.waitFor(ex.ID, "app in flight", func(e *wavedr.Execution) bool { return e.Wave("app").Status == wavedr.WaveInProgress })

			r, err := h.eng.Cancel(ctx, ex.ID, "dave")
			if err != nil {
				t.Fatal(err)
			}
			if !r.Changed || r.Execution.Status != wavedr.ExecutionCancelling {
				t.Fatalf("cancel: changed=%v status=%s (%q)", r.Changed, r.Execution.Status, r.Message)
			}
			wantWave(t, r.Execution, "web", wavedr.WaveCancelled, wavedr.ServerCancelled)
			wantWave(t, r.Execution, "app", wavedr.WaveInProgress, "")
			if c := r.Execution; c.CanCancel() || c.CanPause() || c.CanResume() {
				t.Errorf("while cancelling: canCancel=%v canPause=%v canResume=%v", c.CanCancel(), c.CanPause(), c.CanResume())
			}

			again, err := h.eng.Cancel(ctx, ex.ID, "erin")
			if err != nil {
				t.Fatalf("second cancel: %v", err)
			}
			if again.Changed || !strings.Contains(again.Message, "already being cancelled") {
				t.Errorf("second cancel: changed=%v message=%q", again.Changed, again.Message)
			}

			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionPartial || !strings.Contains(done.Reason, "cancelled by dave") {
				t.Fatalf("status %s (%q), want PARTIAL cancelled by dave", done.Status, done.Reason)
			}
			wantWave(t, done, "database", wavedr.WaveCompleted, wavedr.ServerLaunched)
			wantEnriched(t, wantWave(t, done, "app", wavedr.WaveCompleted, wavedr.ServerLaunched), true)
			wantWave(t, done, "web", wavedr.WaveCancelled, wavedr.ServerCancelled)
			wantCounts(t, done, 7, 0, 3)
			if n := h.startRecoveries(); n != 2 {
				t.Errorf("StartRecovery accepted %d times, want 2", n)
			}
			if n := len(h.launchJobs()); n != 2 {
				t.Errorf("%d LAUNCH jobs in DRS, want 2", n)
			}
			_, err = h.eng.Cancel(ctx, ex.ID, "dave")
			wantCode(t, err, wavedr.ECONFLICT)
		})

		t.Run(d.Name+"/at-first-gate", func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1})
			h.applyYAML("gated.yaml", gatedPlan)
			ctx := context.Background()
			ex := h.start("gated", wavedr.ModeDrill)
			h.waitFor(ex.ID, "the gate before database", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
			r, err := h.eng.Cancel(ctx, ex.ID, "dave")
			if err != nil {
				t.Fatal(err)
			}
			done := r.Execution
			if done.Status != wavedr.ExecutionCancelled || !strings.Contains(done.Reason, "cancelled by dave") {
				t.Fatalf("status %s (%q), want CANCELLED at once", done.Status, done.Reason)
			}
			for _, w := range done.Waves {
				wantWave(t, done, w.Name, wavedr.WaveCancelled, wavedr.ServerCancelled)
			}
			wantCounts(t, done, 0, 0, 10)
			if n := h.sim.Stats()["drs:StartRecovery"].Calls; n != 0 {
				t.Errorf("StartRecovery called %d times", n)
			}
			_, err = h.eng.Terminate(ctx, ex.ID, "dave")
			wantCode(t, err, wavedr.ECONFLICT)
			// A new execution may take the servers again.
			h.start("gated", wavedr.ModeDrill)
		})

		t.Run(d.Name+"/right-after-launch", func(t *testing.T) {
			// Cancelled the moment its first wave is marked LAUNCHING,
			// before the launch step has split the wave into DRS jobs
			// (slow DescribeSourceServers calls hold that step back).
			h := newHarness(t, d, sim.Config{Seed: 1})
			h.applyYAML("gated.yaml", gatedPlan)
			ctx := context.Background()
			ex := h.start("gated", wavedr.ModeDrill)
			h.waitFor(ex.ID, "the gate before database", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
			if err := h.sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: "drs:DescribeSourceServers", Latency: sim.Duration(time.Second)}); err != nil {
				t.Fatal(err)
			}
			r, err := h.eng.Resume(ctx, ex.ID, "bob")
			if err != nil || r.Execution.Wave("database").Status != wavedr.WaveLaunching {
				t.Fatalf("resume: %v, %+v", err, r)
			}
			r, err = h.eng.Cancel(ctx, ex.ID, "dave")
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Execution.Wave("database").Jobs) != 0 {
				t.Fatalf("the launch step planned the wave's jobs before the cancel: %+v", r.Execution.Wave("database").Jobs)
			}
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCancelled {
				t.Fatalf("status %s (%q), want CANCELLED", done.Status, done.Reason)
			}
			for _, w := range done.Waves {
				wantWave(t, done, w.Name, wavedr.WaveCancelled, wavedr.ServerCancelled)
			}
			wantCounts(t, done, 0, 0, 10)
			if n := h.sim.Stats()["drs:StartRecovery"].Calls; n != 0 {
				t.Errorf("StartRecovery called %d times", n)
			}
		})
	}
}

// TestLaunchFailure: a server that DRS fails to launch fails its wave's
// policy test. Under STOP the later waves are skipped; under CONTINUE
// they run. The server's reason is DRS's own (job log), never generic.
func TestLaunchFailure(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name+"/stop", func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1})
			h.applyYAML("legacy-stop.yaml", legacyGroup+`
---
kind: RecoveryPlan
name: legacy-stop
waves:
  - name: database
    groups: [db-tier]
  - name: legacy
    groups: [legacy-tier]
    onFailure: stop
  - name: web
    groups: [web-tier]
`)
			ex := h.start("legacy-stop", wavedr.ModeDrill)
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionPartial || !strings.Contains(done.Reason, "wave legacy PARTIAL") {
				t.Fatalf("status %s (%q), want PARTIAL naming the legacy wave", done.Status, done.Reason)
			}
			wantWave(t, done, "database", wavedr.WaveCompleted, wavedr.ServerLaunched)
			legacy := wantWave(t, done, "legacy", wavedr.WavePartial, "")
			if !strings.Contains(legacy.Reason, "1 of 2 servers failed") {
				t.Errorf("legacy wave reason %q", legacy.Reason)
			}
			for _, s := range legacy.Servers {
				switch s.Hostname {
				case "legacy-01": // STALLED: launches from its last snapshot
					if s.Status != wavedr.ServerLaunched || s.EC2InstanceID == "" {
						t.Errorf("legacy-01: %s %q", s.Status, s.EC2InstanceID)
					}
				case "legacy-02": // INITIAL_SYNC: DRS fails it
					if s.Status != wavedr.ServerFailed || s.LaunchStatus != wavedr.LaunchFailed ||
						!strings.Contains(s.Reason, "LAUNCH_FAILED") || !strings.Contains(s.Reason, "initial sync") {
						t.Errorf("legacy-02: %s, launch status %s, reason %q; want DRS's failure from the job log", s.Status, s.LaunchStatus, s.Reason)
					}
				default:
					t.Errorf("unexpected server %s in the legacy wave", s.Hostname)
				}
			}
			web := wantWave(t, done, "web", wavedr.WaveSkipped, wavedr.ServerCancelled)
			if !strings.Contains(web.Reason, "legacy") || !strings.Contains(web.Reason, "STOP") {
				t.Errorf("web skipped with reason %q", web.Reason)
			}
			wantCounts(t, done, 4, 1, 3)
			if n := h.startRecoveries(); n != 2 {
				t.Errorf("StartRecovery accepted %d times, want 2 (web skipped)", n)
			}
		})

		t.Run(d.Name+"/continue", func(t *testing.T) {
			const raw = "Failed to launch recovery instance: InsufficientInstanceCapacity in us-east-1a (scenario test)"
			h := newHarness(t, d, sim.Config{Seed: 1, Faults: []sim.Fault{
				{Kind: sim.FaultFailLaunch, Servers: []string{"app-03"}, RawError: raw},
			}})
			h.applyYAML("app-continue.yaml", `
kind: RecoveryPlan
name: app-continue
waves:
  - name: app
    groups: [app-tier]
    onFailure: continue
  - name: web
    groups: [web-tier]
`)
			ex := h.start("app-continue", wavedr.ModeDrill)
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionPartial {
				t.Fatalf("status %s (%q), want PARTIAL", done.Status, done.Reason)
			}
			app := wantWave(t, done, "app", wavedr.WavePartial, "")
			for _, s := range app.Servers {
				if s.Hostname == "app-03" {
					if s.Status != wavedr.ServerFailed || !strings.Contains(s.Reason, "LAUNCH_FAILED") || !strings.Contains(s.Reason, raw) {
						t.Errorf("app-03: %s, reason %q; want LAUNCH_FAILED with DRS's error", s.Status, s.Reason)
					}
				} else if s.Status != wavedr.ServerLaunched {
					t.Errorf("%s: %s (%s)", s.Hostname, s.Status, s.Reason)
				}
			}
			wantEnriched(t, wantWave(t, done, "web", wavedr.WaveCompleted, wavedr.ServerLaunched), true)
			wantCounts(t, done, 6, 1, 0)
		})
	}
}

// TestLargeWaveSplitIntoJobs: a wave of 250 servers launches as three DRS
// jobs of 100, 100 and 50 servers, and no more.
func TestLargeWaveSplitIntoJobs(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			// 300 servers: 75 db, 100 app, 75 web, 50 legacy.
			h := newHarness(t, d, sim.Config{Seed: 1, Servers: 300})
			ids := h.tierIDs(sim.TierDB, sim.TierApp, sim.TierWeb)
			if len(ids) != 250 {
				t.Fatalf("%d db, app and web servers in the fleet, want 250", len(ids))
			}
			var b strings.Builder
			b.WriteString("kind: ProtectionGroup\nname: everything\nregion: us-east-1\nservers:\n")
			for _, id := range ids {
				fmt.Fprintf(&b, "  - %s\n", id)
			}
			b.WriteString("---\nkind: RecoveryPlan\nname: big\nwaves:\n  - name: all\n    groups: [everything]\n")
			h.applyYAML("big.yaml", b.String())

			ex := h.start("big", wavedr.ModeDrill)
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s", done.Status, done.Reason)
			}
			w := wantWave(t, done, "all", wavedr.WaveCompleted, wavedr.ServerLaunched)
			wantEnriched(t, w, true)
			wantCounts(t, done, 250, 0, 0)
			var sizes []int
			for _, j := range w.Jobs {
				sizes = append(sizes, len(j.ServerIDs))
			}
			if fmt.Sprint(sizes) != "[100 100 50]" {
				t.Errorf("wave chunks of %v servers, want [100 100 50]", sizes)
			}
			jobs := h.launchJobs()
			sizes = sizes[:0]
			chunks := map[string]bool{}
			for _, j := range jobs {
				sizes = append(sizes, len(j.Servers))
				chunks[j.Tags[wavedr.TagChunk]] = true
				if j.Tags[wavedr.TagExecution] != ex.ID || j.Tags[wavedr.TagWave] != "all" {
					t.Errorf("job %s tags %v", j.ID, j.Tags)
				}
			}
			sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
			if len(jobs) != 3 || fmt.Sprint(sizes) != "[100 100 50]" || !chunks["0"] || !chunks["1"] || !chunks["2"] {
				t.Errorf("%d LAUNCH jobs in DRS of %v servers, chunks %v; want 3 of [100 100 50], chunks 0, 1, 2", len(jobs), sizes, chunks)
			}
		})
	}
}

// TestQuotaWait: a wave that would pass DRS's concurrent-job quota waits
// in LAUNCHING, saying why, and launches once a job ends — whether the
// engine saw the account busy before asking, or DRS refused the launch.
// A launch refused for quota fails no server; a wave cancelled while it
// waits is CANCELLED, not failed.
func TestQuotaWait(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name+"/account-busy", func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1, Servers: 40})
			h.applyYAML("single.yaml", singlePlan)
			if err := fillJobQuota(h, busyServers(h)); err != nil {
				t.Fatal(err)
			}
			ex := h.start("single", wavedr.ModeDrill)
			done, reasons := watchReasons(t, h, ex.ID, nil)
			wantQuotaWaitOver(t, h, done)
			if len(reasons) == 0 || !strings.Contains(reasons[0], "waiting for DRS quota") || !strings.Contains(reasons[0], "concurrent jobs") {
				t.Errorf("reasons %q; want the wave waiting for the concurrent-job quota", reasons)
			}
			if st := h.sim.Stats()["drs:StartRecovery"]; st.Errors != 0 {
				t.Errorf("DRS refused %d launches; the engine should have waited before asking", st.Errors)
			}
			t.Logf("reasons: %q", reasons)
		})

		t.Run(d.Name+"/refused-by-drs", func(t *testing.T) {
			h := newQuotaRaceHarness(t, d)
			ex := h.start("single", wavedr.ModeDrill)
			done, reasons := watchReasons(t, h, ex.ID, nil)
			wantQuotaWaitOver(t, h, done)
			if st := h.sim.Stats()["drs:StartRecovery"]; st.Errors < 1 {
				t.Errorf("StartRecovery stats %+v; want DRS to have refused the launch once", st)
			}
			if len(reasons) == 0 || !strings.Contains(strings.Join(reasons, "\n"), "quota") {
				t.Errorf("reasons %q; want the wave waiting for quota", reasons)
			}
			t.Logf("reasons: %q", reasons)
		})

		t.Run(d.Name+"/cancelled-while-waiting", func(t *testing.T) {
			h := newQuotaRaceHarness(t, d)
			ex := h.start("single", wavedr.ModeDrill)
			cancelled := false
			done, reasons := watchReasons(t, h, ex.ID, func(e *wavedr.Execution) {
				if !cancelled && strings.Contains(e.Wave("database").Reason, "quota") {
					cancelled = true
					if _, err := h.eng.Cancel(context.Background(), ex.ID, "dave"); err != nil {
						t.Fatal(err)
					}
				}
			})
			if !cancelled {
				t.Fatalf("the wave never waited for quota: reasons %q", reasons)
			}
			if done.Status != wavedr.ExecutionCancelled {
				t.Fatalf("status %s (%q), want CANCELLED", done.Status, done.Reason)
			}
			w := wantWave(t, done, "database", wavedr.WaveCancelled, wavedr.ServerCancelled)
			if strings.Contains(w.Reason, "quota") || strings.Contains(w.Reason, "failed") {
				t.Errorf("cancelled wave's reason %q", w.Reason)
			}
			wantCounts(t, done, 0, 0, 10)
			if jobs := h.jobsOf(ex.ID); len(jobs) != 0 {
				t.Errorf("the cancelled execution has LAUNCH jobs %v", jobs)
			}
		})
	}
}

// busyServers returns as many app and web servers as DRS runs jobs at
// once, their launches made slow, for fillJobQuota. The harness's fleet
// must have 40 servers (10 db, 13 app, 10 web, 7 legacy).
func busyServers(h *harness) []string {
	h.t.Helper()
	others := h.tierIDs(sim.TierApp, sim.TierWeb)[:wavedr.MaxConcurrentJobs]
	h.slow(4, others...)
	return others
}

// fillJobQuota starts one job outside wavedr per server: the account then
// runs as many jobs as DRS allows. It may run on any goroutine.
func fillJobQuota(h *harness, servers []string) error {
	for _, id := range servers {
		if _, err := h.rec.StartRecovery(context.Background(), local, wavedr.StartRecoveryInput{SourceServerIDs: []string{id}, IsDrill: true}); err != nil {
			return fmt.Errorf("start a job outside wavedr: %w", err)
		}
	}
	return nil
}

// newQuotaRaceHarness returns a harness of 40 servers with the plan
// "single" whose account fills up between the engine's quota check and
// its first StartRecovery, so that DRS refuses it with
// ServiceQuotaExceeded.
func newQuotaRaceHarness(t *testing.T, d storetest.Dialect) *harness {
	t.Helper()
	var (
		mu     sync.Mutex
		before func()
		once   sync.Once
	)
	h := newHarnessWith(t, d, sim.Config{Seed: 1, Servers: 40}, func(c *engine.Config) {
		c.Hooks.BeforeStartRecovery = func(_, _ string, _ int) error {
			mu.Lock()
			f := before
			mu.Unlock()
			if f != nil {
				once.Do(f)
			}
			return nil
		}
	})
	h.applyYAML("single.yaml", singlePlan)
	others := busyServers(h)
	mu.Lock()
	before = func() {
		if err := fillJobQuota(h, others); err != nil {
			t.Error(err)
		}
	}
	mu.Unlock()
	return h
}

// watchReasons waits for the end of the execution, collecting every reason
// its database wave gave (only a LAUNCHING wave may give one while the
// execution runs), and calling each, when set, on every reading.
func watchReasons(t *testing.T, h *harness, id string, each func(*wavedr.Execution)) (*wavedr.Execution, []string) {
	t.Helper()
	var reasons []string
	done := h.waitFor(id, "the end", func(e *wavedr.Execution) bool {
		w := e.Wave("database")
		if w.Reason != "" && (len(reasons) == 0 || reasons[len(reasons)-1] != w.Reason) {
			if w.Status != wavedr.WaveLaunching && !w.Status.IsTerminal() {
				t.Errorf("wave %s with reason %q", w.Status, w.Reason)
			}
			reasons = append(reasons, w.Reason)
		}
		if each != nil {
			each(e)
		}
		return e.Status.IsTerminal()
	})
	return done, reasons
}

// wantQuotaWaitOver checks that the wave launched in one job after its
// wait, with every server launched and no reason left.
func wantQuotaWaitOver(t *testing.T, h *harness, done *wavedr.Execution) {
	t.Helper()
	if done.Status != wavedr.ExecutionCompleted {
		t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
	}
	w := wantWave(t, done, "database", wavedr.WaveCompleted, wavedr.ServerLaunched)
	if w.Reason != "" {
		t.Errorf("completed wave keeps reason %q", w.Reason)
	}
	wantCounts(t, done, 10, 0, 0)
	if jobs := h.jobsOf(done.ID); len(jobs["database"]) != 1 {
		t.Errorf("%d LAUNCH jobs for the wave, want 1", len(jobs["database"]))
	}
}

// TestConflicts: a server is recovered by one execution at a time, and
// never while a DRS job started outside wavedr holds it — at start, and
// again right before its wave launches.
func TestConflicts(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1})
			h.applyYAML("single.yaml", singlePlan)
			ctx := context.Background()
			hosts := h.sourceServers()

			// three-tier holds db, app and web; it waits at its app gate.
			first := h.start("three-tier", wavedr.ModeDrill)
			h.waitFor(first.ID, "the gate before app", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
			_, err := h.eng.Start(ctx, engine.StartInput{Plan: "single", Mode: wavedr.ModeDrill, InitiatedBy: "bob"})
			wantCode(t, err, wavedr.ECONFLICT)
			if !strings.Contains(wavedr.ErrorMessage(err), first.ID) {
				t.Errorf("second execution refused with %q; want it to name %s", wavedr.ErrorMessage(err), first.ID)
			}
			if page, err := h.db.ListExecutions(ctx, wavedr.ExecutionFilter{}); err != nil || len(page.Items) != 1 {
				t.Errorf("executions after a refused start: %v, %v", page, err)
			}

			// A DRS job started outside wavedr on app-01 after the start:
			// the app wave finds it right before launching and leaves
			// app-01 out, naming the job.
			h.slow(10, "app-01")
			outside := h.startOutside(hosts["app-01"].ID)
			if _, err := h.eng.Resume(ctx, first.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			done := h.waitEnd(first.ID)
			app := wantWave(t, done, "app", wavedr.WavePartial, "")
			for _, s := range app.Servers {
				if s.Hostname == "app-01" {
					if s.Status != wavedr.ServerFailed || !strings.Contains(s.Reason, outside.ID) || !strings.Contains(s.Reason, "outside wavedr") {
						t.Errorf("app-01: %s (%q); want FAILED naming job %s", s.Status, s.Reason, outside.ID)
					}
				} else if s.Status != wavedr.ServerLaunched {
					t.Errorf("%s: %s (%s)", s.Hostname, s.Status, s.Reason)
				}
			}
			for _, j := range h.jobsOf(first.ID)["app"] {
				for _, ps := range j.Servers {
					if ps.SourceServerID == hosts["app-01"].ID {
						t.Errorf("wavedr's job %s includes app-01", j.ID)
					}
				}
			}
			if done.Status != wavedr.ExecutionPartial || done.Wave("web").Status != wavedr.WaveSkipped {
				t.Errorf("status %s, web %s; want PARTIAL with web skipped (app's policy is STOP)", done.Status, done.Wave("web").Status)
			}

			// At start: a server in a job outside wavedr refuses the
			// execution, naming the job.
			h.slow(10, "db-02")
			other := h.startOutside(hosts["db-02"].ID)
			_, err = h.eng.Start(ctx, engine.StartInput{Plan: "single", Mode: wavedr.ModeDrill, InitiatedBy: "bob"})
			wantCode(t, err, wavedr.ECONFLICT)
			if msg := wavedr.ErrorMessage(err); !strings.Contains(msg, other.ID) || !strings.Contains(msg, "db-02") {
				t.Errorf("start refused with %q; want it to name db-02 and job %s", msg, other.ID)
			}
		})
	}
}

// TestThrottledDrill: with 30% of DescribeJobs, StartRecovery and
// DescribeRecoveryInstances calls throttled, the three-tier drill still
// completes, with exactly one DRS job per wave.
func TestThrottledDrill(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			var faults []sim.Fault
			for _, op := range []string{"drs:DescribeJobs", "drs:StartRecovery", "drs:DescribeRecoveryInstances"} {
				faults = append(faults, sim.Fault{Kind: sim.FaultThrottle, Op: op, Rate: 0.3})
			}
			// Which calls a fault hits depends only on the seed and the
			// order of the calls. The drill makes three StartRecovery
			// calls; with seed 2 the throttle hits some of them (with
			// seed 1 it happens to hit none of the three).
			h := newHarness(t, d, sim.Config{Seed: 2, Faults: faults})
			ctx := context.Background()
			ex := h.start("three-tier", wavedr.ModeDrill)
			h.waitFor(ex.ID, "the gate before app", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
			if _, err := h.eng.Resume(ctx, ex.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			wantCounts(t, done, 10, 0, 0)
			for _, w := range done.Waves {
				wantEnriched(t, w, true)
			}
			stats := h.sim.Stats()
			jobs := h.jobsOf(ex.ID)
			for _, w := range done.Waves {
				if n := len(jobs[w.Name]); n != 1 {
					t.Errorf("wave %s has %d LAUNCH jobs in DRS, want 1", w.Name, n)
				}
			}
			if n := len(h.launchJobs()); n != 3 {
				t.Errorf("%d LAUNCH jobs in DRS, want 3", n)
			}
			for _, op := range []string{"drs:DescribeJobs", "drs:StartRecovery"} {
				if stats[op].Throttled == 0 {
					t.Errorf("no %s call was throttled: %+v", op, stats[op])
				}
			}
			for _, op := range []string{"drs:DescribeJobs", "drs:StartRecovery", "drs:DescribeRecoveryInstances"} {
				t.Logf("%s: %+v", op, stats[op])
			}
		})
	}
}

// TestWaveDependencies: two waves that depend on one launch together once
// it is over and run in parallel; a wave whose DRS job outlives its
// deadline fails with the deadline as its reason.
func TestWaveDependencies(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name+"/parallel", func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1, Faults: []sim.Fault{
				{Kind: sim.FaultSlowLaunch, Servers: []string{"app-01", "app-02", "app-03", "app-04", "web-01", "web-02", "web-03"}, Factor: 3},
			}})
			h.applyYAML("fan-out.yaml", `
kind: RecoveryPlan
name: fan-out
waves:
  - name: database
    groups: [db-tier]
  - name: app
    groups: [app-tier]
    dependsOn: [database]
  - name: web
    groups: [web-tier]
    dependsOn: [database]
`)
			ex := h.start("fan-out", wavedr.ModeDrill)
			both := false
			done := h.waitFor(ex.ID, "the end", func(e *wavedr.Execution) bool {
				app, web := e.Wave("app"), e.Wave("web")
				if !e.Wave("database").Status.IsTerminal() && (app.Status != wavedr.WavePending || web.Status != wavedr.WavePending) {
					t.Fatalf("a dependent wave started before database was over: %s", waveStatuses(e))
				}
				both = both || (app.Status == wavedr.WaveInProgress && web.Status == wavedr.WaveInProgress)
				return e.Status.IsTerminal()
			})
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			wantCounts(t, done, 10, 0, 0)
			db, app, web := done.Wave("database"), done.Wave("app"), done.Wave("web")
			if !app.LaunchRequestedAt.Equal(web.LaunchRequestedAt) || app.LaunchRequestedAt.Before(db.EndedAt) {
				t.Errorf("app launched at %v, web at %v, database ended at %v; want both together after it",
					app.LaunchRequestedAt, web.LaunchRequestedAt, db.EndedAt)
			}
			dbJob, appJob, webJob := db.Jobs[0], app.Jobs[0], web.Jobs[0]
			if appJob.CreatedAt.Before(dbJob.EndedAt) || webJob.CreatedAt.Before(dbJob.EndedAt) {
				t.Errorf("DRS jobs: database ended %v, app created %v, web created %v", dbJob.EndedAt, appJob.CreatedAt, webJob.CreatedAt)
			}
			if !appJob.CreatedAt.Before(webJob.EndedAt) || !webJob.CreatedAt.Before(appJob.EndedAt) {
				t.Errorf("app job %v–%v and web job %v–%v did not run at the same time",
					appJob.CreatedAt, appJob.EndedAt, webJob.CreatedAt, webJob.EndedAt)
			}
			t.Logf("both waves seen IN_PROGRESS at once: %v", both)
		})

		t.Run(d.Name+"/deadline", func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1, Faults: []sim.Fault{
				{Kind: sim.FaultSlowLaunch, Servers: []string{"db-01", "db-02", "db-03"}, Factor: 10},
			}})
			h.applyYAML("deadline.yaml", `
kind: RecoveryPlan
name: deadline
waves:
  - name: database
    groups: [db-tier]
    deadline: 5m
  - name: app
    groups: [app-tier]
`)
			ex := h.start("deadline", wavedr.ModeDrill)
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionFailed || !strings.Contains(done.Reason, "deadline") {
				t.Fatalf("status %s (%q), want FAILED for the deadline", done.Status, done.Reason)
			}
			db := wantWave(t, done, "database", wavedr.WaveFailed, wavedr.ServerFailed)
			if !strings.Contains(db.Reason, "deadline of 5m0s passed") {
				t.Errorf("database wave reason %q", db.Reason)
			}
			if db.EndedAt.Before(db.DeadlineAt) {
				t.Errorf("wave ended at %v, before its deadline %v", db.EndedAt, db.DeadlineAt)
			}
			for _, s := range db.Servers {
				if !strings.Contains(s.Reason, "deadline") {
					t.Errorf("%s: reason %q", s.Hostname, s.Reason)
				}
			}
			wantWave(t, done, "app", wavedr.WaveSkipped, wavedr.ServerCancelled)
			wantCounts(t, done, 0, 3, 4)
		})
	}
}
