package engine

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The engine's durable work. Each kind is unique per execution (and wave),
// so a crash, a retry or a second replica never runs two copies of one
// execution's poll, or two launches of one wave, at the same time.

// pollArgs drives one execution: observe its in-flight waves, advance it,
// and snooze until the next cycle while it is active.
type pollArgs struct {
	ExecutionID string `json:"executionId"`
}

func (pollArgs) Kind() string { return "wavedr.poll" }

func (pollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// launchArgs starts the DRS jobs of one wave recorded LAUNCHING.
type launchArgs struct {
	ExecutionID string `json:"executionId"`
	Wave        string `json:"wave"`
}

func (launchArgs) Kind() string { return "wavedr.launch" }

func (launchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// terminateArgs terminates a drill's recovery instances and watches the
// TERMINATE jobs to their end.
type terminateArgs struct {
	ExecutionID string `json:"executionId"`
}

func (terminateArgs) Kind() string { return "wavedr.terminate" }

func (terminateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// findArgs is the periodic safety net: every active execution gets its
// poll (and its launches and cleanup) scheduled again if it lost them.
type findArgs struct{}

func (findArgs) Kind() string { return "wavedr.find" }

func (findArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: liveStates}}
}

// liveStates are the job states in which a job counts as scheduled. A
// completed or discarded job does not block a new one: find may schedule
// the work again.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateRetryable,
	rivertype.JobStateScheduled,
}
