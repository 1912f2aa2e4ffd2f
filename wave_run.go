package wavedr

import "time"

// WaveStatus is the status of one wave in an execution.
type WaveStatus string

const (
	WavePending    WaveStatus = "PENDING"     // waiting for its dependencies, its pause gate, or the plan to be resumed
	WaveLaunching  WaveStatus = "LAUNCHING"   // launch recorded; its DRS jobs are being started (or wait for quota: Reason says)
	WaveInProgress WaveStatus = "IN_PROGRESS" // every DRS job of the wave is started; servers are being recovered
	WaveCompleted  WaveStatus = "COMPLETED"   // every server launched (or the wave had no server)
	WavePartial    WaveStatus = "PARTIAL"     // some servers launched, some failed
	WaveFailed     WaveStatus = "FAILED"      // no server launched, or the wave could not be launched; Reason says why
	WaveCancelled  WaveStatus = "CANCELLED"   // the execution was cancelled before the wave launched
	WaveSkipped    WaveStatus = "SKIPPED"     // not run because an earlier wave failed under the STOP policy
)

var waveTransitions = transitions[WaveStatus]{
	WavePending:    {WaveLaunching, WaveCompleted, WaveFailed, WaveCancelled, WaveSkipped},
	WaveLaunching:  {WaveInProgress, WaveCompleted, WavePartial, WaveFailed, WaveCancelled},
	WaveInProgress: {WaveCompleted, WavePartial, WaveFailed},
}

// CanTransitionTo reports whether the transition table allows s → to.
func (s WaveStatus) CanTransitionTo(to WaveStatus) bool { return waveTransitions.allows(s, to) }

// IsTerminal reports whether the wave is over. An unknown status is not.
func (s WaveStatus) IsTerminal() bool { return s.Valid() && len(waveTransitions[s]) == 0 }

// Valid reports whether s is a known status.
func (s WaveStatus) Valid() bool {
	switch s {
	case WavePending, WaveLaunching, WaveInProgress, WaveCompleted,
		WavePartial, WaveFailed, WaveCancelled, WaveSkipped:
		return true
	}
	return false
}

// IsFailure reports whether the wave ended with failed servers or not at
// all, which its failure policy then acts on.
func (s WaveStatus) IsFailure() bool { return s == WavePartial || s == WaveFailed }

// WaveJob is one DRS job of a wave: a wave is split into jobs of at most
// MaxServersPerJob servers per account and region ("chunks").
type WaveJob struct {
	Chunk       int       `json:"chunk"`
	JobID       string    `json:"jobId,omitempty"` // empty until StartRecovery answered (or a tagged job was adopted)
	AccountID   string    `json:"accountId,omitempty"`
	Region      string    `json:"region"`
	ServerIDs   []string  `json:"serverIds"`
	Status      JobStatus `json:"status,omitempty"`
	RequestedAt time.Time `json:"requestedAt,omitzero"` // when StartRecovery was first about to be sent
	CreatedAt   time.Time `json:"createdAt,omitzero"`   // DRS's creation time
	EndedAt     time.Time `json:"endedAt,omitzero"`
}

// WaveRun is one wave of an execution. It carries a copy of the plan's wave
// (with dependencies and deadline made explicit) so later plan edits do not
// change a running execution.
type WaveRun struct {
	Wave
	Number int        `json:"number"` // 1-based position in the plan, for display
	Status WaveStatus `json:"status"`
	// Reason says why the wave FAILED, was SKIPPED or CANCELLED, or why a
	// LAUNCHING wave is waiting (a DRS quota).
	Reason string `json:"reason,omitempty"`
	// GatePassedBy is who resumed the execution at this wave's pause gate;
	// empty while the gate (if any) has not been passed.
	GatePassedBy string       `json:"gatePassedBy,omitempty"`
	Jobs         []WaveJob    `json:"jobs"`
	Servers      []*ServerRun `json:"servers"`

	LaunchRequestedAt time.Time `json:"launchRequestedAt,omitzero"`
	StartedAt         time.Time `json:"startedAt,omitzero"` // first DRS job created
	EndedAt           time.Time `json:"endedAt,omitzero"`
	DeadlineAt        time.Time `json:"deadlineAt,omitzero"` // set at launch: LaunchRequestedAt + deadline
}

// SetStatus moves the wave to status to at now, or returns EINVALID when
// the transition table does not allow it. Setting the current status is a
// no-op.
func (w *WaveRun) SetStatus(to WaveStatus, now time.Time) error {
	if w.Status == to {
		return nil
	}
	if !w.Status.CanTransitionTo(to) {
		return TransitionError("wave "+w.Name, w.Status, to)
	}
	w.Status = to
	if to.IsTerminal() && w.EndedAt.IsZero() {
		w.EndedAt = now
	}
	return nil
}

// Server returns the wave's run of the source server, or nil.
func (w *WaveRun) Server(sourceServerID string) *ServerRun {
	for _, s := range w.Servers {
		if s.SourceServerID == sourceServerID {
			return s
		}
	}
	return nil
}

// Job returns the wave's job with the chunk index, or nil.
func (w *WaveRun) Job(chunk int) *WaveJob {
	for i := range w.Jobs {
		if w.Jobs[i].Chunk == chunk {
			return &w.Jobs[i]
		}
	}
	return nil
}

// Counts counts the wave's servers by status.
func (w *WaveRun) Counts() Counts {
	var c Counts
	for _, s := range w.Servers {
		c.add(s.Status)
	}
	return c
}

// RecoveryTime is the wave's measured recovery time: from its launch
// request to its last server launched, or 0 while none has.
func (w *WaveRun) RecoveryTime() time.Duration {
	var last time.Time
	for _, s := range w.Servers {
		if s.LaunchedAt.After(last) {
			last = s.LaunchedAt
		}
	}
	if last.IsZero() || w.LaunchRequestedAt.IsZero() {
		return 0
	}
	return last.Sub(w.LaunchRequestedAt)
}
