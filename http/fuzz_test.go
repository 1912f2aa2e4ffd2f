package http

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/engine"
	"wavedr/store/storetest"
)

// FuzzAPI sends fuzzed bodies to every JSON route that takes a body (POST
// and PUT, the YAML apply aside) as an Admin, on objects that exist, and
// fails on any 5xx or panic. Run it with
//
//	go test -run '^$' -fuzz FuzzAPI -fuzztime 20s ./http/
func FuzzAPI(f *testing.F) {
	h := newHarness(f, storetest.SQLite, harnessOptions{})
	h.applyExample()
	admin := h.tokens["admin"]
	ctx := context.Background()
	h.call(request{method: "POST", path: "/v1/accounts", token: admin,
		body: `{"id":"123456789012","name":"fuzz","regions":["us-east-1"]}`}, http.StatusCreated, nil)
	group, err := h.db.FindProtectionGroup(ctx, "db-tier")
	if err != nil {
		f.Fatal(err)
	}
	plan, err := h.db.FindRecoveryPlan(ctx, "three-tier")
	if err != nil {
		f.Fatal(err)
	}
	ex, err := h.eng.Start(ctx, engine.StartInput{Plan: "three-tier", Mode: wavedr.ModeDrill, InitiatedBy: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	ids := strings.NewReplacer(
		"/v1/accounts/{id}", "/v1/accounts/123456789012",
		"/v1/protection-groups/{id}", "/v1/protection-groups/"+group.ID,
		"/v1/recovery-plans/{id}", "/v1/recovery-plans/"+plan.ID,
		"/v1/executions/{id}", "/v1/executions/"+ex.ID,
	)
	var paths []string
	for _, rt := range h.api.table {
		if (rt.method == http.MethodPost || rt.method == http.MethodPut) && rt.path != "/v1/apply" {
			paths = append(paths, rt.method+" "+ids.Replace(rt.path))
		}
	}
	exp := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	seeds := []string{
		`{}`, ``, `null`, `[]`, `{"a":1}`, `{"name":"x"}`,
		`{"id":"210987654321","name":"b","regions":["us-east-1","eu-west-1"]}`,
		`{"name":"g2","region":"us-east-1","selector":{"tags":{"Tier":"web"}},"launchSettings":{"copyTags":true,"launchDisposition":"STOPPED"}}`,
		`{"name":"g3","region":"us-east-1","serverIds":["s-0123456789abcdef0"],"version":1}`,
		`{"name":"p2","waves":[{"name":"a","groups":["db-tier"],"deadline":"30m","dependsOn":[]},{"name":"b","groups":["web-tier"],"pauseBefore":true,"onFailure":"CONTINUE"}],"version":1}`,
		`{"plan":"three-tier","mode":"DRILL"}`,
		`{"name":"t","role":"ReadOnly","expiresAt":"` + exp + `"}`,
		`{"name":"db-tier","region":"us-east-1","selector":{"tags":{"Tier":"db"}},"version":1,"createdAt":"2026-01-01T00:00:00Z"}`,
	}
	for i := range paths {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		method, path, _ := strings.Cut(paths[int(route)%len(paths)], " ")
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.api.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 && !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"error":{"code":"`)) {
			t.Fatalf("%s %s %q: status %d not in the error shape: %s", method, path, body, w.Code, w.Body)
		}
	})
}
