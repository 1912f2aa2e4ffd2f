package wavedr

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

var executionEdges = edges{
	"PENDING>RUNNING": true, "PENDING>CANCELLED": true, "PENDING>FAILED": true,
	"RUNNING>PAUSED": true, "RUNNING>CANCELLING": true, "RUNNING>COMPLETED": true, "RUNNING>PARTIAL": true, "RUNNING>FAILED": true,
	"PAUSED>RUNNING": true, "PAUSED>CANCELLING": true,
	"CANCELLING>COMPLETED": true, "CANCELLING>PARTIAL": true, "CANCELLING>FAILED": true, "CANCELLING>CANCELLED": true,
}

var terminalExecution = map[ExecutionStatus]bool{
	ExecutionCompleted: true, ExecutionPartial: true, ExecutionFailed: true, ExecutionCancelled: true,
}

func TestExecutionTransitions(t *testing.T) {
	statuses := constantsOf(t, "ExecutionStatus")
	checkTable(t, statuses, executionEdges, func(from, to string) bool {
		return ExecutionStatus(from).CanTransitionTo(ExecutionStatus(to))
	})
	for _, s := range statuses {
		st := ExecutionStatus(s)
		if !st.Valid() {
			t.Errorf("%s is not Valid", s)
		}
		if st.IsTerminal() != terminalExecution[st] {
			t.Errorf("%s.IsTerminal() = %v", s, st.IsTerminal())
		}
		if slices.Contains(ActiveExecutionStatuses, st) == st.IsTerminal() {
			t.Errorf("%s: in ActiveExecutionStatuses = %v, terminal = %v", s, !st.IsTerminal(), st.IsTerminal())
		}
	}
	for _, s := range []ExecutionStatus{"", "BOGUS", "running"} {
		if s.Valid() || s.IsTerminal() {
			t.Errorf("unknown status %q: Valid %v, IsTerminal %v", s, s.Valid(), s.IsTerminal())
		}
	}
}

func TestExecutionSetStatus(t *testing.T) {
	statuses := constantsOf(t, "ExecutionStatus")
	for _, from := range statuses {
		for _, to := range statuses {
			e := &Execution{ID: "ex-1", Status: ExecutionStatus(from), Pause: &Pause{BeforeWave: "w", Gate: true}}
			err := e.SetStatus(ExecutionStatus(to), t0)
			allowed := executionEdges[from+">"+to]
			switch {
			case from == to:
				if err != nil || e.StartedAt != (time.Time{}) || e.EndedAt != (time.Time{}) || e.Pause == nil {
					t.Errorf("%s → %s: %v, %+v; want a no-op", from, to, err, e)
				}
			case !allowed:
				if ErrorCode(err) != EINVALID || e.Status != ExecutionStatus(from) || e.Pause == nil {
					t.Errorf("%s → %s: %v, status %s; want EINVALID and no change", from, to, err, e.Status)
				}
			default:
				if err != nil || e.Status != ExecutionStatus(to) {
					t.Fatalf("%s → %s: %v", from, to, err)
				}
				if wantStart := to == "RUNNING"; !e.StartedAt.IsZero() != wantStart {
					t.Errorf("%s → %s: StartedAt = %v", from, to, e.StartedAt)
				}
				if wantEnd := terminalExecution[ExecutionStatus(to)]; !e.EndedAt.IsZero() != wantEnd {
					t.Errorf("%s → %s: EndedAt = %v", from, to, e.EndedAt)
				}
				if (e.Pause != nil) != (to == "PAUSED") {
					t.Errorf("%s → %s: Pause = %+v", from, to, e.Pause)
				}
			}
		}
	}

	// StartedAt is the first start; a resume keeps it.
	e := &Execution{Status: ExecutionPending}
	mustSet(t, e, ExecutionRunning, t0)
	mustSet(t, e, ExecutionPaused, t0.Add(time.Minute))
	mustSet(t, e, ExecutionRunning, t0.Add(2*time.Minute))
	mustSet(t, e, ExecutionCompleted, t0.Add(3*time.Minute))
	if !e.StartedAt.Equal(t0) || !e.EndedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("StartedAt %v, EndedAt %v", e.StartedAt, e.EndedAt)
	}
}

func mustSet(t *testing.T, e *Execution, to ExecutionStatus, now time.Time) {
	t.Helper()
	if err := e.SetStatus(to, now); err != nil {
		t.Fatal(err)
	}
}

func TestNewExecution(t *testing.T) {
	plan := &RecoveryPlan{
		ID: NewID(PrefixRecoveryPlan, t0), Name: "p", Version: 7,
		Waves: []Wave{
			{Name: "db", Groups: []string{"db-tier"}},
			{Name: "app", Groups: []string{"app-tier"}, PauseBefore: true, Deadline: Duration(30 * time.Minute), OnFailure: FailureContinue},
			{Name: "web", Groups: []string{"web-tier"}, DependsOn: []string{}},
			{Name: "batch", Groups: []string{"batch"}, DependsOn: []string{"db", "app"}},
		},
	}
	e := NewExecution(plan, ModeDrill, "alice", t0)
	if !ValidID(PrefixExecution, e.ID) || e.PlanID != plan.ID || e.PlanName != "p" || e.PlanVersion != 7 ||
		e.Mode != ModeDrill || e.Status != ExecutionPending || e.InitiatedBy != "alice" || !e.CreatedAt.Equal(t0) {
		t.Errorf("execution = %+v", e)
	}
	if !e.StartedAt.IsZero() || !e.EndedAt.IsZero() || e.AllWavesTerminal() {
		t.Error("a new execution has started, ended, or has every wave terminal")
	}
	if len(e.Waves) != len(plan.Waves) {
		t.Fatalf("%d waves, want %d", len(e.Waves), len(plan.Waves))
	}
	wantDeps := [][]string{{}, {"db"}, {}, {"db", "app"}}
	wantDeadline := []Duration{DefaultWaveDeadline, Duration(30 * time.Minute), DefaultWaveDeadline, DefaultWaveDeadline}
	wantPolicy := []FailurePolicy{FailureStop, FailureContinue, FailureStop, FailureStop}
	for i, w := range e.Waves {
		if w.Number != i+1 || w.Status != WavePending || w.Name != plan.Waves[i].Name || w.PauseBefore != plan.Waves[i].PauseBefore {
			t.Errorf("waves[%d] = %+v", i, w)
		}
		if w.DependsOn == nil || !slices.Equal(w.DependsOn, wantDeps[i]) {
			t.Errorf("waves[%d].DependsOn = %#v, want %v made explicit", i, w.DependsOn, wantDeps[i])
		}
		if w.Deadline != wantDeadline[i] || w.OnFailure != wantPolicy[i] {
			t.Errorf("waves[%d] deadline %v policy %q", i, w.Deadline, w.OnFailure)
		}
		if w.Jobs == nil || w.Servers == nil {
			t.Errorf("waves[%d] has nil jobs or servers (JSON null)", i)
		}
		if e.Wave(w.Name) != w {
			t.Errorf("Wave(%q) does not find it", w.Name)
		}
	}
	if e.Wave("nope") != nil {
		t.Error("Wave of an unknown name is not nil")
	}

	// The waves are copies: editing the plan afterwards changes nothing.
	plan.Waves[0].Groups[0] = "changed"
	plan.Waves[3].DependsOn[0] = "changed"
	plan.Waves[1].Name = "changed"
	if e.Waves[0].Groups[0] != "db-tier" || e.Waves[3].DependsOn[0] != "db" || e.Waves[1].Name != "app" {
		t.Error("the execution's waves alias the plan's")
	}
	if other := NewExecution(plan, ModeRecovery, "bob", t0); other.ID == e.ID {
		t.Error("two executions have the same ID")
	}
}

// execWith returns an execution whose waves have the given statuses and
// servers.
func execWith(status ExecutionStatus, waves ...*WaveRun) *Execution {
	return &Execution{ID: "ex-1", Mode: ModeDrill, Status: status, Waves: waves}
}

func wave(name string, status WaveStatus, servers ...ServerStatus) *WaveRun {
	w := &WaveRun{Wave: Wave{Name: name}, Status: status}
	for i, s := range servers {
		w.Servers = append(w.Servers, &ServerRun{ServerDetail: ServerDetail{SourceServerID: name + strconv.Itoa(i), RecoveryInstanceID: "i-" + name}, Status: s})
	}
	return w
}

func TestOutcome(t *testing.T) {
	cancel := &Request{By: "op", At: t0}
	for _, tc := range []struct {
		name      string
		waves     []*WaveRun
		cancelled bool
		want      ExecutionStatus
	}{
		{"every wave completed", []*WaveRun{wave("a", WaveCompleted, ServerLaunched), wave("b", WaveCompleted, ServerLaunched, ServerTerminated)}, false, ExecutionCompleted},
		{"completed waves without servers", []*WaveRun{wave("a", WaveCompleted)}, false, ExecutionCompleted},
		{"completed although cancel was asked late", []*WaveRun{wave("a", WaveCompleted, ServerLaunched)}, true, ExecutionCompleted},
		{"a wave partial", []*WaveRun{wave("a", WaveCompleted, ServerLaunched), wave("b", WavePartial, ServerLaunched, ServerFailed)}, false, ExecutionPartial},
		{"later waves skipped", []*WaveRun{wave("a", WaveCompleted, ServerLaunched), wave("b", WaveFailed, ServerFailed), wave("c", WaveSkipped)}, false, ExecutionPartial},
		{"terminated drill instances count as launched", []*WaveRun{wave("a", WaveCompleted, ServerTerminated), wave("b", WaveFailed, ServerFailed)}, false, ExecutionPartial},
		{"cancelled after some launched", []*WaveRun{wave("a", WaveCompleted, ServerLaunched), wave("b", WaveCancelled, ServerCancelled)}, true, ExecutionPartial},
		{"nothing launched", []*WaveRun{wave("a", WaveFailed, ServerFailed), wave("b", WaveSkipped)}, false, ExecutionFailed},
		{"cancelled before anything launched", []*WaveRun{wave("a", WaveCancelled, ServerCancelled), wave("b", WaveCancelled)}, true, ExecutionCancelled},
		{"cancelled, the launched wave failed", []*WaveRun{wave("a", WaveFailed, ServerFailed), wave("b", WaveCancelled)}, true, ExecutionCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := execWith(ExecutionRunning, tc.waves...)
			if tc.cancelled {
				e.CancelRequest = cancel
			}
			if got := e.Outcome(); got != tc.want {
				t.Errorf("Outcome() = %s, want %s", got, tc.want)
			}
			if !e.AllWavesTerminal() {
				t.Error("AllWavesTerminal() = false")
			}
		})
	}
}

func TestAllWavesTerminal(t *testing.T) {
	if execWith(ExecutionRunning).AllWavesTerminal() {
		t.Error("an execution without waves has every wave terminal")
	}
	if execWith(ExecutionRunning, wave("a", WaveCompleted), wave("b", WavePending)).AllWavesTerminal() {
		t.Error("a pending wave is terminal")
	}
	if execWith(ExecutionRunning, wave("a", WaveCompleted), wave("b", "")).AllWavesTerminal() {
		t.Error("a wave of unknown status is terminal")
	}
}

func TestOperatorActions(t *testing.T) {
	req := &Request{By: "op", At: t0}
	type want struct{ pause, resume, cancel bool }
	for _, s := range constantsOf(t, "ExecutionStatus") {
		status := ExecutionStatus(s)
		for _, tc := range []struct {
			name                 string
			pauseReq, resumeReq  bool
			cancelReq, noPending bool
		}{
			{name: "plain"}, {name: "pause requested", pauseReq: true}, {name: "resume requested", resumeReq: true},
			{name: "cancel requested", cancelReq: true}, {name: "no pending wave", noPending: true},
		} {
			e := execWith(status, wave("a", WaveCompleted, ServerLaunched), wave("b", WavePending))
			if tc.noPending {
				e.Waves = e.Waves[:1]
			}
			if tc.pauseReq {
				e.PauseRequest = req
			}
			if tc.resumeReq {
				e.ResumeRequest = req
			}
			if tc.cancelReq {
				e.CancelRequest = req
			}
			var w want
			switch status {
			case ExecutionRunning:
				w.pause = !tc.pauseReq && !tc.noPending
				w.resume = tc.pauseReq
				w.cancel = !tc.cancelReq
			case ExecutionPaused:
				w.resume = !tc.resumeReq
				w.cancel = !tc.cancelReq
			case ExecutionPending:
				w.cancel = !tc.cancelReq
			}
			got := want{e.CanPause(), e.CanResume(), e.CanCancel()}
			if got != w {
				t.Errorf("%s, %s: pause/resume/cancel = %+v, want %+v", s, tc.name, got, w)
			}
		}
	}
}

func TestCanTerminate(t *testing.T) {
	launched := func() *Execution {
		return execWith(ExecutionCompleted, wave("a", WaveCompleted, ServerLaunched))
	}
	for _, s := range constantsOf(t, "ExecutionStatus") {
		e := launched()
		e.Status = ExecutionStatus(s)
		if got, want := e.CanTerminate(), terminalExecution[e.Status]; got != want {
			t.Errorf("%s drill with a launched server: CanTerminate() = %v, want %v", s, got, want)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(e *Execution)
		want bool
	}{
		{"drill over", func(*Execution) {}, true},
		{"recovery", func(e *Execution) { e.Mode = ModeRecovery }, false},
		{"termination under way", func(e *Execution) { e.Cleanup.Status = CleanupTerminating }, false},
		{"termination done", func(e *Execution) { e.Cleanup.Status = CleanupCompleted }, false},
		{"termination failed: retry", func(e *Execution) { e.Cleanup.Status = CleanupFailed }, true},
		{"every instance terminated", func(e *Execution) { e.Waves[0].Servers[0].Status = ServerTerminated }, false},
		{"launched without a recovery instance", func(e *Execution) { e.Waves[0].Servers[0].RecoveryInstanceID = "" }, false},
		{"nothing launched", func(e *Execution) { e.Waves[0].Servers[0].Status = ServerFailed }, false},
	} {
		e := launched()
		tc.edit(e)
		if got := e.CanTerminate(); got != tc.want {
			t.Errorf("%s: CanTerminate() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCounts(t *testing.T) {
	e := execWith(ExecutionRunning,
		wave("a", WaveCompleted, ServerLaunched, ServerLaunched, ServerTerminated),
		wave("b", WaveInProgress, ServerPending, ServerInProgress, ServerFailed, ServerCancelled),
	)
	want := Counts{Total: 7, Pending: 1, InProgress: 1, Launched: 2, Failed: 1, Cancelled: 1, Terminated: 1}
	if got := e.Counts(); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	if got := e.Waves[0].Counts(); got != (Counts{Total: 3, Launched: 2, Terminated: 1}) {
		t.Errorf("wave Counts() = %+v", got)
	}
	sum := e.Summary()
	if sum.Counts != want || sum.Waves != 2 || sum.WavesDone != 1 || sum.ID != e.ID {
		t.Errorf("Summary() = %+v", sum)
	}
	// Every server status is counted once, in Total and in its own count.
	for _, s := range constantsOf(t, "ServerStatus") {
		c := execWith(ExecutionRunning, wave("a", WavePending, ServerStatus(s))).Counts()
		if c.Total != 1 || c.Pending+c.InProgress+c.Launched+c.Failed+c.Cancelled+c.Terminated != 1 {
			t.Errorf("%s counted as %+v", s, c)
		}
	}
}

func TestModeValid(t *testing.T) {
	for _, m := range constantsOf(t, "Mode") {
		if !Mode(m).Valid() {
			t.Errorf("%s is not Valid", m)
		}
	}
	if Mode("drill").Valid() || Mode("").Valid() {
		t.Error("an unknown mode is Valid")
	}
}
