package http

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store/storetest"
)

func TestDrillOverHTTP(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			testDrillOverHTTP(t, d)
		})
	}
}

// testDrillOverHTTP runs a whole drill of the example plan through the API
// only: apply, start, the pause gate, resume, completion, cleanup; then
// the audit log names each step's principal.
func testDrillOverHTTP(t *testing.T, d storetest.Dialect) {
	h := newHarness(t, d, harnessOptions{workers: true, httpServer: true})
	planner, operator, manager := h.tokens["planmanager"], h.tokens["operator"], h.tokens["recoverymanager"]

	yaml, err := os.ReadFile("../examples/three-tier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var applied applyResult
	h.call(request{method: "POST", path: "/v1/apply", token: planner, body: string(yaml),
		header: map[string]string{"Content-Type": "application/yaml"}}, http.StatusOK, &applied)
	if applied.DryRun || len(applied.Changes) != 4 || applied.Changes[3].Action != "created" {
		t.Fatalf("apply: %+v", applied)
	}

	// An Operator may drill but not fail over.
	r := h.call(request{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"RECOVERY"}`}, http.StatusForbidden, nil)
	if e := r.errorBody(t); e.Details[0].Rule != "recovery:start is required" {
		t.Errorf("RECOVERY by an Operator: %s", r.body)
	}
	var ex executionView
	h.call(request{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"DRILL"}`}, http.StatusCreated, &ex)
	if ex.InitiatedBy != "token:operator" || len(ex.Waves) != 3 || ex.Counts.Total != 10 || !ex.CanCancel {
		t.Fatalf("started: initiatedBy %q, %d waves, %d servers, canCancel %v", ex.InitiatedBy, len(ex.Waves), ex.Counts.Total, ex.CanCancel)
	}
	// Starting it again conflicts, naming the execution holding the servers.
	r = h.call(request{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"DRILL"}`}, http.StatusConflict, nil)
	if e := r.errorBody(t); !strings.Contains(e.Message, ex.ID) {
		t.Errorf("second start: %s", r.body)
	}

	path := "/v1/executions/" + ex.ID
	paused := h.waitFor(path, "the gate before app", func(e *executionView) bool { return e.Status == wavedr.ExecutionPaused })
	if paused.Pause == nil || paused.Pause.BeforeWave != "app" || !paused.CanResume || paused.CanPause {
		t.Fatalf("paused: %+v canResume %v canPause %v", paused.Pause, paused.CanResume, paused.CanPause)
	}
	var res verbResult
	h.call(request{method: "POST", path: path + "/resume", token: manager}, http.StatusOK, &res)
	if !res.Changed || res.Execution == nil {
		t.Fatalf("resume: %+v", res)
	}
	done := h.waitFor(path, "the end", func(e *executionView) bool { return e.Status.IsTerminal() })
	if done.Status != wavedr.ExecutionCompleted || done.Counts.Launched != 10 || !done.CanTerminate || done.Report.Status != wavedr.ExecutionCompleted {
		t.Fatalf("end: %s (%s), launched %d, canTerminate %v", done.Status, done.Reason, done.Counts.Launched, done.CanTerminate)
	}
	if done.Waves[1].GatePassedBy != "token:recoverymanager" {
		t.Errorf("the app gate was passed by %q", done.Waves[1].GatePassedBy)
	}

	// The job log of a wave, from DRS.
	var log struct {
		Items []jobLogItem `json:"items"`
	}
	h.call(request{method: "GET", path: path + "/waves/database/job-log", token: operator}, http.StatusOK, &log)
	if len(log.Items) == 0 || log.Items[0].JobID == "" || log.Items[0].Event == "" {
		t.Errorf("job log: %+v", log.Items)
	}

	h.call(request{method: "POST", path: path + "/terminate", token: operator, body: "{}"}, http.StatusOK, &res)
	if !res.Changed {
		t.Fatalf("terminate: %+v", res)
	}
	clean := h.waitFor(path, "cleanup", func(e *executionView) bool {
		return e.Cleanup.Status == wavedr.CleanupCompleted || e.Cleanup.Status == wavedr.CleanupFailed
	})
	if clean.Cleanup.Status != wavedr.CleanupCompleted || clean.Counts.Terminated != 10 || clean.CanTerminate {
		t.Fatalf("cleanup %s (%s), terminated %d", clean.Cleanup.Status, clean.Cleanup.Reason, clean.Counts.Terminated)
	}

	// The audit log shows each mutating step with its principal, newest first.
	var audit wavedr.Page[*wavedr.AuditEntry]
	h.call(request{method: "GET", path: "/v1/audit?limit=500", token: manager}, http.StatusOK, &audit)
	want := []struct{ action, principal, target string }{
		{"execution.terminate", "token:operator", ex.ID},
		{"execution.resume", "token:recoverymanager", ex.ID},
		{"execution.start", "token:operator", ""}, // the refused second start
		{"execution.start", "token:operator", ex.ID},
		{"execution.start", "token:operator", ""}, // the refused RECOVERY
		{"manifest.apply", "token:planmanager", ""},
	}
	outcomes := []wavedr.AuditOutcome{wavedr.AuditSucceeded, wavedr.AuditSucceeded, wavedr.AuditRefused, wavedr.AuditSucceeded, wavedr.AuditDenied, wavedr.AuditSucceeded}
	if len(audit.Items) != len(want) {
		for _, e := range audit.Items {
			t.Logf("audit: %s %s %s %s %d", e.Action, e.Principal, e.Target, e.Outcome, e.Status)
		}
		t.Fatalf("%d audit entries, want %d", len(audit.Items), len(want))
	}
	for i, w := range want {
		e := audit.Items[i]
		if e.Action != w.action || e.Principal != w.principal || e.Target != w.target || e.Outcome != outcomes[i] || e.RequestID == "" {
			t.Errorf("audit[%d] = %s by %s on %q: %s %d; want %s by %s on %q: %s", i, e.Action, e.Principal, e.Target, e.Outcome, e.Status,
				w.action, w.principal, w.target, outcomes[i])
		}
	}
	// Filters: by target.
	h.call(request{method: "GET", path: "/v1/audit?target=" + ex.ID, token: manager}, http.StatusOK, &audit)
	if len(audit.Items) != 3 {
		t.Errorf("audit of %s: %d entries, want 3 (start, resume, terminate)", ex.ID, len(audit.Items))
	}
	// The executions list, filtered by plan name and status.
	var list wavedr.Page[wavedr.ExecutionSummary]
	h.call(request{method: "GET", path: "/v1/executions?plan=three-tier&status=COMPLETED", token: operator}, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != ex.ID {
		t.Errorf("executions of three-tier: %+v", list.Items)
	}
}

// waitFor GETs the execution until cond holds. The bound only guards
// against a hang; it is not a performance limit.
func (h *harness) waitFor(path, what string, cond func(*executionView) bool) *executionView {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var ex executionView
		h.call(request{method: "GET", path: path, token: h.tokens["readonly"]}, http.StatusOK, &ex)
		if cond(&ex) {
			return &ex
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for %s: execution %s", what, ex.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
