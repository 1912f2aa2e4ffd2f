package wavedr

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Seconds is a measured duration. In JSON it is a number of seconds,
// rounded to the millisecond (65.25), in fields whose names end in
// "Seconds"; a number keeps reports easy to chart and compare.
type Seconds time.Duration

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// MarshalJSON writes s as a number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	sec := time.Duration(s).Round(time.Millisecond).Seconds()
	return strconv.AppendFloat(nil, sec, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var sec float64
	if err := json.Unmarshal(b, &sec); err != nil {
		return fmt.Errorf("must be a number of seconds")
	}
	*s = Seconds(time.Duration(sec * float64(time.Second)).Round(time.Millisecond))
	return nil
}

// Report is what an execution measured: its outcome, and when each wave
// and server reached each step of its recovery. Times are the engine's
// (UTC); a time not reached is absent, as is a duration that cannot be
// measured yet.
type Report struct {
	ExecutionID string          `json:"executionId"`
	PlanID      string          `json:"planId"`
	PlanName    string          `json:"planName"`
	PlanVersion int64           `json:"planVersion"`
	Mode        Mode            `json:"mode"`
	Status      ExecutionStatus `json:"status"`
	Reason      string          `json:"reason,omitempty"`
	InitiatedBy string          `json:"initiatedBy"`
	Counts      Counts          `json:"counts"`

	CreatedAt time.Time `json:"createdAt"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	EndedAt   time.Time `json:"endedAt,omitzero"`
	// Duration is from StartedAt to EndedAt, pauses included.
	Duration Seconds `json:"durationSeconds,omitzero"`
	// RecoveryTime is from StartedAt to the last server launched, gate
	// waits included: the plan's measured recovery time objective.
	RecoveryTime Seconds `json:"recoveryTimeSeconds,omitzero"`

	Cleanup CleanupReport `json:"cleanup"`
	Waves   []WaveReport  `json:"waves"`
}

// CleanupReport is the termination of a drill's recovery instances.
type CleanupReport struct {
	Status      CleanupStatus `json:"status"` // "" when not asked for
	RequestedBy string        `json:"requestedBy,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	StartedAt   time.Time     `json:"startedAt,omitzero"`
	EndedAt     time.Time     `json:"endedAt,omitzero"`
	Duration    Seconds       `json:"durationSeconds,omitzero"`
}

// WaveReport is one wave of a Report, in plan order.
type WaveReport struct {
	Name         string     `json:"name"`
	Number       int        `json:"number"`
	Status       WaveStatus `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	GatePassedBy string     `json:"gatePassedBy,omitempty"`
	Jobs         []string   `json:"jobs"` // DRS job IDs
	Counts       Counts     `json:"counts"`

	LaunchRequestedAt time.Time `json:"launchRequestedAt,omitzero"`
	StartedAt         time.Time `json:"startedAt,omitzero"`
	EndedAt           time.Time `json:"endedAt,omitzero"`
	// RecoveryTime is WaveRun.RecoveryTime: launch request to last server launched.
	RecoveryTime Seconds `json:"recoveryTimeSeconds,omitzero"`

	Servers []ServerReport `json:"servers"`
}

// ServerReport is one server of a WaveReport.
type ServerReport struct {
	SourceServerID string       `json:"sourceServerId"`
	Hostname       string       `json:"hostname,omitempty"`
	Status         ServerStatus `json:"status"`
	Reason         string       `json:"reason,omitempty"`
	EC2InstanceID  string       `json:"ec2InstanceId,omitempty"`
	InstanceType   string       `json:"instanceType,omitempty"`
	PrivateIP      string       `json:"privateIp,omitempty"`

	LaunchRequestedAt time.Time `json:"launchRequestedAt,omitzero"`
	JobStartedAt      time.Time `json:"jobStartedAt,omitzero"`
	SnapshotAt        time.Time `json:"snapshotAt,omitzero"`
	ConversionAt      time.Time `json:"conversionAt,omitzero"`
	LaunchedAt        time.Time `json:"launchedAt,omitzero"`
	TerminatedAt      time.Time `json:"terminatedAt,omitzero"`
	// RecoveryTime is ServerRun.RecoveryTime: launch request to launched.
	RecoveryTime Seconds `json:"recoveryTimeSeconds,omitzero"`
	// Phases split the time from the launch request to the last known
	// step between consecutive known times.
	Phases []PhaseDuration `json:"phases"`
}

// PhaseDuration is the time a server spent in one phase of its recovery.
type PhaseDuration struct {
	// Phase is "request" (launch request to DRS job created), "snapshot"
	// (to snapshot ready), "conversion" (to conversion done) or "launch"
	// (to launched); phases whose end was not observed are joined to the
	// next known one with "+", as in "snapshot+conversion".
	Phase    string  `json:"phase"`
	Duration Seconds `json:"durationSeconds"`
}

// Report returns what e measured so far.
func (e *Execution) Report() Report {
	r := Report{
		ExecutionID: e.ID, PlanID: e.PlanID, PlanName: e.PlanName, PlanVersion: e.PlanVersion,
		Mode: e.Mode, Status: e.Status, Reason: e.Reason, InitiatedBy: e.InitiatedBy,
		Counts:    e.Counts(),
		CreatedAt: e.CreatedAt, StartedAt: e.StartedAt, EndedAt: e.EndedAt,
		Duration: reportSpan(e.StartedAt, e.EndedAt),
		Cleanup: CleanupReport{
			Status: e.Cleanup.Status, RequestedBy: e.Cleanup.RequestedBy, Reason: e.Cleanup.Reason,
			StartedAt: e.Cleanup.StartedAt, EndedAt: e.Cleanup.EndedAt,
			Duration: reportSpan(e.Cleanup.StartedAt, e.Cleanup.EndedAt),
		},
		Waves: make([]WaveReport, 0, len(e.Waves)),
	}
	var lastLaunch time.Time
	for _, w := range e.Waves {
		wr := WaveReport{
			Name: w.Name, Number: w.Number, Status: w.Status, Reason: w.Reason, GatePassedBy: w.GatePassedBy,
			Jobs: []string{}, Counts: w.Counts(),
			LaunchRequestedAt: w.LaunchRequestedAt, StartedAt: w.StartedAt, EndedAt: w.EndedAt,
			RecoveryTime: Seconds(w.RecoveryTime()),
			Servers:      make([]ServerReport, 0, len(w.Servers)),
		}
		for _, j := range w.Jobs {
			if j.JobID != "" {
				wr.Jobs = append(wr.Jobs, j.JobID)
			}
		}
		for _, s := range w.Servers {
			wr.Servers = append(wr.Servers, newServerReport(s))
			if s.LaunchedAt.After(lastLaunch) {
				lastLaunch = s.LaunchedAt
			}
		}
		r.Waves = append(r.Waves, wr)
	}
	r.RecoveryTime = reportSpan(e.StartedAt, lastLaunch)
	return r
}

func newServerReport(s *ServerRun) ServerReport {
	return ServerReport{
		SourceServerID: s.SourceServerID, Hostname: s.Hostname, Status: s.Status, Reason: s.Reason,
		EC2InstanceID: s.EC2InstanceID, InstanceType: s.InstanceType, PrivateIP: s.PrivateIP,
		LaunchRequestedAt: s.LaunchRequestedAt, JobStartedAt: s.JobStartedAt, SnapshotAt: s.SnapshotAt,
		ConversionAt: s.ConversionAt, LaunchedAt: s.LaunchedAt, TerminatedAt: s.TerminatedAt,
		RecoveryTime: Seconds(s.RecoveryTime()),
		Phases:       reportPhases(s),
	}
}

// reportPhases measures the steps of a server's recovery between the
// times that are known. The first known time starts the count: nothing
// before it can be measured.
func reportPhases(s *ServerRun) []PhaseDuration {
	steps := []struct {
		phase string
		at    time.Time
	}{
		{"", s.LaunchRequestedAt},
		{"request", s.JobStartedAt},
		{"snapshot", s.SnapshotAt},
		{"conversion", s.ConversionAt},
		{"launch", s.LaunchedAt},
	}
	out := []PhaseDuration{}
	var from time.Time
	var skipped []string
	for _, st := range steps {
		if st.at.IsZero() {
			if !from.IsZero() {
				skipped = append(skipped, st.phase)
			}
			continue
		}
		if !from.IsZero() {
			name := strings.Join(append(skipped, st.phase), "+")
			out = append(out, PhaseDuration{Phase: name, Duration: Seconds(st.at.Sub(from))})
		}
		from, skipped = st.at, nil
	}
	return out
}

// reportSpan is the time from a to b, or 0 when either is unknown.
func reportSpan(a, b time.Time) Seconds {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return Seconds(b.Sub(a))
}
