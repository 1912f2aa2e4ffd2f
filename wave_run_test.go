package wavedr

import (
	"testing"
	"time"
)

var waveEdges = edges{
	"PENDING>LAUNCHING": true, "PENDING>COMPLETED": true, "PENDING>FAILED": true, "PENDING>CANCELLED": true, "PENDING>SKIPPED": true,
	"LAUNCHING>IN_PROGRESS": true, "LAUNCHING>COMPLETED": true, "LAUNCHING>PARTIAL": true, "LAUNCHING>FAILED": true, "LAUNCHING>CANCELLED": true,
	"IN_PROGRESS>COMPLETED": true, "IN_PROGRESS>PARTIAL": true, "IN_PROGRESS>FAILED": true,
}

var terminalWave = map[WaveStatus]bool{
	WaveCompleted: true, WavePartial: true, WaveFailed: true, WaveCancelled: true, WaveSkipped: true,
}

func TestWaveTransitions(t *testing.T) {
	statuses := constantsOf(t, "WaveStatus")
	checkTable(t, statuses, waveEdges, func(from, to string) bool {
		return WaveStatus(from).CanTransitionTo(WaveStatus(to))
	})
	for _, s := range statuses {
		st := WaveStatus(s)
		if !st.Valid() || st.IsTerminal() != terminalWave[st] {
			t.Errorf("%s: Valid %v, IsTerminal %v", s, st.Valid(), st.IsTerminal())
		}
		if st.IsFailure() != (st == WavePartial || st == WaveFailed) {
			t.Errorf("%s.IsFailure() = %v", s, st.IsFailure())
		}
	}
	for _, s := range []WaveStatus{"", "BOGUS", "completed"} {
		if s.Valid() || s.IsTerminal() {
			t.Errorf("unknown status %q: Valid %v, IsTerminal %v", s, s.Valid(), s.IsTerminal())
		}
	}
}

func TestWaveSetStatus(t *testing.T) {
	statuses := constantsOf(t, "WaveStatus")
	for _, from := range statuses {
		for _, to := range statuses {
			w := &WaveRun{Wave: Wave{Name: "w"}, Status: WaveStatus(from)}
			err := w.SetStatus(WaveStatus(to), t0)
			switch {
			case from == to:
				if err != nil || !w.EndedAt.IsZero() {
					t.Errorf("%s → %s: %v, EndedAt %v; want a no-op", from, to, err, w.EndedAt)
				}
			case !waveEdges[from+">"+to]:
				if ErrorCode(err) != EINVALID || w.Status != WaveStatus(from) {
					t.Errorf("%s → %s: %v; want EINVALID and no change", from, to, err)
				}
			default:
				if err != nil || w.Status != WaveStatus(to) || w.EndedAt.IsZero() != !terminalWave[WaveStatus(to)] {
					t.Errorf("%s → %s: %v, status %s, EndedAt %v", from, to, err, w.Status, w.EndedAt)
				}
			}
		}
	}
	// An end time already recorded is kept.
	w := &WaveRun{Status: WaveInProgress, EndedAt: t0}
	if err := w.SetStatus(WaveCompleted, t0.Add(time.Hour)); err != nil || !w.EndedAt.Equal(t0) {
		t.Errorf("SetStatus: %v, EndedAt %v", err, w.EndedAt)
	}
}

func TestWaveLookups(t *testing.T) {
	w := &WaveRun{
		Jobs:    []WaveJob{{Chunk: 0, JobID: "drsjob-0"}, {Chunk: 1, JobID: "drsjob-1"}},
		Servers: []*ServerRun{{ServerDetail: ServerDetail{SourceServerID: "s-1"}}},
	}
	if j := w.Job(1); j == nil || j.JobID != "drsjob-1" {
		t.Errorf("Job(1) = %+v", j)
	}
	w.Job(0).Status = JobCompleted
	if w.Jobs[0].Status != JobCompleted {
		t.Error("Job returns a copy, not the wave's job")
	}
	if w.Job(2) != nil || w.Server("s-2") != nil || w.Server("s-1") == nil {
		t.Error("Job or Server lookups are wrong")
	}
}

func TestWaveRecoveryTime(t *testing.T) {
	w := &WaveRun{LaunchRequestedAt: t0}
	if w.RecoveryTime() != 0 {
		t.Error("a wave without servers has a recovery time")
	}
	w.Servers = []*ServerRun{
		{LaunchedAt: t0.Add(20 * time.Minute)},
		{LaunchedAt: t0.Add(35 * time.Minute)},
		{Status: ServerFailed},
	}
	if got := w.RecoveryTime(); got != 35*time.Minute {
		t.Errorf("RecoveryTime() = %v, want 35m (the last server launched)", got)
	}
	w.LaunchRequestedAt = time.Time{}
	if w.RecoveryTime() != 0 {
		t.Error("a wave never launched has a recovery time")
	}
}
