package http

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/manifest"
	"wavedr/store/storetest"
)

func TestBadInput(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			testBadInput(t, d)
		})
	}
}

// applyExample stores the example plan through the API.
func (h *harness) applyExample() {
	h.t.Helper()
	yaml, err := os.ReadFile("../examples/three-tier.yaml")
	if err != nil {
		h.t.Fatal(err)
	}
	h.call(request{method: "POST", path: "/v1/apply", token: h.tokens["admin"], body: string(yaml),
		header: map[string]string{"Content-Type": "application/yaml"}}, http.StatusOK, nil)
}

// testBadInput sends malformed requests and checks each gets the right
// 4xx in the error shape, naming the problem.
func testBadInput(t *testing.T, d storetest.Dialect) {
	h := newHarness(t, d, harnessOptions{})
	h.applyExample()
	admin := h.tokens["admin"]
	var group wavedr.ProtectionGroup
	h.call(request{method: "GET", path: "/v1/protection-groups/db-tier", token: admin}, http.StatusOK, &group)
	planID := wavedr.NewID(wavedr.PrefixRecoveryPlan, time.Now())
	validGroup := `{"name":"extra","region":"us-east-1","selector":{"tags":{"Tier":"legacy"}}}`
	huge := `{"name":"x","description":"` + strings.Repeat("a", MaxJSONBody) + `"}`

	cases := []struct {
		name   string
		rq     request
		status int
		field  string // a detail's field, or "" to skip
		text   string // in the message or a detail's rule
	}{
		// Malformed IDs.
		{"execution ID", request{method: "GET", path: "/v1/executions/xyz"}, 400, "id", "execution ID (ex-...)"},
		{"a plan's ID for a group", request{method: "GET", path: "/v1/protection-groups/" + planID}, 400, "id", "the ID of a recovery plan, not of a protection group"},
		{"account ID", request{method: "GET", path: "/v1/accounts/12345"}, 400, "id", "12-digit"},
		{"token ID", request{method: "DELETE", path: "/v1/tokens/tok-1"}, 400, "id", "API token ID"},
		{"name not a name", request{method: "GET", path: "/v1/recovery-plans/a%20b"}, 400, "id", "or name"},
		{"no such execution", request{method: "GET", path: "/v1/executions/" + wavedr.NewID(wavedr.PrefixExecution, time.Now())}, 404, "", "not found"},
		// Wrong types.
		{"name a number", request{method: "POST", path: "/v1/protection-groups", body: `{"name":5,"region":"us-east-1"}`}, 400, "name", "must be a string"},
		{"deadline a number", request{method: "POST", path: "/v1/recovery-plans", body: `{"name":"p","waves":[{"name":"a","groups":["db-tier"]},{"name":"b","groups":["x"],"deadline":5}]}`}, 400, "waves[1].deadline", "duration"},
		{"tag value a number", request{method: "POST", path: "/v1/protection-groups", body: `{"name":"g","region":"us-east-1","selector":{"tags":{"Tier":1}}}`}, 400, "selector.tags.Tier", "must be a string"},
		{"expiresAt not a time", request{method: "POST", path: "/v1/tokens", body: `{"name":"ci","role":"Operator","expiresAt":"tomorrow"}`}, 400, "expiresAt", "RFC 3339"},
		{"version a string", request{method: "PUT", path: "/v1/protection-groups/db-tier", body: `{"name":"db-tier","region":"us-east-1","selector":{"tags":{"Tier":"db"}},"version":"1"}`}, 400, "version", "integer"},
		{"body a list", request{method: "POST", path: "/v1/accounts", body: `[]`}, 400, "", "JSON object"},
		{"body null", request{method: "POST", path: "/v1/accounts", body: `null`}, 400, "", "JSON object"},
		// Missing fields.
		{"empty body", request{method: "POST", path: "/v1/protection-groups"}, 400, "", "JSON object is required"},
		{"start without mode", request{method: "POST", path: "/v1/executions", body: `{"plan":"three-tier"}`}, 400, "mode", "is required"},
		{"start with a mode in lower case", request{method: "POST", path: "/v1/executions", body: `{"plan":"three-tier","mode":"drill"}`}, 400, "mode", "DRILL or RECOVERY"},
		{"token without role", request{method: "POST", path: "/v1/tokens", body: `{"name":"ci","expiresAt":"` + time.Now().Add(time.Hour).Format(time.RFC3339) + `"}`}, 400, "role", "must be one of"},
		{"group without region", request{method: "POST", path: "/v1/protection-groups", body: `{"name":"g","selector":{"tags":{"a":"b"}}}`}, 400, "region", "region"},
		{"update without version", request{method: "PUT", path: "/v1/protection-groups/db-tier", body: `{"name":"db-tier","region":"us-east-1","selector":{"tags":{"Tier":"db"}}}`}, 400, "version", "is required"},
		{"delete without version", request{method: "DELETE", path: "/v1/protection-groups/db-tier"}, 400, "version", "is required"},
		// Unknown fields, and fields the server sets.
		{"unknown field", request{method: "POST", path: "/v1/protection-groups", body: `{"name":"g","region":"us-east-1","colour":"red"}`}, 400, "colour", "is not a known field"},
		{"nested unknown field", request{method: "POST", path: "/v1/recovery-plans", body: `{"name":"p","waves":[{"name":"a","groups":["db-tier"],"pause":true}]}`}, 400, "waves[0].pause", "is not a known field"},
		{"field in the wrong case", request{method: "POST", path: "/v1/protection-groups", body: `{"Name":"g","region":"us-east-1"}`}, 400, "Name", "is not a known field"},
		{"initiatedBy from the client", request{method: "POST", path: "/v1/executions", body: `{"plan":"three-tier","mode":"DRILL","initiatedBy":"mallory"}`}, 400, "initiatedBy", "is not a known field"},
		{"ID on create", request{method: "POST", path: "/v1/protection-groups", body: `{"id":"` + group.ID + `","name":"g","region":"us-east-1"}`}, 400, "id", "set by the server"},
		{"other ID on update", request{method: "PUT", path: "/v1/protection-groups/db-tier", body: `{"id":"pg-00000000000000000000000000","name":"db-tier","region":"us-east-1","selector":{"tags":{"Tier":"db"}},"version":1}`}, 400, "id", "the ID in the path"},
		{"field twice", request{method: "POST", path: "/v1/protection-groups", body: `{"name":"g","name":"h","region":"us-east-1"}`}, 400, "name", "twice"},
		{"NUL in a string", request{method: "POST", path: "/v1/protection-groups", body: `{"name":"g","description":"a\u0000b","region":"us-east-1","selector":{"tags":{"a":"b"}}}`}, 400, "description", "NUL"},
		// Syntax.
		{"trailing data", request{method: "POST", path: "/v1/protection-groups", body: validGroup + ` {}`}, 400, "", "more data follows"},
		{"truncated", request{method: "POST", path: "/v1/protection-groups", body: `{"name":"g"`}, 400, "", "not valid JSON"},
		{"syntax error", request{method: "POST", path: "/v1/protection-groups", body: `{"name":'g'}`}, 400, "", "not valid JSON at byte"},
		{"body on a verb", request{method: "POST", path: "/v1/executions/" + wavedr.NewID(wavedr.PrefixExecution, time.Now()) + "/pause", body: `{"by":"mallory"}`}, 400, "by", "is not a known field"},
		// Media types and sizes.
		{"form body", request{method: "POST", path: "/v1/protection-groups", body: validGroup, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, "Content-Type", "application/json"},
		{"JSON to apply", request{method: "POST", path: "/v1/apply", body: `{}`, header: map[string]string{"Content-Type": "application/json"}}, 415, "Content-Type", "application/yaml"},
		{"huge JSON body", request{method: "POST", path: "/v1/protection-groups", body: huge}, 413, "", fmt.Sprintf("at most %d bytes", MaxJSONBody)},
		{"huge YAML body", request{method: "POST", path: "/v1/apply", body: strings.Repeat("# padding\n", manifest.MaxSize/10+1), header: map[string]string{"Content-Type": "application/yaml"}}, 413, "", fmt.Sprintf("at most %d bytes", manifest.MaxSize)},
		{"invalid manifest", request{method: "POST", path: "/v1/apply", body: "kind: RecoveryPlan\nname: p\nwaves:\n  - name: a\n    groups: [nope]\n", header: map[string]string{"Content-Type": "text/yaml"}}, 400, "request#1 (RecoveryPlan p) line 5: waves[0].groups[0]", "no protection group"},
		// Query parameters.
		{"limit zero", request{method: "GET", path: "/v1/protection-groups?limit=0"}, 400, "limit", "from 1 to 500"},
		{"unknown parameter", request{method: "GET", path: "/v1/executions?planId=x"}, 400, "planId", "not a known query parameter"},
		{"bad cursor", request{method: "GET", path: "/v1/accounts?cursor=abc"}, 400, "cursor", "not a cursor"},
		{"store cursor damaged", request{method: "GET", path: "/v1/audit?cursor=eyJsIjoiYXVkaXQiLCJpIjoieCJ9AAAA"}, 400, "cursor", ""},
		{"since not a time", request{method: "GET", path: "/v1/audit?since=yesterday"}, 400, "since", "RFC 3339"},
		{"until before since", request{method: "GET", path: "/v1/executions?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z"}, 400, "until", "after since"},
		{"unknown status", request{method: "GET", path: "/v1/executions?status=DONE"}, 400, "status[0]", "not an execution status"},
		{"dryRun not a bool", request{method: "POST", path: "/v1/apply?dryRun=maybe", body: "kind: x\n", header: map[string]string{"Content-Type": "text/yaml"}}, 400, "dryRun", "true or false"},
		{"region not a region", request{method: "GET", path: "/v1/source-servers?region=mars"}, 400, "region", "region"},
		{"account not connected", request{method: "GET", path: "/v1/source-servers?accountId=123456789012"}, 404, "", "not connected"},
		// Routing.
		{"unknown route", request{method: "GET", path: "/v1/nothing"}, 404, "", "no API route"},
		{"wrong method", request{method: "PATCH", path: "/v1/protection-groups/db-tier"}, 405, "", "PATCH is not allowed"},
		// Substance.
		{"plan naming no group", request{method: "POST", path: "/v1/recovery-plans/validate", body: `{"name":"p","waves":[{"name":"a","groups":["nope"]}]}`}, 400, "waves[0].groups[0]", `no protection group is named "nope"`},
		{"a wave that does not exist", request{method: "GET", path: "/v1/executions/" + wavedr.NewID(wavedr.PrefixExecution, time.Now()) + "/waves/nope/job-log"}, 404, "", "not found"},
		{"credentials before the body", request{method: "POST", path: "/v1/protection-groups", body: `{"colour":1`}, 401, "", "authentication required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rq := c.rq
			if rq.token == "" && c.status != 401 {
				rq.token = admin
			}
			r := h.do(rq)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			e := r.errorBody(t)
			found := c.field == ""
			text := e.Message
			for _, d := range e.Details {
				text += "\n" + d.Rule
				if d.Field == c.field {
					found = true
				}
			}
			if !found {
				t.Errorf("no detail names %q: %s", c.field, r.body)
			}
			if !strings.Contains(text, c.text) {
				t.Errorf("%q is not said: %s", c.text, r.body)
			}
			if c.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
		})
	}

	t.Run("stale version", func(t *testing.T) {
		var g wavedr.ProtectionGroup
		h.call(request{method: "POST", path: "/v1/protection-groups", token: admin, body: validGroup}, http.StatusCreated, &g)
		body := func(v int64) string {
			return fmt.Sprintf(`{"name":"extra","description":"v%d","region":"us-east-1","selector":{"tags":{"Tier":"legacy"}},"version":%d}`, v, v)
		}
		h.call(request{method: "PUT", path: "/v1/protection-groups/" + g.ID, token: admin, body: body(1)}, http.StatusOK, &g)
		if g.Version != 2 {
			t.Fatalf("version %d after an update", g.Version)
		}
		r := h.call(request{method: "PUT", path: "/v1/protection-groups/" + g.ID, token: admin, body: body(1)}, http.StatusConflict, nil)
		if e := r.errorBody(t); len(e.Details) != 1 || e.Details[0].Field != "version" || !strings.Contains(e.Details[0].Rule, "current version is 2") {
			t.Errorf("stale update: %s", r.body)
		}
		r = h.call(request{method: "DELETE", path: "/v1/protection-groups/extra?version=1", token: admin}, http.StatusConflict, nil)
		if e := r.errorBody(t); e.Details[0].Field != "version" {
			t.Errorf("stale delete: %s", r.body)
		}
		h.call(request{method: "DELETE", path: "/v1/protection-groups/extra?version=2", token: admin}, http.StatusNoContent, nil)
	})

	t.Run("request ID", func(t *testing.T) {
		r := h.do(request{method: "GET", path: "/v1/me", header: map[string]string{RequestIDHeader: "client-42"}})
		if got := r.header.Get(RequestIDHeader); got != "client-42" {
			t.Errorf("echoed request ID %q", got)
		}
		r = h.do(request{method: "GET", path: "/v1/me", header: map[string]string{RequestIDHeader: "bad id with spaces"}})
		if got := r.header.Get(RequestIDHeader); got == "" || strings.Contains(got, " ") {
			t.Errorf("generated request ID %q", got)
		}
	})
}
