package wavedr

// ExecutionView is an execution as clients see it: the execution with the
// actions it allows now, computed by wavedr (clients never infer them from
// statuses), its counts and its report.
type ExecutionView struct {
	*Execution
	CanPause     bool    `json:"canPause"`
	CanResume    bool    `json:"canResume"`
	CanCancel    bool    `json:"canCancel"`
	CanTerminate bool    `json:"canTerminate"`
	Counts       Counts  `json:"counts"`
	Report       *Report `json:"report,omitempty"`
}

// View returns the execution as clients see it, with its report.
func (e *Execution) View() *ExecutionView {
	r := e.Report()
	return &ExecutionView{
		Execution: e,
		CanPause:  e.CanPause(), CanResume: e.CanResume(), CanCancel: e.CanCancel(), CanTerminate: e.CanTerminate(),
		Counts: e.Counts(),
		Report: &r,
	}
}
