package wavedr

import (
	"testing"
	"time"
)

var serverEdges = edges{
	"PENDING>IN_PROGRESS": true, "PENDING>LAUNCHED": true, "PENDING>FAILED": true, "PENDING>CANCELLED": true,
	"IN_PROGRESS>LAUNCHED": true, "IN_PROGRESS>FAILED": true,
	"LAUNCHED>TERMINATED": true,
}

func TestServerTransitions(t *testing.T) {
	statuses := constantsOf(t, "ServerStatus")
	checkTable(t, statuses, serverEdges, func(from, to string) bool {
		return ServerStatus(from).CanTransitionTo(ServerStatus(to))
	})
	for _, s := range statuses {
		st := ServerStatus(s)
		wantTerminal := st != ServerPending && st != ServerInProgress
		if !st.Valid() || st.IsTerminal() != wantTerminal {
			t.Errorf("%s: Valid %v, IsTerminal %v", s, st.Valid(), st.IsTerminal())
		}
		r := &ServerRun{Status: st}
		if r.WasLaunched() != (st == ServerLaunched || st == ServerTerminated) {
			t.Errorf("%s: WasLaunched() = %v", s, r.WasLaunched())
		}
	}
	for _, s := range []ServerStatus{"", "BOGUS"} {
		if s.Valid() || s.IsTerminal() {
			t.Errorf("unknown status %q: Valid %v, IsTerminal %v", s, s.Valid(), s.IsTerminal())
		}
	}
}

func TestServerSetStatus(t *testing.T) {
	statuses := constantsOf(t, "ServerStatus")
	for _, from := range statuses {
		for _, to := range statuses {
			s := &ServerRun{ServerDetail: ServerDetail{SourceServerID: "s-1"}, Status: ServerStatus(from), Phase: PhaseConversion}
			err := s.SetStatus(ServerStatus(to))
			switch {
			case from == to:
				if err != nil || s.Phase != PhaseConversion {
					t.Errorf("%s → %s: %v, phase %q; want a no-op", from, to, err, s.Phase)
				}
			case !serverEdges[from+">"+to]:
				if ErrorCode(err) != EINVALID || s.Status != ServerStatus(from) || s.Phase != PhaseConversion {
					t.Errorf("%s → %s: %v; want EINVALID and no change", from, to, err)
				}
			default:
				if err != nil || s.Status != ServerStatus(to) || (s.Phase == "") != (to != "IN_PROGRESS") {
					t.Errorf("%s → %s: %v, status %s, phase %q", from, to, err, s.Status, s.Phase)
				}
			}
		}
	}
}

func TestServerRecoveryTime(t *testing.T) {
	s := &ServerRun{LaunchRequestedAt: t0}
	if s.RecoveryTime() != 0 {
		t.Error("a server not launched has a recovery time")
	}
	s.LaunchedAt = t0.Add(17 * time.Minute)
	if got := s.RecoveryTime(); got != 17*time.Minute {
		t.Errorf("RecoveryTime() = %v, want 17m", got)
	}
	if (&ServerRun{LaunchedAt: t0}).RecoveryTime() != 0 {
		t.Error("a server without a launch request has a recovery time")
	}
}
