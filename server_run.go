package wavedr

import "time"

// ServerStatus is the status of one source server in an execution.
type ServerStatus string

const (
	ServerPending    ServerStatus = "PENDING"     // not launched yet; its wave has not started or its job not begun
	ServerInProgress ServerStatus = "IN_PROGRESS" // DRS is working on it; Phase says what
	ServerLaunched   ServerStatus = "LAUNCHED"    // DRS launched its recovery instance
	ServerFailed     ServerStatus = "FAILED"      // DRS failed it, or its wave's deadline passed; Reason says why
	ServerCancelled  ServerStatus = "CANCELLED"   // the execution was cancelled before it launched
	ServerTerminated ServerStatus = "TERMINATED"  // its drill instance was terminated afterwards
)

var serverTransitions = transitions[ServerStatus]{
	ServerPending:    {ServerInProgress, ServerLaunched, ServerFailed, ServerCancelled},
	ServerInProgress: {ServerLaunched, ServerFailed},
	ServerLaunched:   {ServerTerminated},
}

// CanTransitionTo reports whether the transition table allows s → to.
func (s ServerStatus) CanTransitionTo(to ServerStatus) bool { return serverTransitions.allows(s, to) }

// IsTerminal reports whether the server's launch is over (it may still be
// terminated afterwards, if LAUNCHED). An unknown status is not.
func (s ServerStatus) IsTerminal() bool {
	return s.Valid() && s != ServerPending && s != ServerInProgress
}

// Valid reports whether s is a known status.
func (s ServerStatus) Valid() bool {
	switch s {
	case ServerPending, ServerInProgress, ServerLaunched, ServerFailed, ServerCancelled, ServerTerminated:
		return true
	}
	return false
}

// Phase is what DRS is doing with an IN_PROGRESS server, from the job log.
type Phase string

const (
	PhaseQueued     Phase = "QUEUED"     // in a job that has not reached it yet
	PhaseSnapshot   Phase = "SNAPSHOT"   // taking or choosing the point-in-time snapshot
	PhaseConversion Phase = "CONVERSION" // converting the snapshot for EC2
	PhaseLaunch     Phase = "LAUNCH"     // launching the EC2 instance
)

// ServerRun is one source server's part in an execution: its status, the
// DRS and EC2 details learned by polling, and the times that make up its
// measured recovery time.
type ServerRun struct {
	ServerDetail // enrichment: source server, job, recovery instance, EC2 instance

	AccountID string       `json:"accountId,omitempty"`
	Region    string       `json:"region"`
	Group     string       `json:"group"` // protection group name
	Chunk     int          `json:"chunk"` // index of the wave's DRS job that carries it
	Status    ServerStatus `json:"status"`
	Phase     Phase        `json:"phase,omitempty"`  // set while IN_PROGRESS
	Reason    string       `json:"reason,omitempty"` // why it FAILED, from DRS's launch status and job log

	LaunchRequestedAt time.Time `json:"launchRequestedAt,omitzero"` // StartRecovery sent
	JobStartedAt      time.Time `json:"jobStartedAt,omitzero"`      // DRS job created
	SnapshotAt        time.Time `json:"snapshotAt,omitzero"`        // snapshot ready (SNAPSHOT_END or USING_PREVIOUS_SNAPSHOT)
	ConversionAt      time.Time `json:"conversionAt,omitzero"`      // conversion done (CONVERSION_END)
	LaunchedAt        time.Time `json:"launchedAt,omitzero"`        // LAUNCHED first observed (or the job's end, if earlier); EC2's LaunchTime is the instance's creation
	TerminatedAt      time.Time `json:"terminatedAt,omitzero"`
}

// SetStatus moves the server to status to, or returns EINVALID when the
// transition table does not allow it. Setting the current status is a no-op.
func (s *ServerRun) SetStatus(to ServerStatus) error {
	if s.Status == to {
		return nil
	}
	if !s.Status.CanTransitionTo(to) {
		return TransitionError("server "+s.SourceServerID, s.Status, to)
	}
	s.Status = to
	if to != ServerInProgress {
		s.Phase = ""
	}
	return nil
}

// RecoveryTime is the measured time from the launch request to the
// recovered instance, or 0 while the server has not launched.
func (s *ServerRun) RecoveryTime() time.Duration {
	if s.LaunchedAt.IsZero() || s.LaunchRequestedAt.IsZero() {
		return 0
	}
	return s.LaunchedAt.Sub(s.LaunchRequestedAt)
}

// WasLaunched reports whether the server got a recovery instance in this
// execution (even if it was terminated since).
func (s *ServerRun) WasLaunched() bool {
	return s.Status == ServerLaunched || s.Status == ServerTerminated
}
