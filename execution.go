package wavedr

import (
	"context"
	"time"
)

// Mode says whether an execution is a drill (isolated instances, cleaned
// up afterwards) or a real recovery (a failover).
type Mode string

const (
	ModeDrill    Mode = "DRILL"
	ModeRecovery Mode = "RECOVERY"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeDrill || m == ModeRecovery }

// ExecutionStatus is the status of an execution. Only the engine's advance
// step changes it, through the transition table below.
type ExecutionStatus string

const (
	ExecutionPending    ExecutionStatus = "PENDING"    // created; the engine has not started it yet
	ExecutionRunning    ExecutionStatus = "RUNNING"    // waves are launching or in progress
	ExecutionPaused     ExecutionStatus = "PAUSED"     // held at a pause gate or by an operator; in-flight waves still run
	ExecutionCancelling ExecutionStatus = "CANCELLING" // cancelled: no new wave launches; in-flight DRS jobs are watched to their end
	ExecutionCompleted  ExecutionStatus = "COMPLETED"  // every server launched
	ExecutionPartial    ExecutionStatus = "PARTIAL"    // some servers launched, some failed, were cancelled or skipped
	ExecutionFailed     ExecutionStatus = "FAILED"     // nothing launched, or a fatal error; Reason says which
	ExecutionCancelled  ExecutionStatus = "CANCELLED"  // cancelled before anything launched
)

var executionTransitions = transitions[ExecutionStatus]{
	ExecutionPending:    {ExecutionRunning, ExecutionCancelled, ExecutionFailed},
	ExecutionRunning:    {ExecutionPaused, ExecutionCancelling, ExecutionCompleted, ExecutionPartial, ExecutionFailed},
	ExecutionPaused:     {ExecutionRunning, ExecutionCancelling},
	ExecutionCancelling: {ExecutionCompleted, ExecutionPartial, ExecutionFailed, ExecutionCancelled},
}

// ActiveExecutionStatuses are the statuses of executions that are not over.
var ActiveExecutionStatuses = []ExecutionStatus{ExecutionPending, ExecutionRunning, ExecutionPaused, ExecutionCancelling}

// CanTransitionTo reports whether the transition table allows s → to.
func (s ExecutionStatus) CanTransitionTo(to ExecutionStatus) bool {
	return executionTransitions.allows(s, to)
}

// IsTerminal reports whether the execution is over.
func (s ExecutionStatus) IsTerminal() bool { return s.Valid() && len(executionTransitions[s]) == 0 }

// Valid reports whether s is a known status.
func (s ExecutionStatus) Valid() bool {
	switch s {
	case ExecutionPending, ExecutionRunning, ExecutionPaused, ExecutionCancelling,
		ExecutionCompleted, ExecutionPartial, ExecutionFailed, ExecutionCancelled:
		return true
	}
	return false
}

// CleanupStatus tracks the termination of a drill's recovery instances.
type CleanupStatus string

const (
	CleanupNone        CleanupStatus = ""            // not asked for
	CleanupTerminating CleanupStatus = "TERMINATING" // TERMINATE jobs started; watched to their end
	CleanupCompleted   CleanupStatus = "COMPLETED"   // every TERMINATE job COMPLETED
	CleanupFailed      CleanupStatus = "FAILED"      // some instances could not be terminated; Reason says which
)

// Request records an operator's request (pause, resume, cancel,
// terminate): who asked, and when. The engine acts on it.
type Request struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Pause describes why a PAUSED execution is paused.
type Pause struct {
	// BeforeWave is the wave that will launch on resume.
	BeforeWave string `json:"beforeWave,omitempty"`
	// Gate is true for a plan's pause-before gate, false for an operator's pause.
	Gate bool      `json:"gate"`
	By   string    `json:"by,omitempty"` // who paused, for an operator's pause
	At   time.Time `json:"at"`
}

// Cleanup is the state of a drill's instance termination.
type Cleanup struct {
	Status      CleanupStatus `json:"status"`
	RequestedBy string        `json:"requestedBy,omitempty"`
	Jobs        []WaveJob     `json:"jobs,omitempty"` // the TERMINATE jobs, per account and region
	Reason      string        `json:"reason,omitempty"`
	StartedAt   time.Time     `json:"startedAt,omitzero"`
	EndedAt     time.Time     `json:"endedAt,omitzero"`
}

// Execution is one run of a recovery plan, as a drill or a recovery. It
// holds every wave of the plan from the moment it is created, so "every
// wave is over" cannot be true early.
type Execution struct {
	ID          string          `json:"id"`
	PlanID      string          `json:"planId"`
	PlanName    string          `json:"planName"`
	PlanVersion int64           `json:"planVersion"`
	Mode        Mode            `json:"mode"`
	Status      ExecutionStatus `json:"status"`
	// InitiatedBy is the authenticated principal who started it.
	InitiatedBy string     `json:"initiatedBy"`
	Waves       []*WaveRun `json:"waves"`
	// Reason explains a FAILED, PARTIAL or CANCELLED outcome.
	Reason string `json:"reason,omitempty"`

	Pause         *Pause   `json:"pause,omitempty"`         // set while PAUSED
	PauseRequest  *Request `json:"pauseRequest,omitempty"`  // an operator's pause not yet in effect
	ResumeRequest *Request `json:"resumeRequest,omitempty"` // a resume not yet in effect
	CancelRequest *Request `json:"cancelRequest,omitempty"` // set once cancel was asked
	Cleanup       Cleanup  `json:"cleanup"`

	CreatedAt    time.Time `json:"createdAt"`
	StartedAt    time.Time `json:"startedAt,omitzero"`
	EndedAt      time.Time `json:"endedAt,omitzero"`
	LastPolledAt time.Time `json:"lastPolledAt,omitzero"`
	Version      int64     `json:"version"`
}

// NewExecution returns a PENDING execution of plan with every wave PENDING,
// dependencies and deadlines made explicit. The plan must be valid.
func NewExecution(plan *RecoveryPlan, mode Mode, initiatedBy string, now time.Time) *Execution {
	e := &Execution{
		ID:          NewID(PrefixExecution, now),
		PlanID:      plan.ID,
		PlanName:    plan.Name,
		PlanVersion: plan.Version,
		Mode:        mode,
		Status:      ExecutionPending,
		InitiatedBy: initiatedBy,
		CreatedAt:   now,
	}
	for i := range plan.Waves {
		w := plan.Waves[i]
		w.Groups = append([]string(nil), w.Groups...)
		w.DependsOn = append([]string{}, plan.Dependencies(i)...)
		w.Deadline = w.EffectiveDeadline()
		w.OnFailure = w.EffectivePolicy()
		e.Waves = append(e.Waves, &WaveRun{Wave: w, Number: i + 1, Status: WavePending, Jobs: []WaveJob{}, Servers: []*ServerRun{}})
	}
	return e
}

// SetStatus moves the execution to status to at now, or returns EINVALID
// when the transition table does not allow it. Only the engine calls it.
func (e *Execution) SetStatus(to ExecutionStatus, now time.Time) error {
	if e.Status == to {
		return nil
	}
	if !e.Status.CanTransitionTo(to) {
		return TransitionError("execution "+e.ID, e.Status, to)
	}
	if to == ExecutionRunning && e.StartedAt.IsZero() {
		e.StartedAt = now
	}
	e.Status = to
	if to != ExecutionPaused {
		e.Pause = nil
	}
	if to.IsTerminal() {
		e.EndedAt = now
	}
	return nil
}

// Wave returns the execution's wave with the name, or nil.
func (e *Execution) Wave(name string) *WaveRun {
	for _, w := range e.Waves {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// AllWavesTerminal reports whether every wave of the plan is over.
func (e *Execution) AllWavesTerminal() bool {
	for _, w := range e.Waves {
		if !w.Status.IsTerminal() {
			return false
		}
	}
	return len(e.Waves) > 0
}

// Counts counts the servers of every wave by status.
func (e *Execution) Counts() Counts {
	var c Counts
	for _, w := range e.Waves {
		for _, s := range w.Servers {
			c.add(s.Status)
		}
	}
	return c
}

// Outcome is the terminal status the execution ends with, once every wave
// is over: COMPLETED when every wave completed, CANCELLED when it was
// cancelled before anything launched, FAILED when nothing launched, PARTIAL
// otherwise.
func (e *Execution) Outcome() ExecutionStatus {
	c := e.Counts()
	launched := c.Launched + c.Terminated
	allCompleted := true
	for _, w := range e.Waves {
		if w.Status != WaveCompleted {
			allCompleted = false
		}
	}
	switch {
	case allCompleted:
		return ExecutionCompleted
	case launched == 0 && e.CancelRequest != nil:
		return ExecutionCancelled
	case launched == 0:
		return ExecutionFailed
	}
	return ExecutionPartial
}

// CanPause reports whether an operator's pause can still take effect: the
// execution runs and some wave has not launched yet.
func (e *Execution) CanPause() bool {
	return e.Status == ExecutionRunning && e.PauseRequest == nil && e.hasPendingWave()
}

// CanResume reports whether the execution is paused, or a pause is
// requested that resume would withdraw.
func (e *Execution) CanResume() bool {
	return (e.Status == ExecutionPaused && e.ResumeRequest == nil) ||
		(e.Status == ExecutionRunning && e.PauseRequest != nil)
}

// CanCancel reports whether the execution can still be cancelled.
func (e *Execution) CanCancel() bool {
	switch e.Status {
	case ExecutionPending, ExecutionRunning, ExecutionPaused:
		return e.CancelRequest == nil
	}
	return false
}

// CanTerminate reports whether the drill's recovery instances can be
// terminated: the drill is over, some server launched an instance that is
// not terminated, and no termination is under way or done.
func (e *Execution) CanTerminate() bool {
	if e.Mode != ModeDrill || !e.Status.IsTerminal() {
		return false
	}
	if e.Cleanup.Status != CleanupNone && e.Cleanup.Status != CleanupFailed {
		return false
	}
	for _, w := range e.Waves {
		for _, s := range w.Servers {
			if s.Status == ServerLaunched && s.RecoveryInstanceID != "" {
				return true
			}
		}
	}
	return false
}

func (e *Execution) hasPendingWave() bool {
	for _, w := range e.Waves {
		if w.Status == WavePending {
			return true
		}
	}
	return false
}

// Counts are numbers of servers by status.
type Counts struct {
	Total      int `json:"total"`
	Pending    int `json:"pending"`
	InProgress int `json:"inProgress"`
	Launched   int `json:"launched"`
	Failed     int `json:"failed"`
	Cancelled  int `json:"cancelled"`
	Terminated int `json:"terminated"`
}

func (c *Counts) add(s ServerStatus) {
	c.Total++
	switch s {
	case ServerPending:
		c.Pending++
	case ServerInProgress:
		c.InProgress++
	case ServerLaunched:
		c.Launched++
	case ServerFailed:
		c.Failed++
	case ServerCancelled:
		c.Cancelled++
	case ServerTerminated:
		c.Terminated++
	}
}

// ExecutionSummary is an execution without its servers, for lists.
type ExecutionSummary struct {
	ID          string          `json:"id"`
	PlanID      string          `json:"planId"`
	PlanName    string          `json:"planName"`
	Mode        Mode            `json:"mode"`
	Status      ExecutionStatus `json:"status"`
	InitiatedBy string          `json:"initiatedBy"`
	Counts      Counts          `json:"counts"`
	Waves       int             `json:"waves"`
	WavesDone   int             `json:"wavesDone"`
	CreatedAt   time.Time       `json:"createdAt"`
	StartedAt   time.Time       `json:"startedAt,omitzero"`
	EndedAt     time.Time       `json:"endedAt,omitzero"`
	Version     int64           `json:"version"`
}

// Summary returns e without its servers.
func (e *Execution) Summary() ExecutionSummary {
	done := 0
	for _, w := range e.Waves {
		if w.Status.IsTerminal() {
			done++
		}
	}
	return ExecutionSummary{
		ID: e.ID, PlanID: e.PlanID, PlanName: e.PlanName, Mode: e.Mode, Status: e.Status,
		InitiatedBy: e.InitiatedBy, Counts: e.Counts(), Waves: len(e.Waves), WavesDone: done,
		CreatedAt: e.CreatedAt, StartedAt: e.StartedAt, EndedAt: e.EndedAt, Version: e.Version,
	}
}

// ExecutionFilter selects executions in a list, newest first.
type ExecutionFilter struct {
	PlanID string
	Status []ExecutionStatus // any of these; empty means all
	Since  time.Time         // created at or after; zero means no bound
	Until  time.Time         // created before; zero means no bound
	Cursor string
	Limit  int
}

// ExecutionStore persists executions. Writes are conditional on the
// version that was read: a stale version fails with ECONFLICT and changes
// nothing. Status changes come only from the engine.
type ExecutionStore interface {
	// CreateExecution stores a new execution with version 1.
	CreateExecution(ctx context.Context, e *Execution) error
	// FindExecution returns the execution with every wave and server;
	// ENOTFOUND if none.
	FindExecution(ctx context.Context, id string) (*Execution, error)
	// ListExecutions returns a page of summaries, newest first.
	ListExecutions(ctx context.Context, f ExecutionFilter) (*Page[ExecutionSummary], error)
	// UpdateExecution stores e if e.Version is the stored version, and
	// increments e.Version; ECONFLICT otherwise.
	UpdateExecution(ctx context.Context, e *Execution) error
	// ActiveExecutionIDs returns the IDs of executions not yet over.
	ActiveExecutionIDs(ctx context.Context) ([]string, error)
	// CleaningExecutionIDs returns the IDs of executions whose drill
	// cleanup is in progress.
	CleaningExecutionIDs(ctx context.Context) ([]string, error)
	// ClaimServers records that the execution recovers the source servers,
	// so that no other execution can take them while it is active.
	// Claiming a server the execution already holds is a no-op. If another
	// execution holds one, nothing is claimed and the error is ECONFLICT
	// naming the server and that execution.
	ClaimServers(ctx context.Context, executionID string, serverIDs []string) error
	// ReleaseServers drops every claim of the execution (when it is over).
	ReleaseServers(ctx context.Context, executionID string) error
}
