package http

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"wavedr"
	"wavedr/sim"
	"wavedr/store/storetest"
)

func TestRouteWithoutPermissionPanics(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) error { return nil }
	for _, c := range []struct {
		name string
		rt   route
	}{
		{"no permission", route{method: "GET", path: "/v1/x", handle: ok}},
		{"unknown permission", route{method: "GET", path: "/v1/x", perm: "everything", handle: ok}},
		{"mutating without action", route{method: "POST", path: "/v1/x", perm: wavedr.PermView, handle: ok}},
		{"public write", route{method: "POST", path: "/v1/x", public: true, action: "x", handle: ok}},
		{"no handler", route{method: "GET", path: "/v1/x", perm: wavedr.PermView}},
		{"outside /v1", route{method: "GET", path: "/x", perm: wavedr.PermView, handle: ok}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{mux: http.NewServeMux()}
			defer func() {
				if recover() == nil {
					t.Errorf("registering %s did not panic", c.rt.pattern())
				}
			}()
			s.register(c.rt)
		})
	}
	// Every route of the real table passes.
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	for _, rt := range h.api.table {
		rt.check()
	}
}

// logBuffer is a slog destination for tests.
type logBuffer struct{ bytes.Buffer }

func (h *harness) captureLogs() *logBuffer {
	var b logBuffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	h.api.log, h.api.auth.Logger = log, log
	return &b
}

func TestInternalErrorsAndPanics(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	logs := h.captureLogs()
	h.api.register(route{method: "POST", path: "/v1/test/fail", perm: wavedr.PermView, action: "test.fail",
		handle: func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("connection to 10.0.0.7 refused: secret detail")
		}})
	h.api.register(route{method: "POST", path: "/v1/test/panic", perm: wavedr.PermView, action: "test.panic",
		handle: func(w http.ResponseWriter, r *http.Request) error { panic("boom") }})

	for _, path := range []string{"/v1/test/fail", "/v1/test/panic"} {
		r := h.do(request{method: "POST", path: path, token: h.tokens["readonly"], header: map[string]string{RequestIDHeader: "req-" + path[9:]}})
		if r.status != http.StatusInternalServerError {
			t.Fatalf("%s: status %d", path, r.status)
		}
		e := r.errorBody(t)
		if e.Code != wavedr.EINTERNAL || e.Message != "internal error (request ID req-"+path[9:]+")" || strings.Contains(string(r.body), "secret") {
			t.Errorf("%s: %s", path, r.body)
		}
		if !strings.Contains(logs.String(), "requestId=req-"+path[9:]) {
			t.Errorf("%s: the log lacks the request ID: %s", path, logs.String())
		}
		page, err := h.db.ListAudit(context.Background(), wavedr.AuditFilter{Target: "", Principal: "token:readonly", Limit: 1})
		if err != nil || len(page.Items) != 1 || page.Items[0].Outcome != wavedr.AuditFailed || page.Items[0].Status != 500 ||
			page.Items[0].RequestID != "req-"+path[9:] {
			t.Errorf("%s: audit %+v %v", path, page.Items, err)
		}
	}
	if !strings.Contains(logs.String(), "secret detail") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("the internal errors are not logged: %s", logs.String())
	}
}

func TestAuditWriteFailureIsLogged(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	logs := h.captureLogs()
	h.api.register(route{method: "POST", path: "/v1/test/drop", perm: wavedr.PermView, action: "test.drop",
		handle: func(w http.ResponseWriter, r *http.Request) error {
			_, err := h.db.SQL().ExecContext(r.Context(), "DROP TABLE audit_log")
			return err
		}})
	r := h.do(request{method: "POST", path: "/v1/test/drop", token: h.tokens["readonly"], header: map[string]string{RequestIDHeader: "req-drop"}})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if out := logs.String(); !strings.Contains(out, "level=ERROR msg=audit.write_failed requestId=req-drop action=test.drop") {
		t.Errorf("the failed audit write is not logged with its request ID: %s", out)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	var events, metrics int
	ready := errors.New("database down")
	api, err := NewServer(Config{DB: h.db, Engine: h.eng, Recovery: h.api.rec, Logger: h.api.log,
		Events: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			events++
			if PrincipalFromContext(r.Context()) == nil || RequestIDFromContext(r.Context()) == "" {
				t.Errorf("the events handler does not see the principal and request ID")
			}
			w.Header().Set("Content-Type", "text/event-stream")
			if _, ok := w.(http.Flusher); !ok {
				t.Errorf("the events handler cannot flush")
			}
		}),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { metrics++ }),
		Ready:   func(ctx context.Context) error { return ready },
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return w
	}
	if w := get("/v1/events", ""); w.Code != http.StatusUnauthorized || events != 0 {
		t.Errorf("events without a token: %d", w.Code)
	}
	if w := get("/v1/events", h.tokens["readonly"]); w.Code != http.StatusOK || events != 1 {
		t.Errorf("events: %d", w.Code)
	}
	if w := get("/metrics", ""); w.Code != http.StatusOK || metrics != 1 {
		t.Errorf("metrics: %d", w.Code)
	}
	if w := get("/healthz", ""); w.Code != http.StatusOK {
		t.Errorf("healthz: %d", w.Code)
	}
	if w := get("/readyz", ""); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"code":"unavailable"`) {
		t.Errorf("readyz not ready: %d %s", w.Code, w.Body)
	}
	ready = nil
	if w := get("/readyz", ""); w.Code != http.StatusOK {
		t.Errorf("readyz: %d", w.Code)
	}
	if w := get("/", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "/v1/openapi.json") {
		t.Errorf("home: %d %s", w.Code, w.Body)
	}
	// Without an events handler, /v1/events is 404 in the error shape.
	r := h.do(request{method: "GET", path: "/v1/events", token: h.tokens["readonly"]})
	if r.status != http.StatusNotFound || r.errorBody(t).Code != wavedr.ENOTFOUND {
		t.Errorf("events not enabled: %d %s", r.status, r.body)
	}
	if r := h.do(request{method: "GET", path: "/metrics"}); r.status != http.StatusNotFound {
		t.Errorf("metrics not enabled: %d", r.status)
	}
}

func TestSourceServers(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	h.applyExample()
	ro := h.tokens["readonly"]
	var all []*sourceServerView
	next := ""
	for pages := 0; ; pages++ {
		var page sourceServerPage
		path := "/v1/source-servers?limit=5"
		if next != "" {
			path += "&cursor=" + next
		}
		h.call(request{method: "GET", path: path, token: ro}, http.StatusOK, &page)
		all = append(all, page.Items...)
		if len(page.Unreachable) > 0 {
			t.Errorf("unreachable: %+v", page.Unreachable)
		}
		if next = page.Next; next == "" || pages > 10 {
			break
		}
	}
	if len(all) != 12 {
		t.Fatalf("%d servers listed, want the simulator's 12", len(all))
	}
	tiers := map[string]string{"db": "db-tier", "app": "app-tier", "web": "web-tier"}
	for i, s := range all {
		if i > 0 && sortKey(all[i-1].Hostname, all[i-1].ID) >= sortKey(s.Hostname, s.ID) {
			t.Errorf("not sorted at %d", i)
		}
		want := tiers[s.Tags["Tier"]]
		switch {
		case want == "" && len(s.ProtectionGroups) != 0, want != "" && (len(s.ProtectionGroups) != 1 || s.ProtectionGroups[0].Name != want):
			t.Errorf("%s (Tier=%s): groups %+v", s.Hostname, s.Tags["Tier"], s.ProtectionGroups)
		}
		if s.Hostname == "" || s.ReplicationState == "" || s.Region != "us-east-1" {
			t.Errorf("server %+v", s)
		}
	}
	// The target account, once connected, is listed in its region.
	h.call(request{method: "POST", path: "/v1/accounts", token: h.tokens["admin"],
		body: `{"id":"` + sim.TargetAccountID + `","name":"dr","roleArn":"` + sim.TargetRoleARN + `","externalId":"` + sim.TargetExternalID + `","regions":["` + sim.TargetRegion + `"]}`}, http.StatusCreated, nil)
	var page sourceServerPage
	h.call(request{method: "GET", path: "/v1/source-servers?accountId=" + sim.TargetAccountID, token: ro}, http.StatusOK, &page)
	if len(page.Items) == 0 || len(page.Unreachable) != 0 {
		t.Errorf("the target account: %d servers, unreachable %+v", len(page.Items), page.Unreachable)
	}
	for _, s := range page.Items {
		if s.AccountID != sim.TargetAccountID || s.Region != sim.TargetRegion {
			t.Errorf("target server %+v", s)
		}
	}
	// An account whose role cannot be assumed is reported, and the others
	// are still listed.
	h.call(request{method: "POST", path: "/v1/accounts", token: h.tokens["admin"],
		body: `{"id":"333333333333","name":"broken","roleArn":"arn:aws:iam::333333333333:role/none","externalId":"0123456789abcdef0","regions":["eu-west-1"]}`}, http.StatusCreated, nil)
	page = sourceServerPage{}
	h.call(request{method: "GET", path: "/v1/source-servers?limit=500", token: ro}, http.StatusOK, &page)
	if len(page.Unreachable) != 1 || page.Unreachable[0].AccountID != "333333333333" || page.Unreachable[0].Code != wavedr.EUNAVAILABLE ||
		len(page.Items) <= len(all) {
		t.Errorf("with a broken account: %d servers, unreachable %+v", len(page.Items), page.Unreachable)
	}
	// A preview of a group resolves its selector now.
	var prev groupPreview
	h.call(request{method: "POST", path: "/v1/protection-groups/preview", token: ro,
		body: `{"region":"us-east-1","selector":{"tags":{"Tier":"db"}}}`}, http.StatusOK, &prev)
	if len(prev.Items) == 0 || len(prev.Missing) != 0 {
		t.Errorf("preview: %+v", prev)
	}
	h.call(request{method: "POST", path: "/v1/protection-groups/preview", token: ro,
		body: `{"region":"us-east-1","serverIds":["s-00000000000000000"]}`}, http.StatusOK, &prev)
	if len(prev.Items) != 0 || len(prev.Missing) != 1 {
		t.Errorf("preview of a missing server: %+v", prev)
	}
	var valid map[string]bool
	h.call(request{method: "POST", path: "/v1/recovery-plans/validate", token: ro,
		body: `{"name":"p","waves":[{"name":"a","groups":["db-tier"]}]}`}, http.StatusOK, &valid)
	if !valid["valid"] {
		t.Errorf("validate: %v", valid)
	}
}
