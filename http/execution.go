package http

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"wavedr"
	"wavedr/engine"
)

// executionView is an execution as the API answers it: with what an
// operator may do now, computed here so that no client infers it, its
// outcome counts, and its report.
type executionView struct {
	*wavedr.Execution
	CanPause     bool          `json:"canPause"`
	CanResume    bool          `json:"canResume"`
	CanCancel    bool          `json:"canCancel"`
	CanTerminate bool          `json:"canTerminate"`
	Counts       wavedr.Counts `json:"counts"`
	Report       wavedr.Report `json:"report"`
}

func viewOf(e *wavedr.Execution) *executionView {
	if e == nil {
		return nil
	}
	return &executionView{Execution: e, CanPause: e.CanPause(), CanResume: e.CanResume(), CanCancel: e.CanCancel(),
		CanTerminate: e.CanTerminate(), Counts: e.Counts(), Report: e.Report()}
}

// verbResult is the answer of the verbs that act on an execution.
type verbResult struct {
	Execution *executionView `json:"execution"`
	Changed   bool           `json:"changed"`
	Message   string         `json:"message"`
}

// pollResult is the answer of POST /v1/executions/{id}/poll.
type pollResult struct {
	Execution        *executionView `json:"execution"`
	AllWavesComplete bool           `json:"allWavesComplete"`
}

func (s *Server) handleListExecutions(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "plan", "status", "since", "until", "limit", "cursor")
	f := wavedr.ExecutionFilter{Since: q.time("since"), Until: q.time("until"), Cursor: q.str("cursor"), Limit: q.limit()}
	for _, v := range q.values["status"] {
		for _, st := range strings.Split(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				f.Status = append(f.Status, wavedr.ExecutionStatus(strings.ToUpper(st)))
			}
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	if plan := q.str("plan"); plan != "" {
		// A plan is named by ID or name; executions are filed by ID.
		p, err := s.db.FindRecoveryPlan(r.Context(), plan)
		switch {
		case err == nil:
			f.PlanID = p.ID
		case wavedr.ErrorCode(err) == wavedr.ENOTFOUND && wavedr.ValidID(wavedr.PrefixRecoveryPlan, plan):
			f.PlanID = plan // a deleted plan keeps its executions
		default:
			return err
		}
	}
	page, err := s.db.ListExecutions(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// startRequest is the body of POST /v1/executions. Who starts is the
// authenticated principal, never a field of the body.
type startRequest struct {
	Plan string      `json:"plan"`
	Mode wavedr.Mode `json:"mode"`
}

func (s *Server) handleStartExecution(w http.ResponseWriter, r *http.Request) error {
	var in startRequest
	if _, err := decodeJSON(w, r, &in, bodyRequired); err != nil {
		return err
	}
	var p wavedr.Problems
	if strings.TrimSpace(in.Plan) == "" {
		p.Add("plan", "is required: the ID or name of a recovery plan")
	}
	switch {
	case in.Mode == "":
		p.Add("mode", "is required: DRILL or RECOVERY")
	case !in.Mode.Valid():
		p.Add("mode", "must be DRILL or RECOVERY, not %q", in.Mode)
	}
	if err := p.Err("start request"); err != nil {
		return err
	}
	who := PrincipalFromContext(r.Context())
	if in.Mode == wavedr.ModeRecovery {
		// A real failover is not implied by the right to drill.
		if err := permit(who, wavedr.PermStartRecovery); err != nil {
			return err
		}
	}
	ex, err := s.eng.Start(r.Context(), engine.StartInput{Plan: in.Plan, Mode: in.Mode, InitiatedBy: who.String()})
	if err != nil {
		return dependencyError(err)
	}
	stateOf(r).target = ex.ID
	w.Header().Set("Location", "/v1/executions/"+ex.ID)
	writeJSON(w, http.StatusCreated, viewOf(ex))
	return nil
}

func executionID(r *http.Request) (string, error) { return pathRef(r, wavedr.PrefixExecution, false) }

func (s *Server) handleGetExecution(w http.ResponseWriter, r *http.Request) error {
	id, err := executionID(r)
	if err != nil {
		return err
	}
	ex, err := s.eng.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(ex))
	return nil
}

// verb is one of the engine's verbs on an execution, called with the
// principal's name as the one who asks.
type verb func(e *engine.Engine, ctx context.Context, id, by string) (*engine.Result, error)

var (
	verbPause     verb = (*engine.Engine).Pause
	verbResume    verb = (*engine.Engine).Resume
	verbCancel    verb = (*engine.Engine).Cancel
	verbTerminate verb = (*engine.Engine).Terminate
	verbFinalize  verb = func(e *engine.Engine, ctx context.Context, id, _ string) (*engine.Result, error) {
		return e.Finalize(ctx, id)
	}
)

// handleVerb serves POST /v1/executions/{id}/VERB. The body is empty or
// an empty object: a verb takes no parameters.
func (s *Server) handleVerb(v verb) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := executionID(r)
		if err != nil {
			return err
		}
		if _, err := decodeJSON(w, r, &struct{}{}, bodyOptional); err != nil {
			return err
		}
		res, err := v(s.eng, r.Context(), id, PrincipalFromContext(r.Context()).String())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, verbResult{Execution: viewOf(res.Execution), Changed: res.Changed, Message: res.Message})
		return nil
	}
}

func (s *Server) handlePoll(w http.ResponseWriter, r *http.Request) error {
	id, err := executionID(r)
	if err != nil {
		return err
	}
	if _, err := decodeJSON(w, r, &struct{}{}, bodyOptional); err != nil {
		return err
	}
	res, err := s.eng.Poll(r.Context(), id)
	if err != nil {
		return dependencyError(err)
	}
	writeJSON(w, http.StatusOK, pollResult{Execution: viewOf(res.Execution), AllWavesComplete: res.AllWavesComplete})
	return nil
}

// jobLogItem is one event of a wave's DRS job log, with the job it is of.
type jobLogItem struct {
	JobID     string `json:"jobId"`
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region"`
	wavedr.JobLogItem
	key string
}

// handleJobLog answers the DRS job log of the wave's jobs, job by job,
// each oldest event first.
func (s *Server) handleJobLog(w http.ResponseWriter, r *http.Request) error {
	id, err := executionID(r)
	if err != nil {
		return err
	}
	q := newQuery(r, "limit", "cursor")
	limit := q.limit()
	if err := q.err(); err != nil {
		return err
	}
	ex, err := s.eng.Get(r.Context(), id)
	if err != nil {
		return err
	}
	name := r.PathValue("wave")
	wave := ex.Wave(name)
	if wave == nil {
		return wavedr.Errorf(wavedr.ENOTFOUND, "execution %s has no wave named %q", ex.ID, name)
	}
	accounts, err := s.accountMap(r.Context())
	if err != nil {
		return err
	}
	items := []jobLogItem{}
	for _, j := range wave.Jobs {
		if j.JobID == "" {
			continue
		}
		t := wavedr.Target{AccountID: j.AccountID, Region: j.Region}
		if a, ok := accounts[j.AccountID]; ok {
			t = a.Target(j.Region)
		}
		log, err := s.rec.DescribeJobLog(r.Context(), t, j.JobID)
		if err != nil {
			return dependencyError(err)
		}
		for i, e := range log {
			items = append(items, jobLogItem{JobID: j.JobID, AccountID: j.AccountID, Region: j.Region, JobLogItem: e,
				key: fmt.Sprintf("%06d\x00%s\x00%08d", j.Chunk, j.JobID, i)})
		}
	}
	sort.Slice(items, func(i, k int) bool { return items[i].key < items[k].key })
	page, err := pageOf(items, func(i jobLogItem) string { return i.key }, false, "job-log", filterDigest(ex.ID, name), q.str("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
